/**
 * Helpers for the fault tests: a log capture that a test can wait on (the
 * fixtures announce `reached` and `fault` as log records), the rejection of
 * a relay under the watchdog, and the checks every fault test makes.
 *
 * @module
 */

import assert from "node:assert/strict";
import { configure, type LogRecord, reset } from "@logtape/logtape";
import { type Relay, RelayError } from "../mod.ts";
import { startWithin } from "./_harness.ts";

/** Records captured by {@linkcode watchLogs}, with a way to wait for one. */
export interface Watch extends AsyncDisposable {
  readonly records: LogRecord[];
  /**
   * Resolves with the first record (past or future) that matches; rejects
   * after `ms` (a guard against a hang, not a synchronisation).
   */
  when(message: string, actor?: string, ms?: number): Promise<LogRecord>;
  /** The properties of every record with this message (and actor). */
  props(message: string, actor?: string): Record<string, unknown>[];
}

function matches(r: LogRecord, message: string, actor?: string): boolean {
  return r.message[0] === message &&
    (actor === undefined || r.properties.actor === actor);
}

/** Sends every record of `categories` to memory until disposed. */
export async function watchLogs(
  categories: string[] = ["test", "baton"],
): Promise<Watch> {
  const records: LogRecord[] = [];
  const waiters: {
    message: string;
    actor?: string;
    resolve: (r: LogRecord) => void;
  }[] = [];
  await configure({
    reset: true,
    sinks: {
      memory: (record) => {
        records.push(record);
        for (let i = waiters.length - 1; i >= 0; i--) {
          const w = waiters[i];
          if (matches(record, w.message, w.actor)) {
            waiters.splice(i, 1);
            w.resolve(record);
          }
        }
      },
    },
    loggers: [
      ...categories.map((category) => ({
        category,
        sinks: ["memory"],
        lowestLevel: "debug" as const,
      })),
      { category: ["logtape", "meta"], sinks: [], lowestLevel: "warning" },
    ],
  });
  return {
    records,
    when(message, actor, ms = 10_000) {
      const found = records.find((r) => matches(r, message, actor));
      if (found !== undefined) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.splice(waiters.indexOf(waiter), 1);
          reject(
            new Error(
              `no "${message}" record${
                actor === undefined ? "" : ` from ${actor}`
              } within ${ms} ms`,
            ),
          );
        }, ms);
        const waiter = {
          message,
          actor,
          resolve: (r: LogRecord) => {
            clearTimeout(timer);
            resolve(r);
          },
        };
        waiters.push(waiter);
      });
    },
    props(message, actor) {
      return records.filter((r) => matches(r, message, actor)).map((r) =>
        r.properties
      );
    },
    async [Symbol.asyncDispose]() {
      await reset();
    },
  };
}

/**
 * Starts the relay under the watchdog and returns its rejection and the
 * time it settled (`Date.now()`, comparable with log record timestamps).
 */
export async function rejectionOf(
  relay: Relay,
  ms = 10_000,
  options: { signal?: AbortSignal; onAbort?: "cancel" | "drain" } = {},
): Promise<{ error: unknown; at: number }> {
  try {
    await startWithin(relay, ms, options);
  } catch (error) {
    if (error instanceof Error && error.message.startsWith("relay did not")) {
      throw error;
    }
    return { error, at: Date.now() };
  }
  throw new assert.AssertionError({
    message: "start() resolved; expected it to reject",
  });
}

/** What a fault test expects of a `RelayError`. */
export interface Expected {
  actor: string | readonly string[];
  group?: string;
  phase: RelayError["phase"];
  cause?: string;
  message?: RegExp;
}

/** Asserts that `error` is a RelayError as expected; returns it. */
export function assertRelayError(
  error: unknown,
  expected: Expected,
): RelayError {
  assert.ok(
    error instanceof RelayError,
    `expected a RelayError, got ${
      error instanceof Error ? error.stack : error
    }`,
  );
  const actors = typeof expected.actor === "string"
    ? [expected.actor]
    : expected.actor;
  assert.ok(
    actors.includes(error.actor),
    `expected one of ${
      actors.join(", ")
    }, got ${error.actor}: ${error.message}`,
  );
  assert.equal(error.phase, expected.phase, error.message);
  if (expected.group !== undefined) assert.equal(error.group, expected.group);
  assert.ok(error.message.includes(error.actor), "the message names the actor");
  if (expected.cause !== undefined) {
    assert.ok(error.cause instanceof Error, "cause is an Error");
    assert.equal(error.cause.name, expected.cause, error.message);
  }
  if (expected.message !== undefined) {
    assert.match(error.message, expected.message);
  }
  return error;
}

/** Milliseconds from the `fault` record to `at`. */
export async function settledAfterFault(
  logs: Watch,
  at: number,
): Promise<number> {
  const fault = await logs.when("fault");
  return at - fault.timestamp;
}

/** Builds an actor and sets its fields. */
export function make<A extends object>(
  Class: new () => A,
  fields: Partial<A> = {},
): A {
  return Object.assign(new Class(), fields);
}
