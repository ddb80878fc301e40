/**
 * The plain console format of baton's records, as the original's notebook
 * printed them, and the two pieces of it that the YAML logging layer reuses.
 *
 * @module
 */

import type { LogRecord, TextFormatter } from "./log.ts";
import { logtape } from "./common/logtape.ts";

function two(n: number): string {
  return n < 10 ? `0${n}` : `${n}`;
}

function clock(timestamp: number): string {
  const d = new Date(timestamp);
  return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
}

/**
 * The category of a record as the original's logger name: dotted, without
 * the group and actor that an actor's records end with (nor the `lifecycle`
 * before them of baton's own lines about the actor).
 */
export function loggerName(record: LogRecord): string {
  const { category, properties } = record;
  let end = category.length;
  if (
    typeof properties.actor === "string" &&
    category[end - 1] === properties.actor &&
    category[end - 2] === properties.group
  ) {
    end -= 2;
    // An actor's lifecycle lines are named by its relay's logger too.
    if (end > 1 && category[end - 1] === "lifecycle") end -= 1;
  }
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
