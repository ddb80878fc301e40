/**
 * Testing one actor alone: {@linkcode testActor} runs its hooks in the
 * calling thread (inline mode), feeds it the messages given, and returns
 * what it sent, reported and logged. No worker starts, so a test can step
 * through the actor with a debugger.
 *
 * @module
 */

import { type Actor, hasLoop, hasRecv, metaOf } from "./actor.ts";
import type { LogMessage } from "./host/run.ts";
import { InlineHost } from "./host/inline_member.ts";
import { Run } from "./host/run.ts";
import { groupOptions, policyOf } from "./host/options.ts";
import { policyProblem } from "./host/plan.ts";
import type { DeadLetter } from "./host/dead_letters.ts";
import type { GroupOptions } from "./topology.ts";
import { render } from "./common/values.ts";

// What this entry's API names; mod.ts exports them too.
export type { Actor, DeadLetter, GroupOptions };
export type { Cloneable, Kept, SendOptions } from "./actor.ts";
export type * from "./log.ts";

/** Options of {@linkcode testActor}. */
export interface TestActorOptions<In> {
  /**
   * The messages `recv()` gets, in order, for an actor that receives; a
   * source (an actor with `loop()`) takes none.
   */
  input?: Iterable<In> | AsyncIterable<In>;
  /** Most messages in flight into and out of the actor. Default 1024. */
  maxsize?: number;
  /**
   * The failure policy of the actor's group, as `group()` takes it:
   * `retries`, `backoffMs`, `onError`, `recvTimeoutMs`, `concurrency`.
   * Default: none (the first error fails the test).
   */
  policy?: Omit<GroupOptions, "name" | "maxsize" | "permissions">;
}

/** A log record's level. */
export type Level = "trace" | "debug" | "info" | "warning" | "error" | "fatal";

/** One record the actor logged, its message rendered. */
export interface LoggedRecord {
  /** The record's level. */
  readonly level: Level;
  /** The message with its values filled in: `got 3`. */
  readonly message: string;
  /** The record's properties, the actor's `group` and `actor` among them. */
  readonly properties: Readonly<Record<string, unknown>>;
}

/** What an actor did in {@linkcode testActor}. */
export interface ActorTrace<Out> {
  /** What it passed to `send()`, in order. */
  readonly sent: Out[];
  /** What it passed to `report()`, in order. */
  readonly reports: unknown[];
  /** What it logged with `this.log`, lifecycle lines included. */
  readonly logs: LoggedRecord[];
  /** The messages it skipped (`policy: { onError: "skip" }`), in order. */
  readonly deadLetters: DeadLetter<unknown>[];
}

/**
 * Runs one actor's hooks, `startup()`, `loop()` or `recv()` for each of
 * `input`, then `shutdown()`, in the calling thread, and resolves with what
 * it sent, reported and logged. Its fields are copied first, as for a
 * worker, so the instance passed in is not changed. Rejects with the
 * `RelayError` of the phase that failed.
 *
 * @example A stage that squares
 * ```ts
 * import { Actor } from "@baton/relay";
 * import { testActor } from "@baton/relay/testing";
 * import assert from "node:assert/strict";
 *
 * class Square extends Actor<number, number> {
 *   override async recv(x: number): Promise<void> {
 *     this.log.info("squaring {x}", { x });
 *     await this.send(x * x);
 *   }
 * }
 *
 * const trace = await testActor(new Square(), { input: [1, 2, 3] });
 * assert.deepEqual(trace.sent, [1, 4, 9]);
 * assert.ok(trace.logs.some((r) => r.message === "squaring 2"));
 * ```
 */
export async function testActor<In, Out>(
  actor: Actor<In, Out>,
  options: TestActorOptions<In> = {},
): Promise<ActorTrace<Out>> {
  const any = actor as Actor<unknown, unknown>;
  const meta = metaOf(any);
  if (meta === undefined) {
    throw new TypeError(
      `Cannot test actor: ${
        render(actor)
      } is not an Actor; pass an instance of a class that extends Actor`,
    );
  }
  const trace: ActorTrace<Out> = {
    sent: [],
    reports: [],
    logs: [],
    deadLetters: [],
  };
  const source = hasLoop(any);
  const policy = groupOptions(options.policy ?? {});
  const problem = policyProblem(policy, source);
  if (problem !== undefined) {
    throw new TypeError(
      `Cannot test actor: ${actor.name} ${
        problem.text.replace(
          /^is a group of sources, which (run loop\(\) and )?receive /,
          (_, loop) =>
            `is a source, which ${loop ? "runs loop() and " : ""}receives `,
        )
      }; ${problem.fix}`,
    );
  }
  if (source && options.input !== undefined) {
    throw new TypeError(
      `Cannot test actor: ${actor.name} is a source (it has loop()), which takes no input; leave input out`,
    );
  }
  if (!source && !hasRecv(any)) {
    throw new TypeError(
      `Cannot test actor: ${actor.name} has neither loop() nor recv(); override one of them`,
    );
  }
  if (meta.owner !== undefined) {
    throw new TypeError(
      `Cannot test actor: ${actor.name} already belongs to a relay or a test; test a new instance`,
    );
  }
  meta.owner = trace;
  const run = new Run({
    groups: [{
      name: "group-0",
      actors: [any],
      maxsize: options.maxsize,
      permissions: undefined,
      policy: policyOf(policy),
    }],
    maxsize: options.maxsize ?? 1024,
    category: ["baton"],
    host: new InlineHost(),
    input: !source,
    results: true,
    onReport: (report) => trace.reports.push(report.value),
    onDeadLetter: (letter, ack) => {
      trace.deadLetters.push(letter);
      ack();
      return false;
    },
    onLog: (message) => trace.logs.push(logged(message)),
  });
  try {
    await run.start(source ? undefined : options.input ?? []);
  } catch (error) {
    run.destroy(error);
  }
  const reading = (async () => {
    for await (const value of run.results!) trace.sent.push(value as Out);
  })();
  await Promise.all([run.settled, reading]);
  return trace;
}

/** A forwarded log call or record as a line of text and its properties. */
function logged(message: LogMessage): LoggedRecord {
  if (message.kind === "log") {
    const { level, message: parts, properties } = message.record;
    return { level, message: parts.map(String).join(""), properties };
  }
  const { level, args, template, properties } = message.call;
  if (template) {
    const strings = args[0] as string[];
    let text = strings[0];
    for (let i = 1; i < strings.length; i++) {
      text += String(args[i]) + strings[i];
    }
    return { level, message: text, properties };
  }
  const values = { ...properties, ...(args[1] as Record<string, unknown>) };
  const text = String(args[0]).replace(
    /\{([^{}]+)\}/g,
    (match, key: string) => key in values ? String(values[key]) : match,
  );
  return { level, message: text, properties: values };
}
