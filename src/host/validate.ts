/**
 * One check per option rule, shared by the code API (`Relay`, `group()`,
 * `connect()`) and the YAML layer (`config/`). Each takes the value and the
 * place to name (`where`), returns the value normalised, and throws a
 * `TypeError` or `RangeError` that reads `<where>: <what>, received <value>;
 * <fix>`. The YAML layer passes `""` as the place: its messages name the
 * file, line and key path instead, and are otherwise the same text.
 *
 * @module
 */

import { type Actor, hasLoop, hasRecv } from "../actor.ts";
import { isPlainObject, render } from "../common/values.ts";
import type { WorkersOption } from "../options.ts";

/** The kinds of permission a worker's `permissions` option may name. */
export const PERMISSION_KINDS: readonly string[] = [
  "env",
  "ffi",
  "import",
  "net",
  "read",
  "run",
  "sys",
  "write",
];

/** The largest `maxsize`: the 32-bit credit counters hold it with room to spare. */
const MAX_MAXSIZE = 2 ** 30;

/**
 * The longest delay of a timer, in ms: Deno runs a timer set for longer at
 * once (after 1 ms), which would turn a drain into an immediate termination.
 */
const MAX_DELAY = 2 ** 31 - 1;

/** Names the main thread's edges take in the metrics (`from`, `to`). */
const RESERVED_GROUP_NAMES: readonly string[] = ["input", "results"];

/** `where: text`, or `text` alone when there is no place to name. */
export function at(where: string, text: string): string {
  return where === "" ? text : `${where}: ${text}`;
}

/**
 * The known word closest to `word` by edit distance (letters added, removed,
 * changed or swapped; case ignored), if one is close enough to be a typo.
 */
export function closest(
  word: string,
  known: readonly string[],
): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(1, Math.floor(word.length / 3)) + 1;
  for (const candidate of known) {
    const d = distance(word.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  return best;
}

/** Optimal string alignment distance: Levenshtein plus swaps. */
function distance(a: string, b: string): number {
  const d = Array.from(
    { length: a.length + 1 },
    (_, i) => Array.from({ length: b.length + 1 }, (_, j) => i || j),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(
        d[i - 1][j] + 1,
        d[i][j - 1] + 1,
        d[i - 1][j - 1] + cost,
      );
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.length][b.length];
}

/**
 * `unknown key "cuont"; did you mean "count"? use one of …`: the text for a
 * key that is not among `known`, with the closest known one if any.
 */
export function unknownKey(
  key: string,
  known: readonly string[],
  noun = "key",
): string {
  const near = closest(key, known);
  return `unknown ${noun} ${JSON.stringify(key)}; ${
    near === undefined ? "" : `did you mean ${JSON.stringify(near)}? `
  }use one of ${known.join(", ")}`;
}

/**
 * Throws a `TypeError` unless `value` is a plain object whose keys are all
 * in `known`; `undefined` stands for no options.
 */
export function checkOptions(
  value: unknown,
  known: readonly string[],
  where: string,
  example: string,
): Record<string, unknown> {
  if (value === undefined) return {};
  if (!isPlainObject(value)) {
    throw new TypeError(
      at(
        where,
        `options must be an object such as ${example}, received ${
          render(value)
        }; pass an object literal, or no options`,
      ),
    );
  }
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) {
      throw new TypeError(at(where, unknownKey(key, known, "option")));
    }
  }
  return value;
}

/** Throws unless `value` is an integer from 1 to {@linkcode MAX_MAXSIZE}. */
export function checkMaxsize(value: unknown, where: string): number {
  if (
    typeof value === "number" && Number.isInteger(value) && value >= 1 &&
    value <= MAX_MAXSIZE
  ) return value;
  const Error = typeof value === "number" ? RangeError : TypeError;
  throw new Error(
    at(
      where,
      `maxsize must be an integer from 1 to ${MAX_MAXSIZE}, received ${
        render(value)
      }; give a whole number of messages, such as 1024 (the default)`,
    ),
  );
}

/**
 * Throws unless `value` is a number of milliseconds a timer can wait: from
 * 0 (or above 0, when `positive`) to {@linkcode MAX_DELAY}.
 */
export function checkDelay(
  value: unknown,
  where: string,
  name: string,
  positive = false,
): number {
  if (
    typeof value === "number" && (positive ? value > 0 : value >= 0) &&
    value <= MAX_DELAY
  ) return value;
  const what = `${name} must be a number of milliseconds ${
    positive ? `above 0, at most ${MAX_DELAY}` : `from 0 to ${MAX_DELAY}`
  }, received ${render(value)}`;
  if (typeof value !== "number") {
    throw new TypeError(
      at(where, `${what}; write it as a number, such as 5000`),
    );
  }
  throw new RangeError(
    at(
      where,
      value > MAX_DELAY
        ? `${what}; Deno runs a timer set for longer at once, give at most ${MAX_DELAY} (about 24.8 days)`
        : positive
        ? `${what}; give a positive number, such as 1000`
        : `${what}; 0 terminates at once`,
    ),
  );
}

