/**
 * Errors as plain data, for the trip from an actor's worker to the main
 * thread: structured clone keeps an Error's message and stack but not its
 * class, so the class name travels beside it and comes back as itself.
 * `toErrorData` runs where the error was thrown, `fromErrorData` in the
 * main thread.
 *
 * @module
 */

import type { ErrorData } from "./protocol.ts";
import { render } from "./values.ts";

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
