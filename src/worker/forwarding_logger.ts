/**
 * An actor's logger in its worker: it has LogTape's `Logger` interface and
 * forwards every call, as data, to the main thread, where the call is made
 * again on LogTape's logger of the same category (`replayCall()` in
 * `host/log_replay.ts`). LogTape does everything there: message templates, properties,
 * filters, sinks, formats. The worker only decides whether a level is on
 * (from the main thread's configuration, sent at start), calls what must run
 * in the worker (lazy properties, callbacks) and makes the arguments
 * cloneable. Why LogTape itself stays out of the worker: see
 * `common/logtape.ts`.
 *
 * @module
 */

import type * as LogTape from "@logtape/logtape";
import type { Logger, LogLevel, LogRecord, Sink } from "@logtape/logtape";
import { LEVELS } from "../common/levels.ts";
import type { LogCall } from "../common/protocol.ts";
import { cloneableOrText, isPlainObject, render } from "../common/values.ts";

/** Where an actor's logger sends its calls. */
export interface LogPort {
  /** The lowest level the main thread emits for the actor; null for none. */
  readonly lowest: LogLevel | null;
  /** Forwards a call (`this.log.info(...)`). */
  call(call: LogCall): void;
  /** Forwards a record (`this.log.emit(...)`). */
  record(record: LogRecord): void;
}

/** The key LogTape's `lazy()` marks its values with. */
const LAZY = Symbol.for("logtape.lazy");

/** A logger of `category` that forwards its calls through `port`. */
export function forwardingLogger(
  port: LogPort,
  category: readonly string[],
  properties: Record<string, unknown> = {},
): Logger {
  return new ForwardingLogger(port, category, properties) as unknown as Logger;
}

type Args = readonly unknown[];

class ForwardingLogger {
  constructor(
    readonly port: LogPort,
    readonly category: readonly string[],
    readonly properties: Record<string, unknown>,
  ) {}

  get parent(): Logger | null {
    return this.category.length === 0
      ? null
      : forwardingLogger(this.port, this.category.slice(0, -1));
  }

  getChild(subcategory: string | readonly string[]): Logger {
    const tail = typeof subcategory === "string" ? [subcategory] : subcategory;
    return forwardingLogger(
      this.port,
      [...this.category, ...tail],
      this.properties,
    );
  }

  with(properties: Record<string, unknown>): Logger {
    return forwardingLogger(this.port, this.category, {
      ...this.properties,
      ...properties,
    });
  }

  isEnabledFor(level: LogLevel): boolean {
    const lowest = this.port.lowest;
    return lowest !== null && LEVELS.indexOf(level) >= LEVELS.indexOf(lowest);
  }

  emit(record: Omit<LogRecord, "category">): void {
    this.port.record({
      ...record,
      category: this.category,
      properties: { ...resolveLazy(this.properties), ...record.properties },
    });
  }

  trace(...args: Args): Promise<void> | undefined {
    return this.#log("trace", args);
  }

  debug(...args: Args): Promise<void> | undefined {
    return this.#log("debug", args);
  }

  info(...args: Args): Promise<void> | undefined {
    return this.#log("info", args);
  }

  warn(...args: Args): Promise<void> | undefined {
    return this.#log("warning", args);
  }

  warning(...args: Args): Promise<void> | undefined {
    return this.#log("warning", args);
  }

  error(...args: Args): Promise<void> | undefined {
    return this.#log("error", args);
  }

  fatal(...args: Args): Promise<void> | undefined {
    return this.#log("fatal", args);
  }

  #log(level: LogLevel, args: Args): Promise<void> | undefined {
    const [first, second] = args;
    if (!this.isEnabledFor(level)) {
      // LogTape answers a call with lazy properties with a promise.
      return typeof second === "function" ? Promise.resolve() : undefined;
    }
    if (typeof first === "function") {
      // A callback given the template prefix: made again as its template.
      let template: Args | undefined;
      first((strings: TemplateStringsArray, ...values: unknown[]) => {
        template = [[...strings], ...values];
        return interleave(strings, values);
      });
      if (template === undefined) {
        throw new TypeError(
          "No log record was made: the callback did not call its prefix",
        );
      }
      this.#post(level, true, template);
    } else if (Array.isArray(first) && "raw" in first) {
      this.#post(level, true, [[...first], ...args.slice(1)]);
    } else if (typeof second === "function") {
      const properties: unknown = second();
      if (properties instanceof Promise) {
        return properties.then((resolved) =>
          this.#post(level, false, [first, resolved])
        );
      }
      this.#post(level, false, [first, properties]);
    } else {
      this.#post(level, false, args);
    }
    return undefined;
  }

  #post(level: LogLevel, template: boolean, args: Args): void {
    this.port.call({
      category: this.category,
      level,
      timestamp: Date.now(),
      properties: resolveLazy(this.properties),
      template,
      args,
    });
  }
}

/** What LogTape's template prefix returns: strings and values, interleaved. */
function interleave(
  strings: TemplateStringsArray,
  values: readonly unknown[],
): unknown[] {
  const parts: unknown[] = [strings[0]];
  for (let i = 0; i < values.length; i++) parts.push(values[i], strings[i + 1]);
  return parts;
}

function resolveLazy(
  properties: Record<string, unknown>,
): Record<string, unknown> {
  let resolved: Record<string, unknown> | undefined;
  for (const [key, value] of Object.entries(properties)) {
    if (
      typeof value === "object" && value !== null &&
      (value as Record<symbol, unknown>)[LAZY] === true
    ) {
      resolved ??= { ...properties };
      resolved[key] = (value as { getter(): unknown }).getter();
    }
  }
  return resolved ?? properties;
}

/**
 * A copy of a call that structured clone accepts: what does not clone
 * (a function, a class with private state) is rendered as text, key by key
 * in property objects. Used only after posting the call itself failed.
 */
export function cloneableCall(call: LogCall): LogCall {
  return {
    ...call,
    properties: cloneableProperties(call.properties),
    args: call.args.map((arg, i) =>
      call.template && i === 0
        ? arg
        : isPlainObject(arg)
        ? cloneableProperties(arg)
        : cloneableOrText(arg)
    ),
  };
}

/** Properties that structured clone accepts, values rendered when not. */
export function cloneableProperties(
  properties: Record<string, unknown>,
): Record<string, unknown> {
  const copy: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(properties)) {
    copy[key] = cloneableOrText(value);
  }
  return copy;
}

/**
 * Sets LogTape, when an actor's worker loaded it, up to forward every record
 * from `lowest` up to the main thread through `post`.
 */
export function forwardLogs(
  { configureSync }: typeof LogTape,
  post: (record: LogRecord) => void,
  lowest: LogLevel | null,
): void {
  const sink: Sink = (record) => post(record);
  configureSync({
    reset: true,
    sinks: { relay: sink },
    loggers: [
      { category: [], sinks: ["relay"], lowestLevel: lowest ?? "warning" },
      {
        category: ["logtape", "meta"],
        sinks: ["relay"],
        lowestLevel: "warning",
      },
    ],
  });
}

/** A copy of a record that structured clone accepts, values rendered as text. */
export function cloneableRecord(record: LogRecord): LogRecord {
  const message = record.message.map((part, i) =>
    i % 2 === 0 || typeof part === "string" ? part : render(part, 2000)
  );
  return {
    category: record.category,
    level: record.level,
    message,
    rawMessage: typeof record.rawMessage === "string"
      ? record.rawMessage
      : record.rawMessage.join("{}"),
    timestamp: record.timestamp,
    properties: cloneableProperties(record.properties),
  };
}
