/**
 * The bridge between the actors' workers and LogTape in the main thread.
 *
 * An actor's calls to its logger arrive as data
 * (`worker/forwarding_logger.ts`) and are
 * made again here on LogTape's logger of the same category, so one
 * configuration (sinks, levels, formats) governs every thread. When an
 * actor's modules use LogTape themselves, LogTape in the worker posts its
 * records to a sink, and they are emitted here unchanged. The actor's
 * records carry its group and name in their category and as the properties
 * `group` and `actor`.
 *
 * @module
 */

import type { Logger, LogLevel, LogRecord } from "@logtape/logtape";
import { LEVELS } from "../common/levels.ts";
import { logtape } from "../common/logtape.ts";
import type { FromWorker, LogCall } from "../common/protocol.ts";

/** A log call or record as an actor's runtime forwards it. */
export type LogMessage = Extract<FromWorker, { kind: "log" | "call" }>;

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
 * The lowest level any logger of the main thread's LogTape configuration
 * emits, or null when LogTape is not configured. A worker's own LogTape
 * (an actor's modules may use it, with categories of their own) forwards
 * every record from this level up; the main thread filters again by each
 * record's own category.
 */
export function forwardLevel(): LogLevel | null {
  const config = logtape().getConfig();
  if (config === null) return null;
  let lowest: number | undefined;
  for (const logger of config.loggers) {
    // A logger that writes nowhere and passes nothing up emits nothing.
    const silent = (logger.sinks?.length ?? 0) === 0 &&
      logger.parentSinks === "override";
    if (silent) continue;
    const index = LEVELS.indexOf(logger.lowestLevel ?? "trace");
    if (lowest === undefined || index < lowest) lowest = index;
  }
  return lowest === undefined ? null : LEVELS[lowest];
}

/** Emits, in the main thread, a record that a worker forwarded. */
function emitForwarded(record: LogRecord): void {
  const { category, ...rest } = record;
  logtape().getLogger(category).emit(rest);
}

/**
 * Makes again, in the main thread, a call to an actor's logger that its
 * worker forwarded: LogTape builds the record as if the call were made here.
 */
function replayCall(call: LogCall): void {
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
    if (call.template) {
      method.call(logger, template(args[0] as string[]), ...args.slice(1));
    } else {
      method.apply(logger, args as unknown[]);
    }
  } finally {
    Date.now = now;
  }
}

function template(strings: string[]): TemplateStringsArray {
  return Object.assign([...strings], { raw: [...strings] });
}

/**
 * Emits a log call or record an actor's runtime forwarded: through LogTape,
 * or to `onLog` when given. A record that cannot be emitted is said, never
 * a crash of the main thread.
 */
export function emitLog(
  message: LogMessage,
  actor: string,
  onLog?: (message: LogMessage) => void,
): void {
  try {
    if (onLog !== undefined) onLog(message);
    else if (message.kind === "log") emitForwarded(message.record);
    else replayCall(message.call);
  } catch (error) {
    relayLogger().error(
      "relay: a log record of {actor} could not be emitted: {error}",
      { actor, error },
    );
  }
}
