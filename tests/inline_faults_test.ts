/**
 * Faults inline (`new Relay({ inline: true })`): a failure in each phase
 * gives the same `RelayError` (actor, class, group, phase, message, cause)
 * inline as in workers. What only one thread has: an error nobody caught
 * cannot be told apart by actor, and says so.
 *
 * @module
 */

import assert from "node:assert/strict";
import { type Actor, Relay, RelayError } from "../mod.ts";
import { Counter, Faulty, Sink } from "./fixtures/faults.ts";
import { leakChecked, MODES } from "./_harness.ts";
import { make, rejectionOf, watchLogs } from "./_faults.ts";

type AnyActor = Actor<unknown, unknown>;

/** A pipeline that fails, and the actor that should be named. */
interface Case {
  readonly name: string;
  readonly maxsize?: number;
  build(): { groups: AnyActor[][]; culprits: AnyActor[] };
}

const CASES: readonly Case[] = [
  {
    name: "a receiver throws in startup()",
    build() {
      const faulty = make(Faulty, { phase: "startup", kind: "throw" });
      const groups = [[make(Counter, { count: 100 })], [
        new Sink(),
        faulty,
        new Sink(),
      ]];
      return { groups, culprits: [faulty] };
    },
  },
  {
    name: "a source throws in loop()",
    build() {
      const faulty = make(Faulty, {
        phase: "loop",
        kind: "throw",
        count: 50,
        at: 51,
      });
      return { groups: [[faulty], [new Sink()]], culprits: [faulty] };
    },
  },
  {
    name: "a proxy throws in recv() on message 517 of 1000",
    maxsize: 16,
    build() {
      const proxies = Array.from(
        { length: 3 },
        () =>
          make(Faulty, {
            forward: true,
            phase: "recv",
            kind: "throw",
            seq: 516,
          }),
      );
      const groups = [[make(Counter, { count: 1000 })], proxies, [new Sink()]];
      return { groups, culprits: proxies };
    },
  },
  {
    name: "recv() returns a rejected promise",
    maxsize: 4,
    build() {
      const faulty = make(Faulty, { kind: "reject", at: 10 });
      return {
        groups: [[make(Counter, { count: 100 })], [faulty]],
        culprits: [faulty],
      };
    },
  },
  {
    name: "shutdown() throws after all data arrived",
    build() {
      const faulty = make(Faulty, { phase: "shutdown", kind: "throw" });
      return {
        groups: [[make(Counter, { count: 50 })], [faulty]],
        culprits: [faulty],
      };
    },
  },
  {
    name: "a message that does not clone fails send()",
    maxsize: 4,
    build() {
      const faulty = make(Faulty, {
        kind: "uncloneable-function",
        at: 3,
        forward: true,
      });
      const groups = [[make(Counter, { count: 100 })], [faulty], [new Sink()]];
      return { groups, culprits: [faulty] };
    },
  },
];

/** The parts of a RelayError that must not depend on the mode. */
function shape(error: RelayError, culprits: readonly AnyActor[]) {
  const anonymous = (text: string | undefined) =>
    text?.replace(/\b([A-Z]\w*)-\d+\b/g, "$1-#");
  const cause = error.cause as Error;
  return {
    culprit: culprits.some((a) => a.name === error.actor),
    actorClass: error.actorClass,
    group: error.group,
    phase: error.phase,
    message: anonymous(error.message),
    summary: anonymous(error.summary),
    path: error.path,
    cause: [cause.name, cause.message],
    fromFixture: /fixtures\/faults\.ts/.test(cause.stack ?? ""),
    errors: error.errors.length,
  };
}

async function failure(c: Case, inline: boolean) {
  await using _logs = await watchLogs();
  const { groups, culprits } = c.build();
  const relay = new Relay({ logger: "test", maxsize: c.maxsize, inline });
  (relay as unknown as { connect(...g: unknown[]): Relay }).connect(...groups);
  const { error } = await rejectionOf(relay);
  assert.ok(error instanceof RelayError, String(error));
  return shape(error, culprits);
}

Deno.test("A failure in each phase gives the same RelayError inline as in workers", async (t) => {
  for (const c of CASES) {
    await t.step(c.name, () =>
      leakChecked(async () => {
        const [workers, inline] = [
          await failure(c, MODES[0][1]),
          await failure(c, MODES[1][1]),
        ];
        assert.ok(
          workers.culprit,
          `workers named the culprit: ${workers.message}`,
        );
        assert.deepEqual(inline, workers);
      }));
  }
});

Deno.test("An error nobody caught fails an inline run, saying the actor cannot be told apart", async (t) => {
  for (const kind of ["unhandled", "timer"] as const) {
    await t.step(kind, async () => {
      await using _logs = await watchLogs();
      const faulty = make(Faulty, { kind, at: 10 });
      // Enough messages that the run is still going when a 0 ms timer fires
      // (Deno runs it about 2 ms late).
      const source = make(Counter, { count: 20_000 });
      const relay = new Relay({ logger: "test", maxsize: 4, inline: true });
      relay.connect(source, faulty);
      const { error } = await rejectionOf(relay);
      assert.ok(error instanceof RelayError, String(error));
      assert.ok([source.name, faulty.name].includes(error.actor));
      assert.match(
        error.message,
        new RegExp(
          `failed in (loop|recv)\\(\\): Error: an error nobody caught reached the calling thread \\(FaultError: ${kind} in recv at seq 9\\); in inline mode every actor runs in that thread, so the actor that raised it cannot be told apart`,
        ),
      );
      const cause = (error.cause as Error).cause as Error;
      assert.equal(cause.name, "FaultError", "the original error is kept");
      assert.match(cause.stack!, /fixtures\/faults\.ts/);
      // Once the run settled, the calling thread's errors are its own again.
      const seen = Promise.withResolvers<boolean>();
      const listener = (event: PromiseRejectionEvent) => {
        seen.resolve(event.defaultPrevented);
        event.preventDefault();
      };
      globalThis.addEventListener("unhandledrejection", listener);
      try {
        Promise.reject(new Error("after the run"));
        assert.equal(await seen.promise, false, "no listener of the relay's");
      } finally {
        globalThis.removeEventListener("unhandledrejection", listener);
      }
    });
  }
});
