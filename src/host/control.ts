/**
 * The main thread's check of what arrives on a member's control channel.
 * The channel is private to baton's runtime, but the runtime shares its
 * thread with actor code: nothing is believed before its shape is checked,
 * and a message that is not baton's fails the actor instead of the process.
 *
 * @module
 */

import { LEVELS } from "../common/levels.ts";
import { fromErrorData } from "../common/error_data.ts";
import type { ErrorData, FromWorker, Phase } from "../common/protocol.ts";
import { isPlainObject, render } from "../common/values.ts";

const PHASES: ReadonlySet<string> = new Set<Phase>([
  "load",
  "startup",
  "loop",
  "recv",
  "send",
  "shutdown",
  "input",
]);

const LEVEL_SET: ReadonlySet<string> = new Set(LEVELS);

/**
 * The message as baton's protocol, or a string saying what is wrong with
 * it (the actor is failed with that text).
 */
export function checkControl(data: unknown): FromWorker | string {
  if (!isPlainObject(data) || typeof data.kind !== "string") {
    return `sent the relay a message that is not baton's: ${render(data)}`;
  }
  const bad = problem(data);
  return bad === undefined
    ? data as unknown as FromWorker
    : `sent the relay a malformed ${
      JSON.stringify(data.kind)
    } message (${bad}): ${render(data)}`;
}

function problem(m: Record<string, unknown>): string | undefined {
  switch (m.kind) {
    case "log":
      return recordProblem(m.record);
    case "call":
      return callProblem(m.call);
    case "phase":
      return isPhase(m.phase) ? undefined : "unknown phase";
    case "error":
      if (!isPhase(m.phase)) return "unknown phase";
      if (!isErrorData(m.error, 0)) return "no error data";
      for (const key of ["summary", "path", "hint", "module"]) {
        if (m[key] !== undefined && typeof m[key] !== "string") {
          return `${key} is not a string`;
        }
      }
      if (m.attempts !== undefined && !isCount(m.attempts)) {
        return "bad attempt count";
      }
      if (m.restart !== undefined && typeof m.restart !== "boolean") {
        return "bad restart flag";
      }
      return undefined;
    case "dead":
      if (!isErrorData(m.error, 0)) return "no error data";
      return isCount(m.attempts) ? undefined : "bad attempt count";
    case "done":
      return Number.isInteger(m.pills) ? undefined : "no pill count";
    case "exit":
      return typeof m.how === "string" ? undefined : "no exit call";
    case "stopped":
    case "report":
      return undefined;
    default:
      return "unknown kind";
  }
}

function isCount(value: unknown): boolean {
  return Number.isSafeInteger(value) && (value as number) >= 1;
}

function isPhase(value: unknown): boolean {
  return typeof value === "string" && PHASES.has(value);
}

function isCategory(value: unknown): boolean {
  return Array.isArray(value) && value.every((c) => typeof c === "string");
}

function recordProblem(r: unknown): string | undefined {
  if (!isPlainObject(r)) return "no record";
  if (!isCategory(r.category)) return "bad category";
  if (typeof r.level !== "string" || !LEVEL_SET.has(r.level)) {
    return "bad level";
  }
  if (!Array.isArray(r.message)) return "bad message";
  if (typeof r.rawMessage !== "string" && !Array.isArray(r.rawMessage)) {
    return "bad raw message";
  }
  if (typeof r.timestamp !== "number") return "bad timestamp";
  if (!isPlainObject(r.properties)) return "bad properties";
  return undefined;
}

function callProblem(c: unknown): string | undefined {
  if (!isPlainObject(c)) return "no call";
  if (!isCategory(c.category)) return "bad category";
  if (typeof c.level !== "string" || !LEVEL_SET.has(c.level)) {
    return "bad level";
  }
  if (typeof c.timestamp !== "number") return "bad timestamp";
  if (!isPlainObject(c.properties)) return "bad properties";
  if (typeof c.template !== "boolean") return "bad template flag";
  if (!Array.isArray(c.args)) return "bad arguments";
  if (c.template && !isCategory(c.args[0])) return "bad template";
  return undefined;
}

function isErrorData(e: unknown, depth: number): boolean {
  if (!isPlainObject(e) || depth > 8) return false;
  if (typeof e.name !== "string" || typeof e.message !== "string") {
    return false;
  }
  if (e.stack !== undefined && typeof e.stack !== "string") return false;
  if (e.className !== undefined && typeof e.className !== "string") {
    return false;
  }
  if (e.props !== undefined && !isPlainObject(e.props)) return false;
  if (e.cause !== undefined) {
    const cause = e.cause;
    if (!isPlainObject(cause)) return false;
    if (!("value" in cause) && !isErrorData(cause, depth + 1)) return false;
  }
  if (e.errors !== undefined) {
    if (!Array.isArray(e.errors)) return false;
    if (!e.errors.every((x) => isErrorData(x, depth + 1))) return false;
  }
  return true;
}

/** The error a runtime reported, rebuilt; never throws. */
export function causeOf(data: ErrorData): Error {
  try {
    return fromErrorData(data);
  } catch {
    return new Error(String(data.message));
  }
}
