/**
 * Python logging format strings as LogTape text formatters:
 * `"[%(asctime)s] [%(process)d] %(name)s - %(message)s"` with a strftime
 * `datefmt`. The `%`-placeholders are rendered by sprintf-js, the dates by
 * d3-time-format; this file checks them and maps a record to their fields.
 *
 * @module
 */

import type { LogLevel, LogRecord, TextFormatter } from "@logtape/logtape";
// @ts-types="npm:@types/d3-time-format@^4.0.3"
import { timeFormat } from "d3-time-format";
// @ts-types="npm:@types/sprintf-js@^1.1.4"
import { sprintf } from "sprintf-js";
import { actorPrefix, loggerName } from "../formatter.ts";
import { logtape } from "../common/logtape.ts";

/** Python's level names, by LogTape level. */
const LEVEL_NAMES: Readonly<Record<LogLevel, string>> = {
  trace: "TRACE",
  debug: "DEBUG",
  info: "INFO",
  warning: "WARNING",
  error: "ERROR",
  fatal: "CRITICAL",
};

const LEVEL_NUMBERS: Readonly<Record<LogLevel, number>> = {
  trace: 5,
  debug: 10,
  info: 20,
  warning: 30,
  error: 40,
  fatal: 50,
};

/** The record attributes a format may name, and whether each is a number. */
const ATTRIBUTES: Readonly<Record<string, "number" | "string">> = {
  asctime: "string",
  created: "number",
  levelname: "string",
  levelno: "number",
  message: "string",
  msecs: "number",
  name: "string",
  process: "number",
  relativeCreated: "number",
};

/** Conversions that Python and sprintf-js both know. */
const NUMERIC = "difegxXo";

// Python's time.strftime codes that d3-time-format renders the same way;
// %z is d3's %Z. Locale-dependent %c, %x, %X are left out: they differ.
const DATE_CODES: Readonly<Record<string, string>> = {
  a: "a",
  A: "A",
  b: "b",
  B: "B",
  d: "d",
  f: "f",
  H: "H",
  I: "I",
  j: "j",
  m: "m",
  M: "M",
  p: "p",
  S: "S",
  U: "U",
  w: "w",
  W: "W",
  y: "y",
  Y: "Y",
  z: "Z",
  "%": "%",
};

/** Python's default asctime: `2003-07-08 16:49:45,896`. */
const DEFAULT_DATEFMT = "%Y-%m-%d %H:%M:%S";

type Sprintf = typeof sprintf;
type TimeFormat = typeof timeFormat;

/** Checks and builds formatters from Python format strings. */
export interface Formatting {
  /** What is wrong with a format string, or undefined. */
  checkFormat(format: string): string | undefined;
  /** What is wrong with a strftime `datefmt`, or undefined. */
  checkDatefmt(datefmt: string): string | undefined;
  /**
   * A LogTape text formatter for a checked format string and `datefmt`. An
   * actor's record is named by its relay's logger, and its message starts
   * with `[group] (actor) `, as in the original's logs.
   */
  formatter(format: string, datefmt?: string): TextFormatter;
}

/** The checks and the formatter builder of Python format strings. */
export function formatting(): Formatting {
  return {
    checkFormat: (format) => checkFormat(sprintf, format),
    checkDatefmt,
    formatter: (format, datefmt) =>
      pythonFormatter(sprintf, timeFormat, format, datefmt),
  };
}

/**
 * Checks a Python format string; returns what is wrong with it, or
 * undefined when sprintf-js can render it.
 */
function checkFormat(sprintf: Sprintf, format: string): string | undefined {
  const placeholder = /%(?:%|\(([^)]*)\)([-+ #0]*\d*(?:\.\d+)?)(.?)|(.?))/g;
  for (const match of format.matchAll(placeholder)) {
    const [whole, name, , conversion, bare] = match;
    if (whole === "%%") continue;
    if (name === undefined) {
      return `placeholder "%${bare}" names no attribute; write %(name)s, with name one of ${
        Object.keys(ATTRIBUTES).join(", ")
      }`;
    }
    const kind = ATTRIBUTES[name];
    if (kind === undefined) {
      return `unknown attribute "%(${name})"; use one of ${
        Object.keys(ATTRIBUTES).join(", ")
      }`;
    }
    if (conversion === "" || !("s" + NUMERIC).includes(conversion)) {
      return `placeholder "${whole}" has no conversion that baton knows; end it with s, d or f, as in %(${name})s`;
    }
    if (kind === "string" && conversion !== "s") {
      return `placeholder "${whole}" formats ${name}, a string, as a number; use %(${name})s`;
    }
  }
  try {
    sprintf(format, sample);
  } catch (error) {
    return `cannot be rendered: ${(error as Error).message}`;
  }
  return undefined;
}

/** Checks a strftime `datefmt`; returns what is wrong, or undefined. */
function checkDatefmt(datefmt: string): string | undefined {
  for (const match of datefmt.matchAll(/%(.?)/g)) {
    if (!(match[1] in DATE_CODES)) {
      const hint = match[1] === "Z" ? " (for the UTC offset use %z)" : "";
      return `unknown date code "%${match[1]}"${hint}; use one of ${
        Object.keys(DATE_CODES).map((c) => `%${c}`).join(" ")
      }`;
    }
  }
  return undefined;
}

const sample: Record<string, unknown> = {
  asctime: "",
  created: 0,
  levelname: "INFO",
  levelno: 20,
  message: "",
  msecs: 0,
  name: "",
  process: 0,
  relativeCreated: 0,
};

/**
 * A LogTape text formatter for a Python format string and `datefmt` (both
 * checked first with {@linkcode checkFormat} and {@linkcode checkDatefmt}).
 * An actor's record is named by its relay's logger, and its message starts
 * with `[group] (actor) `, as in the original's logs.
 */
function pythonFormatter(
  sprintf: Sprintf,
  timeFormat: TimeFormat,
  format: string,
  datefmt?: string,
): TextFormatter {
  const date = timeFormat(
    (datefmt ?? DEFAULT_DATEFMT).replace(
      /%(.)/g,
      (_, c: string) => `%${DATE_CODES[c] ?? c}`,
    ),
  );
  const pid = Deno.pid;
  return logtape().getTextFormatter({
    value: "bare",
    format: ({ message, record }) => {
      const ms = record.timestamp % 1000;
      const asctime = datefmt === undefined
        ? `${date(new Date(record.timestamp))},${String(ms).padStart(3, "0")}`
        : date(new Date(record.timestamp));
      return sprintf(format, {
        asctime,
        created: record.timestamp / 1000,
        levelname: LEVEL_NAMES[record.level],
        levelno: LEVEL_NUMBERS[record.level],
        message: actorPrefix(record) + message,
        msecs: ms,
        name: loggerName(record as LogRecord),
        process: pid,
        relativeCreated: record.timestamp - performance.timeOrigin,
      });
    },
  });
}
