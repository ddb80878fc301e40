/**
 * The bridge between LogTape in the workers and LogTape in the main thread.
 *
 * In a worker, every record goes to a sink that posts it to the main thread;
 * there the record is emitted again, unchanged, through the main thread's
 * configuration, so one configuration (sinks, levels, formats) governs every
 * thread. The actor's records carry its group and name in their category and
 * as the properties `group` and `actor`.
 *
 * @module
 */

import {
  configureSync,
  getLogger,
  getTextFormatter,
  type LogLevel,
  type LogRecord,
  type Sink,
  type TextFormatter,
} from "@logtape/logtape";
import { render } from "./errors.ts";

const LEVELS: readonly LogLevel[] = [
  "trace",
  "debug",
  "info",
  "warning",
  "error",
  "fatal",
];

/** The relay's own logger: its lifecycle records ("maintaining 2 groups"). */
export const relayLogger = getLogger(["baton"]);

/**
 * The lowest level the main thread emits for a category, or null when it
 * emits none: workers forward nothing below it.
 */
export function lowestLevel(category: readonly string[]): LogLevel | null {
  const logger = getLogger(category);
  for (const level of LEVELS) if (logger.isEnabledFor(level)) return level;
  return null;
}

/**
 * Sets a worker's LogTape up to forward every record from `lowest` up to the
 * main thread through `post`.
 */
export function forwardLogs(
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
  const properties: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(record.properties)) {
    try {
      properties[key] = structuredClone(value);
    } catch {
      properties[key] = render(value, 2000);
    }
  }
  return {
    category: record.category,
    level: record.level,
    message,
    rawMessage: typeof record.rawMessage === "string"
      ? record.rawMessage
      : record.rawMessage.join("{}"),
    timestamp: record.timestamp,
    properties,
  };
}

/** Emits, in the main thread, a record that a worker forwarded. */
export function emitForwarded(record: LogRecord): void {
  const { category, ...rest } = record;
  getLogger(category).emit(rest);
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
export const plainFormatter: TextFormatter = getTextFormatter({
  timestamp: clock,
  value: "bare",
  format: ({ timestamp, message, record }) =>
    `[${timestamp}] [${Deno.pid}] ${loggerName(record)} - ${
      actorPrefix(record)
    }${message}`,
});
