/**
 * The errors a relay raises at run time, and the conversion of errors to and
 * from plain data for the trip from a worker to the main thread.
 *
 * @module
 */

import type { ErrorData, Phase } from "./protocol.ts";

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
 * `Relay.close()`). `cause` is the abort reason; `terminated` names the actors
 * that had not finished within the shutdown timeout and were terminated.
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
    const names = terminated.length === 0
      ? "every actor finished in time"
      : `terminated ${terminated.join(", ")}`;
    super(`Relay aborted: ${names}`, { cause: reason });
    this.name = "AbortError";
    this.terminated = terminated;
    this.errors = errors;
  }
}

/** Turns any thrown value into plain data that keeps name, stack and cause. */
export function toErrorData(value: unknown, depth = 0): ErrorData {
  if (value instanceof Error) {
    const data: ErrorData = {
      name: value.name,
      message: value.message,
      stack: value.stack,
    };
    if (value.cause !== undefined && depth < 4) {
      return { ...data, cause: causeData(value.cause, depth + 1) };
    }
    return data;
  }
  return { name: "Error", message: render(value), stack: undefined };
}

function causeData(
  cause: unknown,
  depth: number,
): ErrorData | { readonly value: unknown } {
  if (cause instanceof Error) return toErrorData(cause, depth);
  try {
    return { value: structuredClone(cause) };
  } catch {
    return { value: render(cause) };
  }
}

/** Rebuilds an Error from data, with its original name, message and stack. */
export function fromErrorData(data: ErrorData): Error {
  let cause: unknown = undefined;
  if (data.cause !== undefined) {
    cause = "value" in data.cause
      ? data.cause.value
      : fromErrorData(data.cause as ErrorData);
  }
  const error = cause === undefined
    ? new Error(data.message)
    : new Error(data.message, { cause });
  error.name = data.name;
  if (data.stack !== undefined) error.stack = data.stack;
  return error;
}

/** A short, single-line rendering of any value, for error messages. */
export function render(value: unknown, max = 80): string {
  let text: string;
  try {
    text = typeof value === "string" ? JSON.stringify(value) : Deno.inspect(
      value,
      { depth: 2, colors: false, compact: true, breakLength: Infinity },
    );
  } catch {
    text = String(value);
  }
  text = text.replace(/\s+/g, " ");
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/**
 * The key path of the first value inside `value` that structured clone
 * refuses (`message.items[2].fn`), or `undefined` if it clones. Only called
 * after a clone failed: never on the hot path.
 */
export function uncloneablePath(
  value: unknown,
  path = "message",
  seen: Set<unknown> = new Set(),
): string | undefined {
  try {
    structuredClone(value);
    return undefined;
  } catch {
    // fall through: find the part that fails
  }
  if (value === null || typeof value !== "object" || seen.has(value)) {
    return path;
  }
  seen.add(value);
  const entries: [string, unknown][] = value instanceof Map
    ? [...value.entries()].map(([k, v]) => [`.get(${render(k, 30)})`, v])
    : Array.isArray(value)
    ? value.map((v, i) => [`[${i}]`, v])
    : Object.entries(value).map(([k, v]) => [
      /^[A-Za-z_$][\w$]*$/.test(k) ? `.${k}` : `[${JSON.stringify(k)}]`,
      v,
    ]);
  for (const [key, child] of entries) {
    const found = uncloneablePath(child, path + key, seen);
    if (found !== undefined) return found;
  }
  return path;
}
