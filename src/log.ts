/**
 * The bridge between the actors' workers and LogTape in the main thread.
 *
 * An actor's calls to its logger arrive as data (`worker_log.ts`) and are
 * made again here on LogTape's logger of the same category, so one
 * configuration (sinks, levels, formats) governs every thread. When an
 * actor's modules use LogTape themselves, LogTape in the worker posts its
 * records to a sink, and they are emitted here unchanged. The actor's
 * records carry its group and name in their category and as the properties
 * `group` and `actor`.
 *
 * @module
 */

import type * as LogTape from "@logtape/logtape";
import type {
  Logger,
  LogLevel,
  LogRecord,
  Sink,
  TextFormatter,
} from "@logtape/logtape";
import { render } from "./errors.ts";
import { logtape } from "./logtape.ts";
import type { LogCall } from "./protocol.ts";
import { cloneableProperties } from "./worker_log.ts";

const LEVELS: readonly LogLevel[] = [
  "trace",
  "debug",
  "info",
  "warning",
  "error",
  "fatal",
];

/** The relay's own logger: its lifecycle records ("maintaining 2 groups"). */
export function relayLogger(): Logger {
  return logtape().getLogger(["baton"]);
}

/**
 * The lowest level the main thread emits for a category, or null when it
 * emits none: workers forward nothing below it.
 */
export function lowestLevel(category: readonly string[]): LogLevel | null {
  const logger = logtape().getLogger(category);
  for (const level of LEVELS) if (logger.isEnabledFor(level)) return level;
  return null;
}

/**
 * Sets a worker's LogTape up to forward every record from `lowest` up to the
 * main thread through `post`.
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

/** Emits, in the main thread, a record that a worker forwarded. */
export function emitForwarded(record: LogRecord): void {
  const { category, ...rest } = record;
  logtape().getLogger(category).emit(rest);
}

/**
 * Makes again, in the main thread, a call to an actor's logger that its
 * worker forwarded: LogTape builds the record as if the call were made here.
 */
export function replayCall(call: LogCall): void {
  let logger = logtape().getLogger(call.category);
  if (Object.keys(call.properties).length > 0) {
    logger = logger.with(call.properties);
  }
  const method = logger[call.level] as (...args: unknown[]) => unknown;
  const args = call.args;
  const now = Date.now;
  // LogTape stamps a record with the first Date.now() of a log call and
  // takes no time from its caller: that one call answers the time of the
  // call in the worker. Anything later (a sink's own clock) reads the clock.
  Date.now = () => {
    Date.now = now;
    return call.timestamp;
  };
  try {
    replay(logger, method, call.form, args);
  } finally {
    Date.now = now;
  }
}

function replay(
  logger: Logger,
  method: (...args: unknown[]) => unknown,
  form: LogCall["form"],
  args: readonly unknown[],
): void {
  switch (form) {
    case "template":
      method.call(logger, template(args[0] as string[]), ...args.slice(1));
      break;
    case "parts": {
      // The parts interleave the strings and the values of a template.
      const strings = args.filter((_, i) => i % 2 === 0) as string[];
      const values = args.filter((_, i) => i % 2 === 1);
      method.call(
        logger,
        (prefix: Prefix) => prefix(template(strings), ...values),
      );
      break;
    }
    case "args":
      method.apply(logger, args as unknown[]);
  }
}

/** What LogTape gives a log callback to build its message with. */
type Prefix = (strings: TemplateStringsArray, ...values: unknown[]) => unknown;

function template(strings: string[]): TemplateStringsArray {
  return Object.assign([...strings], { raw: [...strings] });
}

function two(n: number): string {
  return n < 10 ? `0${n}` : `${n}`;
}

function clock(timestamp: number): string {
  const d = new Date(timestamp);
  return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
}

/**
 * The category of a record as the original's logger name: dotted, without
 * the group and actor that an actor's records end with.
 */
export function loggerName(record: LogRecord): string {
  const { category, properties } = record;
  let end = category.length;
  if (
    typeof properties.actor === "string" &&
    category[end - 1] === properties.actor &&
    category[end - 2] === properties.group
  ) end -= 2;
  return category.slice(0, end).join(".");
}

/** `[group-0] (Producer-1) ` for an actor's record, else the empty string. */
export function actorPrefix(record: LogRecord): string {
  const { actor, group } = record.properties;
  return typeof actor === "string" ? `[${group}] (${actor}) ` : "";
}

/**
 * The plain format of the original's notebook, in local time:
 * `[12:55:48] [19715] example - [group-0] (Producer-1) starting up`.
 *
 * @example Printing a relay's records to the console
 * ```ts
 * import { configure, getConsoleSink } from "@logtape/logtape";
 * import { plainFormatter } from "@baton/relay";
 *
 * await configure({
 *   sinks: { console: getConsoleSink({ formatter: plainFormatter }) },
 *   loggers: [
 *     { category: "example", sinks: ["console"], lowestLevel: "info" },
 *     { category: "baton", sinks: ["console"], lowestLevel: "info" },
 *     { category: ["logtape", "meta"], sinks: ["console"], lowestLevel: "warning" },
 *   ],
 * });
 * ```
 */
export const plainFormatter: TextFormatter = (record: LogRecord): string =>
  (plain ??= logtape().getTextFormatter({
    timestamp: clock,
    value: "bare",
    format: ({ timestamp, message, record }) =>
      `[${timestamp}] [${Deno.pid}] ${loggerName(record)} - ${
        actorPrefix(record)
      }${message}`,
  }))(record);

let plain: TextFormatter | undefined;
