/**
 * The types of baton's logging API: what `Actor.log` is and what a
 * formatter such as `plainFormatter` takes. They are LogTape's shapes,
 * declared here because LogTape does not export every type its own
 * declarations name (`LogCallback`, `logLevels`), which would leave baton's
 * documented API pointing at types no one can import. LogTape's `Logger`,
 * `LogRecord` and `LogLevel` fit these (checked in `tests/types_test.ts`),
 * so what baton hands out is LogTape's own logger, and a formatter written
 * for LogTape takes baton's records and the other way round.
 *
 * @module
 */

/** A record's severity, lowest first. */
export type LogLevel =
  | "trace"
  | "debug"
  | "info"
  | "warning"
  | "error"
  | "fatal";

/** Where in the source a record was made, when the sink is told. */
export interface SourceLocation {
  /** The file's path or URL. */
  readonly file: string;
  /** Its line, from 1. */
  readonly line: number;
  /** Its column, from 1. */
  readonly column: number;
}

/** One log record, as sinks and formatters get it. */
export interface LogRecord {
  /** The logger's category, e.g. `["baton", "actor", "Consumer-1"]`. */
  readonly category: readonly string[];
  /** The record's level. */
  readonly level: LogLevel;
  /** The message: text parts at even indices, values at odd ones. */
  readonly message: readonly unknown[];
  /** The message as it was written: a template or a text with `{key}`s. */
  readonly rawMessage: string | TemplateStringsArray;
  /** When it was made, in milliseconds since the epoch. */
  readonly timestamp: number;
  /** The record's properties (baton adds `actor` and `group`). */
  readonly properties: Record<string, unknown>;
  /** Where it was made, when known. */
  readonly sourceLocation?: SourceLocation;
}

/** Turns a record into a line of text, for a sink that writes text. */
export type TextFormatter = (record: LogRecord) => string;

/** A record's properties, or a function computing them only when logged. */
export type LogProperties =
  | Record<string, unknown>
  | (() => Record<string, unknown>);

/** Formats a message from a template, for a {@linkcode LogCallback}. */
export type LogTemplatePrefix = (
  message: TemplateStringsArray,
  ...values: unknown[]
) => unknown[];

/**
 * Builds a message only when its level is enabled:
 * ``log.debug((l) => l`state ${expensive()}`)``.
 */
export type LogCallback = (prefix: LogTemplatePrefix) => unknown[];

/** Logs at one level, in each of LogTape's forms. */
export interface LogMethod {
  /** A tagged template: ``log.info`took ${n} items` ``. */
  (message: TemplateStringsArray, ...values: readonly unknown[]): void;
  /** A message with `{key}` placeholders filled from `properties`. */
  (message: string, properties?: LogProperties): void;
  /** The same, with properties computed asynchronously. */
  (
    message: string,
    properties: () => Promise<Record<string, unknown>>,
  ): Promise<void>;
  /** Properties alone, for structured sinks. */
  (properties: Record<string, unknown>): void;
  /** A message built only if the level is enabled. */
  (callback: LogCallback): void;
}

/** Logs at a level that also takes an `Error`. */
export interface ErrorLogMethod extends LogMethod {
  /** The error, with properties. */
  (error: Error, properties?: LogProperties): void;
  /** The error, with properties computed asynchronously. */
  (
    error: Error,
    properties: () => Promise<Record<string, unknown>>,
  ): Promise<void>;
  /** A message and the error. */
  (message: string, error: Error): void;
}

/** A logger: LogTape's, whose records baton emits in the main thread. */
export interface Logger {
  /** Its category. */
  readonly category: readonly string[];
  /** The logger of the category one shorter, if any. */
  readonly parent: Logger | null;
  /** The logger of a category below this one. */
  getChild(
    subcategory: string | readonly [string] | readonly [string, ...string[]],
  ): Logger;
  /** This logger with `properties` added to every record. */
  with(properties: Record<string, unknown>): Logger;
  /** Logs at level `trace`. */
  readonly trace: LogMethod;
  /** Logs at level `debug`. */
  readonly debug: LogMethod;
  /** Logs at level `info`. */
  readonly info: LogMethod;
  /** Logs at level `warning`. */
  readonly warn: ErrorLogMethod;
  /** Logs at level `warning`. */
  readonly warning: ErrorLogMethod;
  /** Logs at level `error`. */
  readonly error: ErrorLogMethod;
  /** Logs at level `fatal`. */
  readonly fatal: ErrorLogMethod;
  /** Emits a record made by hand, in this logger's category. */
  emit(record: Omit<LogRecord, "category">): void;
  /** Whether a record at `level` would reach a sink. */
  isEnabledFor(level: LogLevel): boolean;
}
