/**
 * The errors a relay raises at run time: {@linkcode RelayError} for an
 * actor's failure, {@linkcode RelayAbortError} for a run that was stopped.
 *
 * @module
 */

import type { Phase } from "./common/protocol.ts";
import { render } from "./common/values.ts";

/** Where a {@linkcode RelayError} happened. */
export interface RelayErrorOptions {
  /** The actor's name, for example `"Producer-1"`. */
  actor: string;
  /** The actor's class name. */
  actorClass: string;
  /** The actor's group, for example `"group-0"`. */
  group: string;
  /** The phase the actor was in. */
  phase: Phase | "exit";
  /** A short rendering of the message in hand (recv). */
  summary?: string;
  /** The key path of the value that could not be cloned (send). */
  path?: string;
  /** How many times `recv()` was called with the message in hand. */
  attempts?: number;
  /** The original error. */
  cause?: unknown;
}

/**
 * A failure of an actor while a relay runs. `Relay.start()` rejects with one
 * of these; when several actors failed, the first is thrown and
 * {@linkcode RelayError.errors} holds all of them.
 *
 * @example Telling which actor failed
 * ```ts
 * import { Actor, input, Relay, RelayError } from "@baton/relay";
 * import assert from "node:assert/strict";
 *
 * class Picky extends Actor<number> {
 *   override recv(x: number): void {
 *     if (x === 2) throw new RangeError("no twos");
 *   }
 * }
 *
 * // Inline: all in this thread; without it, in workers (classes exported).
 * const relay = new Relay({ inline: true });
 * relay.connect(input<number>(), new Picky());
 * await assert.rejects(relay.start({ input: [1, 2, 3] }), (err) => {
 *   assert.ok(err instanceof RelayError);
 *   assert.equal(err.actor, "Picky-1");
 *   assert.equal(err.actorClass, "Picky");
 *   assert.equal(err.group, "group-0");
 *   assert.equal(err.phase, "recv");
 *   assert.equal(err.summary, "2"); // the message in hand
 *   assert.ok(err.cause instanceof RangeError);
 *   return true;
 * });
 * ```
 */
export class RelayError extends Error {
  /** The actor's name, for example `"Producer-1"`. */
  readonly actor: string;
  /** The actor's class name. */
  readonly actorClass: string;
  /** The actor's group. */
  readonly group: string;
  /** The phase the actor was in when it failed. */
  readonly phase: Phase | "exit";
  /** A short rendering of the message in hand, if any. */
  readonly summary?: string;
  /** The key path of the value that could not be cloned, for `send`. */
  readonly path?: string;
  /**
   * For `recv`: how many times it was called with the message in hand (1,
   * or more with the group's `retries`).
   */
  readonly attempts?: number;
  /** Every failure of the run, this one first. */
  errors: RelayError[];

  /** Creates an error for an actor's failure in a phase. */
  constructor(message: string, options: RelayErrorOptions) {
    super(message, { cause: options.cause });
    this.name = "RelayError";
    this.actor = options.actor;
    this.actorClass = options.actorClass;
    this.group = options.group;
    this.phase = options.phase;
    if (options.summary !== undefined) this.summary = options.summary;
    if (options.path !== undefined) this.path = options.path;
    if (options.attempts !== undefined) this.attempts = options.attempts;
    this.errors = [this];
  }
}

/**
 * The rejection of a relay that was aborted (by its signal or by
 * `Relay.close()`). Its `name` is `"AbortError"`, its `cause` the abort
 * reason; `terminated` names the actors that had not finished within the
 * shutdown timeout and were terminated.
 *
 * @example Telling an abort from a failure
 * ```ts
 * import { Actor, Relay, RelayAbortError } from "@baton/relay";
 * import assert from "node:assert/strict";
 *
 * class Ticks extends Actor<never, number> {
 *   override async loop(): Promise<void> {
 *     for (let i = 0;; i++) await this.send(i); // endless
 *   }
 * }
 * class Slow extends Actor<number> {
 *   override async recv(): Promise<void> {
 *     await new Promise((resolve) => setTimeout(resolve, 1));
 *   }
 * }
 *
 * // Inline: all in this thread; without it, in workers (classes exported).
 * const relay = new Relay({ inline: true });
 * relay.connect(new Ticks(), new Slow());
 * const signal = AbortSignal.timeout(50);
 * await assert.rejects(relay.start({ signal }), (err) => {
 *   assert.ok(err instanceof RelayAbortError);
 *   assert.equal(err.name, "AbortError");
 *   assert.equal(err.cause, signal.reason); // a TimeoutError
 *   // An aborted signal cancels: whatever still ran was stopped at once.
 *   assert.deepEqual(err.terminated, ["Ticks-1", "Slow-2"]);
 *   return true;
 * });
 * ```
 */
export class RelayAbortError extends Error {
  /** The actors terminated because they did not finish in time. */
  readonly terminated: readonly string[];
  /** Failures that happened while the relay drained, if any. */
  readonly errors: readonly RelayError[];

  /** Creates the error for an aborted run. */
  constructor(
    reason: unknown,
    terminated: readonly string[],
    errors: readonly RelayError[] = [],
  ) {
    const why = typeof reason === "string"
      ? reason
      : reason === undefined
      ? "aborted"
      : messageOf(reason);
    const names = terminated.length === 0
      ? "no actor had to be terminated"
      : `terminated ${
        terminated.join(", ")
      }, which had not finished within the shutdown timeout`;
    const failures = errors.length === 0
      ? ""
      : `; ${errors.length} actor${
        errors.length === 1 ? "" : "s"
      } failed while it drained: ${errors.map((e) => e.actor).join(", ")}`;
    super(`Relay aborted (${why}): ${names}${failures}`, { cause: reason });
    this.name = "AbortError";
    this.terminated = terminated;
    this.errors = errors;
  }
}

/** An Error's message, or any other value rendered; never throws. */
function messageOf(reason: unknown): string {
  try {
    if (reason instanceof Error) return String(reason.message).slice(0, 2000);
  } catch {
    // A Proxy whose traps throw: render it as it is.
  }
  return render(reason);
}