/** Throws unless `value` is a valid `shutdownTimeout`. */
export function checkShutdownTimeout(value: unknown, where: string): number {
  return checkDelay(value, where, "shutdownTimeout");
}

/**
 * The LogTape category `value` names: a name or a non-empty list of names,
 * none empty. With `dotted` (the YAML layer), a name is split at its dots.
 */
export function checkLogger(
  value: unknown,
  where: string,
  dotted = false,
): string[] {
  const parts = typeof value === "string"
    ? (dotted ? value.split(".") : [value])
    : Array.isArray(value)
    ? [...value]
    : [];
  if (
    parts.length > 0 && parts.every((p) => typeof p === "string" && p !== "")
  ) return parts;
  throw new TypeError(
    at(
      where,
      `logger must be a ${
        dotted ? "dotted name" : "name"
      } or a non-empty list of names, none of them empty, received ${
        render(value)
      }; name a LogTape category, such as ${
        dotted
          ? "app.pipeline or [app, pipeline]"
          : '"app" or ["app", "pipeline"]'
      }`,
    ),
  );
}

/**
 * Throws a `TypeError` unless `value` is a valid `permissions` option:
 * `"inherit"`, `"none"`, or an object of Deno permission names to
 * `"inherit"`, a boolean, or a list of allowed values.
 */
export function checkPermissions(
  value: unknown,
  where: string,
): Deno.PermissionOptions {
  if (value === "inherit" || value === "none") return value;
  if (!isPlainObject(value)) {
    throw new TypeError(
      at(
        where,
        `permissions must be "inherit", "none" or an object such as { read: ["./data"], net: false }, received ${
          render(value)
        }; name each permission the workers need, every other one is denied`,
      ),
    );
  }
  const out: Record<string, unknown> = {};
  for (const [kind, v] of Object.entries(value)) {
    if (!PERMISSION_KINDS.includes(kind)) {
      throw new TypeError(
        at(where, unknownKey(kind, PERMISSION_KINDS, "permission")),
      );
    }
    out[kind] = checkPermission(kind, v, where);
  }
  return out as Deno.PermissionOptionsObject;
}

/**
 * Throws a `TypeError` unless `value` is a valid value of the permission
 * `kind`: `"inherit"`, a boolean or a list of non-empty strings or URLs.
 */
export function checkPermission(
  kind: string,
  value: unknown,
  where: string,
): "inherit" | boolean | (string | URL)[] {
  if (value === "inherit" || typeof value === "boolean") return value;
  if (
    Array.isArray(value) &&
    value.every((x) => (typeof x === "string" && x !== "") || x instanceof URL)
  ) return [...value];
  const empty = Array.isArray(value) && value.includes("");
  throw new TypeError(
    at(
      where,
      `permissions.${kind} must be "inherit", true, false or a list of allowed values (non-empty strings or URLs), received ${
        render(value)
      }; ${
        empty
          ? "an empty string grants nothing, remove it"
          : `list what the workers may use, such as ${kind}: ["${
            kind === "net" ? "example.com:443" : "./data"
          }"]`
      }`,
    ),
  );
}

/**
 * Throws a `TypeError` unless the actor can take its place: a source (in
 * the first group) overrides `loop()`, a receiver overrides `recv()`.
 * `who` names it: the actor, or its class.
 */
export function checkRole(
  actor: Actor<unknown, unknown>,
  source: boolean,
  where: string,
  who: string,
): void {
  if (source && !hasLoop(actor)) {
    throw new TypeError(
      at(
        where,
        `${who} has no loop(); the first group's actors are sources and must override loop()`,
      ),
    );
  }
  if (!source && !hasRecv(actor)) {
    throw new TypeError(
      at(
        where,
        `${who} has no recv(); the actors of every group after the first must override recv()`,
      ),
    );
  }
}

/**
 * Throws a `TypeError` unless `value` is a group name: a non-empty string
 * other than the names of the main thread's edges.
 */
export function checkGroupName(value: unknown, where: string): string {
  if (typeof value !== "string" || value === "") {
    throw new TypeError(
      at(
        where,
        `a group name must be a non-empty string, received ${
          render(value)
        }; name it such as "work", or leave the name out`,
      ),
    );
  }
  if (RESERVED_GROUP_NAMES.includes(value)) {
    throw new TypeError(
      at(
        where,
        `a group name must not be ${
          RESERVED_GROUP_NAMES.map((n) => `"${n}"`).join(" or ")
        } (the main thread's edges in the metrics), received "${value}"; choose another name, such as "${value}-stage"`,
      ),
    );
  }
  return value;
}

