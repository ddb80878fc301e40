/**
 * Compile-time checks that the logging API's types (`src/log.ts`) are
 * LogTape's shapes: `deno test` type-checks this file, so a LogTape release
 * that adds a level, a record field or a logger member fails here until
 * `src/log.ts` follows it.
 *
 * @module
 */

import assert from "node:assert/strict";
import * as LogTape from "@logtape/logtape";
import {
  Actor,
  type Logger,
  type LogLevel,
  type LogRecord,
  plainFormatter,
  type TextFormatter,
} from "../mod.ts";

/** `true` only when A and B are the same type. */
type Same<A, B> = (<T>() => T extends A ? 1 : 2) extends
  (<T>() => T extends B ? 1 : 2) ? true : false;

Deno.test("baton's log level and record are LogTape's, field for field", () => {
  const level: Same<LogLevel, LogTape.LogLevel> = true;
  const record: Same<LogRecord, LogTape.LogRecord> = true;
  const location: Same<
    NonNullable<LogRecord["sourceLocation"]>,
    LogTape.SourceLocation
  > = true;
  // @ts-expect-error: not a level
  const wrong: LogLevel = "warn";
  assert.deepEqual([level, record, location, wrong], [
    true,
    true,
    true,
    "warn",
  ]);
});

Deno.test("LogTape's logger is a baton Logger with the same members, and formatters go both ways", () => {
  const members: Same<keyof Logger, keyof LogTape.Logger> = true;
  const logger: Logger = LogTape.getLogger(["baton-types"]);
  const theirs: LogTape.TextFormatter = plainFormatter;
  const ours: TextFormatter = LogTape.getTextFormatter();
  const record: LogRecord = {
    category: ["baton", "actor", "Counter-1"],
    level: "info",
    message: ["counted ", 3, ""],
    rawMessage: "counted {n}",
    timestamp: new Date(2026, 0, 2, 3, 4, 5).getTime(),
    properties: { n: 3, actor: "Counter-1", group: "group-0" },
  };
  assert.equal(members, true);
  assert.deepEqual(logger.category, ["baton-types"]);
  assert.equal(theirs(record), plainFormatter(record));
  assert.match(ours(record), /INF.*counted 3/);
});

Deno.test("Actor.log is typed as baton's Logger", () => {
  class Counter extends Actor<number> {
    override recv(n: number): void {
      this.log.info("counted {n}", { n });
      this.log.warn(new Error("late"), { n });
      this.log.debug((l) => l`state ${n}`);
    }
  }
  const log: Logger = new Counter().log;
  assert.deepEqual(log.category.slice(0, 2), ["baton", "actor"]);
});
