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
    const why = reason instanceof Error
      ? reason.message
      : typeof reason === "string"
      ? reason
      : reason === undefined
      ? "aborted"
      : render(reason);
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

/** Turns any thrown value into plain data that keeps name, stack and cause. */
export function toErrorData(value: unknown, depth = 0): ErrorData {
  if (!(value instanceof Error)) {
    return { name: "Error", message: render(value, 500), stack: undefined };
  }
  const className = value.constructor?.name;
  const data: {
    -readonly [K in keyof ErrorData]: ErrorData[K];
  } = { name: value.name, message: value.message, stack: value.stack };
  if (className !== undefined && className !== value.name) {
    data.className = className;
  }
  if (value.cause !== undefined && depth < 4) {
    data.cause = causeData(value.cause, depth + 1);
  }
  if (value instanceof AggregateError && depth < 4) {
    data.errors = [...value.errors].slice(0, 16).map((e) =>
      toErrorData(e, depth + 1)
    );
  }
  for (const key of Object.keys(value)) {
    if (key === "cause" || key === "errors" || key === "stack") continue;
    try {
      const copy = structuredClone(
        (value as unknown as Record<string, unknown>)[key],
      );
      (data.props ??= {})[key] = copy;
    } catch {
      // a property that does not clone stays behind
    }
  }
  return data;
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

type ErrorClass = new (message: string, options?: ErrorOptions) => Error;

const BUILTIN: Record<string, ErrorClass> = {
  Error,
  TypeError,
  RangeError,
  SyntaxError,
  ReferenceError,
  EvalError,
  URIError,
};

/**
 * Rebuilds an Error from data, with its original name, message and stack:
 * built-in classes (`TypeError`, `DOMException`, `Deno.errors.*`) come back
 * as themselves, other classes as an `Error` with the original `name`.
 */
export function fromErrorData(data: ErrorData): Error {
  let cause: unknown = undefined;
  if (data.cause !== undefined) {
    cause = "value" in data.cause
      ? data.cause.value
      : fromErrorData(data.cause as ErrorData);
  }
  const options = cause === undefined ? undefined : { cause };
  const className = data.className ?? data.name;
  let error: Error;
  if (data.errors !== undefined) {
    error = new AggregateError(
      data.errors.map(fromErrorData),
      data.message,
      options,
    );
  } else if (className === "DOMException") {
    error = new DOMException(data.message, data.name);
    if (cause !== undefined) {
      Object.defineProperty(error, "cause", {
        value: cause,
        configurable: true,
        writable: true,
      });
    }
  } else {
    const denoClass = (Deno.errors as unknown as Record<string, unknown>)[
      className
    ];
    const Class = BUILTIN[className] ??
      (typeof denoClass === "function" ? denoClass as ErrorClass : Error);
    error = new Class(data.message, options);
  }
  if (error.name !== data.name) {
    Object.defineProperty(error, "name", {
      value: data.name,
      configurable: true,
      writable: true,
    });
  }
  if (data.stack !== undefined) {
    Object.defineProperty(error, "stack", {
      value: data.stack,
      configurable: true,
      writable: true,
    });
  }
  if (data.props !== undefined) Object.assign(error, data.props);
  return error;
}

/** Whether `value` is an object literal (or has a null prototype). */
export function isPlainObject(
  value: unknown,
): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
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