/**
 * Throws a `TypeError` unless `key` can be a key of the object given to
 * `connect()`: JavaScript lists integer keys first, in numeric order,
 * whatever the order they were written in. (The name a key gives a group
 * is checked by {@linkcode checkGroupName}.)
 */
export function checkGroupKey(key: string, where: string): string {
  if (/^(0|[1-9]\d*)$/.test(key) && Number(key) < 2 ** 32 - 1) {
    throw new TypeError(
      at(
        where,
        `a group key must not be an integer, received "${key}"; JavaScript puts integer keys first, in numeric order, whatever the order written: use a name that is not a number, such as "stage-${key}"`,
      ),
    );
  }
  return key;
}

/** The options of a group's failure policy, in the order documented. */
export const POLICY_KEYS = [
  "retries",
  "backoffMs",
  "onError",
  "restarts",
  "recvTimeoutMs",
  "concurrency",
] as const;

/** The default restart intensity of `onError: "restart"`. */
export const DEFAULT_RESTARTS = Object.freeze({ max: 3, withinMs: 60_000 });

/** Checks one option of a group's failure policy (`POLICY_KEYS`). */
export function checkPolicyOption(
  key: typeof POLICY_KEYS[number],
  value: unknown,
  where: string,
): unknown {
  switch (key) {
    case "retries":
      return checkCount(value, where, "retries", 0, 2);
    case "backoffMs":
      return checkDelay(value, where, "backoffMs");
    case "onError":
      return checkOnError(value, where);
    case "restarts":
      return checkRestarts(value, where);
    case "recvTimeoutMs":
      return checkDelay(value, where, "recvTimeoutMs", true);
    case "concurrency":
      return checkCount(value, where, "concurrency", 1, 8);
  }
}

/** Throws unless `value` is a safe integer of at least `least`. */
function checkCount(
  value: unknown,
  where: string,
  name: string,
  least: number,
  example: number,
): number {
  if (
    typeof value === "number" && Number.isSafeInteger(value) && value >= least
  ) return value;
  const Error = typeof value === "number" ? RangeError : TypeError;
  throw new Error(
    at(
      where,
      `${name} must be a whole number from ${least}, received ${
        render(value)
      }; such as ${example}`,
    ),
  );
}

function checkOnError(
  value: unknown,
  where: string,
): "fail" | "skip" | "restart" {
  if (value === "fail" || value === "skip" || value === "restart") {
    return value;
  }
  throw new TypeError(
    at(
      where,
      `onError must be "fail", "skip" or "restart", received ${
        render(value)
      }; "fail" fails the run, "skip" sends the message to the dead letters, "restart" starts the actor again`,
    ),
  );
}

function checkRestarts(
  value: unknown,
  where: string,
): { max: number; withinMs: number } {
  const o = checkOptions(
    value,
    ["max", "withinMs"],
    at(where, "restarts"),
    "{ max: 3, withinMs: 60000 }",
  );
  return {
    max: o.max === undefined
      ? DEFAULT_RESTARTS.max
      : checkCount(o.max, where, "restarts.max", 0, 3),
    withinMs: o.withinMs === undefined
      ? DEFAULT_RESTARTS.withinMs
      : checkDelay(o.withinMs, where, "restarts.withinMs", true),
  };
}

/** Throws a `TypeError` unless `value` is a group's place. */
export function checkPlace(value: unknown, where: string): "workers" | "here" {
  if (value !== "workers" && value !== "here") {
    throw new TypeError(
      at(
        where,
        `place must be "workers" or "here", received ${render(value)}`,
      ),
    );
  }
  return value;
}

/** Throws a `TypeError` unless `value` is `{ wait: n }` or `{ spawn: n }`. */
export function checkWorkers(
  value: unknown,
  where: string,
): WorkersOption {
  const keys = isPlainObject(value) ? Object.keys(value) : [];
  const key = keys[0];
  const n = key === undefined
    ? undefined
    : (value as Record<string, unknown>)[key];
  if (
    keys.length !== 1 || (key !== "wait" && key !== "spawn") ||
    !Number.isSafeInteger(n) || (n as number) < 1
  ) {
    throw new TypeError(
      at(
        where,
        `workers must be { wait: n } or { spawn: n } with n a whole number of processes from 1, received ${
          render(value)
        }`,
      ),
    );
  }
  return key === "wait" ? { wait: n as number } : { spawn: n as number };
}
