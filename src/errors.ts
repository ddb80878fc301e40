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
  phase: Phase | "exit" | "abort";
  /** A short rendering of the message in hand (recv). */
  summary?: string;
  /** The key path of the value that could not be cloned (send). */
  path?: string;
  /** The original error. */
  cause?: unknown;
}

/**
 * A failure of an actor while a relay runs. `Relay.start()` rejects with one
 * of these; when several actors failed, the first is thrown and
 * {@linkcode RelayError.errors} holds all of them.
 *
 * @example Telling which actor failed
 * ```ts ignore
 * try {
 *   await relay.start();
 * } catch (err) {
 *   if (err instanceof RelayError) console.error(err.actor, err.phase, err.cause);
 * }
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
  readonly phase: Phase | "exit" | "abort";
  /** A short rendering of the message in hand, if any. */
  readonly summary?: string;
  /** The key path of the value that could not be cloned, for `send`. */
  readonly path?: string;
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
 * ```ts ignore
 * try {
 *   await relay.start({ signal: AbortSignal.timeout(10_000) });
 * } catch (err) {
 *   if (err instanceof RelayAbortError) console.error("stopped:", err.terminated);
 * }
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
