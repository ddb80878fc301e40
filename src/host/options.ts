/**
 * The option objects of the code API (`new Relay()`, `group()`, `start()`,
 * `close()`), checked before anything runs: an object, no key it does not
 * know (the closest known key named), each value through its rule in
 * `validate.ts`.
 *
 * @module
 */

import type { InputSource } from "./input.ts";
import type { GroupOptions } from "../topology.ts";
import type { RelayTransport, WorkersOption } from "../options.ts";
import {
  at,
  checkDelay,
  checkGroupName,
  checkLogger,
  checkMaxsize,
  checkOptions,
  checkPermissions,
  checkPlace,
  checkPolicyOption,
  checkShutdownTimeout,
  checkWorkers,
  DEFAULT_RESTARTS,
  POLICY_KEYS,
} from "./validate.ts";
import { isPlainObject, render } from "../common/values.ts";
import type { Policy } from "../common/protocol.ts";

/** The options of a relay, checked; `undefined` where the default applies. */
export interface RelaySettings {
  readonly maxsize: number | undefined;
  readonly category: readonly string[] | undefined;
  readonly shutdownTimeout: number | undefined;
  readonly inline: boolean;
  readonly transport: RelayTransport | undefined;
}

/** Checks the options of `new Relay()`. */
export function relayOptions(options: unknown): RelaySettings {
  const where = "Cannot create relay";
  const o = checkOptions(
    options,
    ["maxsize", "logger", "shutdownTimeout", "inline", "transport"],
    where,
    "{ maxsize: 16 }",
  );
  const transport = o.transport as RelayTransport | undefined;
  if (
    transport !== undefined &&
    (typeof transport !== "object" || transport === null ||
      typeof transport.open !== "function")
  ) {
    throw new TypeError(
      at(
        where,
        `transport must be what redis() of @baton/relay/redis returns, received ${
          render(o.transport)
        }`,
      ),
    );
  }
  if (transport !== undefined && o.inline === true) {
    throw new TypeError(
      at(where, "inline and transport exclude each other"),
    );
  }
  if (o.inline !== undefined && typeof o.inline !== "boolean") {
    throw new TypeError(
      at(where, `inline must be a boolean, received ${render(o.inline)}`),
    );
  }
  return {
    transport,
    inline: o.inline === true,
    maxsize: o.maxsize === undefined
      ? undefined
      : checkMaxsize(o.maxsize, where),
    category: o.logger === undefined ? undefined : checkLogger(o.logger, where),
    shutdownTimeout: o.shutdownTimeout === undefined
      ? undefined
      : checkShutdownTimeout(o.shutdownTimeout, where),
  };
}

/** Checks the options of `group()`; returns them normalised and frozen. */
export function groupOptions(options: unknown): Readonly<GroupOptions> {
  const where = "Cannot make a group";
  const o = checkOptions(
    options,
    [
      "name",
      "maxsize",
      "permissions",
      "place",
      ...POLICY_KEYS,
    ],
    where,
    '{ name: "work", maxsize: 4 }',
  );
  const out: GroupOptions = {};
  if (o.name !== undefined) out.name = checkGroupName(o.name, where);
  if (o.maxsize !== undefined) out.maxsize = checkMaxsize(o.maxsize, where);
  if (o.permissions !== undefined) {
    out.permissions = checkPermissions(o.permissions, where);
  }
  for (const key of POLICY_KEYS) {
    if (o[key] !== undefined) {
      (out as Record<string, unknown>)[key] = checkPolicyOption(
        key,
        o[key],
        where,
      );
    }
  }
  if (o.place !== undefined) out.place = checkPlace(o.place, where);
  return Object.freeze(out);
}

/** A group's failure policy, defaults applied. */
export function policyOf(options: Readonly<GroupOptions>): Policy {
  return Object.freeze({
    retries: options.retries ?? 0,
    backoffMs: options.backoffMs ?? 0,
    onError: options.onError ?? "fail",
    restarts: Object.freeze({ ...DEFAULT_RESTARTS, ...options.restarts }),
    recvTimeoutMs: options.recvTimeoutMs,
    concurrency: options.concurrency ?? 1,
  });
}

/** The options of `start()`, checked. */
export interface StartSettings {
  readonly signal: AbortSignal | undefined;
  readonly input: InputSource<unknown> | undefined;
  /** false, true, or true with the first group's total. */
  readonly progress: boolean | { readonly total?: number };
  /** What aborting the signal does. */
  readonly onAbort: "cancel" | "drain";
  /** The worker processes of a run across processes. */
  readonly workers: WorkersOption | undefined;
}

/**
 * Checks the options of `start()` (`results()`, `stream()`, which passes
 * `input` itself and so may not take it).
 */
export function startOptions(
  options: unknown,
  where: string,
  input = true,
): StartSettings {
  const o = checkOptions(
    options,
    input
      ? ["signal", "onAbort", "input", "progress", "workers"]
      : ["signal", "onAbort", "progress", "workers"],
    where,
    "{ signal: AbortSignal.timeout(1000) }",
  );
  if (o.signal !== undefined && !(o.signal instanceof AbortSignal)) {
    throw new TypeError(
      at(
        where,
        `signal must be an AbortSignal, received ${
          render(o.signal)
        }; pass one from an AbortController or AbortSignal.timeout()`,
      ),
    );
  }
  return {
    signal: o.signal,
    input: o.input === undefined ? undefined : checkInput(o.input, where),
    progress: checkProgress(o.progress, where),
    onAbort: checkOnAbort(o.onAbort, where),
    workers: o.workers === undefined
      ? undefined
      : checkWorkers(o.workers, where),
  };
}

function checkOnAbort(value: unknown, where: string): "cancel" | "drain" {
  if (value === undefined || value === "cancel" || value === "drain") {
    return value ?? "cancel";
  }
  throw new TypeError(
    at(
      where,
      `onAbort must be "cancel" or "drain", received ${
        render(value)
      }; "cancel" terminates every actor when the signal aborts, "drain" lets the pipeline drain first`,
    ),
  );
}

function checkProgress(
  value: unknown,
  where: string,
): boolean | { readonly total?: number } {
  if (value === undefined || typeof value === "boolean") return value === true;
  if (isPlainObject(value)) {
    const { total } = checkOptions(
      value,
      ["total"],
      at(where, "progress"),
      "{ total: 1000 }",
    );
    if (
      total === undefined ||
      (typeof total === "number" && Number.isInteger(total) && total >= 0)
    ) {
      return total === undefined ? true : { total };
    }
    throw new TypeError(
      at(
        where,
        `progress.total must be a whole number of messages, received ${
          render(total)
        }`,
      ),
    );
  }
  throw new TypeError(
    at(
      where,
      `progress must be true, false or { total }, received ${render(value)}`,
    ),
  );
}

function checkInput(value: unknown, where: string): InputSource<unknown> {
  if (
    value instanceof ReadableStream ||
    (value !== null && value !== undefined &&
      (typeof (value as Iterable<unknown>)[Symbol.iterator] === "function" ||
        typeof (value as AsyncIterable<unknown>)[Symbol.asyncIterator] ===
          "function"))
  ) return value as InputSource<unknown>;
  throw new TypeError(
    at(
      where,
      `input must be an iterable, an async iterable or a ReadableStream, received ${
        render(value)
      }; pass an array, a generator or a stream of what the first group receives`,
    ),
  );
}

/**
 * The largest window of ordered results: the window cell counts modulo
 * 2^32 (`common/order.ts`), which is exact while the origin is less than
 * 2^31 ahead.
 */
export const MAX_WINDOW = 2 ** 30;

/** The order options of `results()` and `stream()`, checked. */
export interface ResultsSettings {
  /** The options that go to `start()`. */
  readonly start: Record<string, unknown>;
  /** With `ordered: true`: the window (undefined: the default). */
  readonly order: { readonly window: number | undefined } | undefined;
}

/**
 * Checks the options of `results()` (`stream()`, without `input`): those of
 * `start()`, plus `ordered` and `window`.
 */
export function resultsOptions(
  options: unknown,
  where: string,
  input = true,
): ResultsSettings {
  const o = checkOptions(
    options,
    input
      ? [
        "signal",
        "onAbort",
        "input",
        "progress",
        "workers",
        "ordered",
        "window",
      ]
      : ["signal", "onAbort", "progress", "workers", "ordered", "window"],
    where,
    "{ ordered: true }",
  );
  const { ordered, window, ...start } = o;
  startOptions(start, where, input);
  if (ordered !== undefined && typeof ordered !== "boolean") {
    throw new TypeError(
      at(where, `ordered must be a boolean, received ${render(ordered)}`),
    );
  }
  if (window !== undefined && ordered !== true) {
    throw new TypeError(
      at(
        where,
        `window bounds the reorder buffer of ordered results, received ${
          render(window)
        } without ordered: true; pass ordered: true with it, or leave window out`,
      ),
    );
  }
  if (
    window !== undefined &&
    !(typeof window === "number" && Number.isInteger(window) && window >= 1 &&
      window <= MAX_WINDOW)
  ) {
    const Error = typeof window === "number" ? RangeError : TypeError;
    throw new Error(
      at(
        where,
        `window must be a whole number of messages from 1 to ${MAX_WINDOW}, received ${
          render(window)
        }; such as 256, or leave it out for the sum of the edges' maxsize`,
      ),
    );
  }
  return {
    start,
    order: ordered === true
      ? { window: window as number | undefined }
      : undefined,
  };
}

/**
 * Throws unless the first group can give ordered results their order: the
 * main thread's input, or one actor (several senders have no one order).
 */
export function checkOrderedGroups(
  first: {
    readonly name: string;
    readonly actors: readonly { name: string }[];
  },
  input: boolean,
  where: string,
): void {
  if (input || first.actors.length === 1) return;
  throw new TypeError(
    at(
      where,
      `ordered results come in the order in which the first group sent, and its ${first.actors.length} actors (${
        first.actors.map((a) => a.name).join(", ")
      }, group ${first.name}) have no one order; make the first group one source actor, or input(), or read the results unordered`,
    ),
  );
}

/** The options of `close()`, checked. */
export interface CloseSettings {
  readonly timeout: number | undefined;
  readonly reason: unknown;
}

/** Checks the options of `close()`. */
export function closeOptions(options: unknown): CloseSettings {
  const where = "Cannot close relay";
  const o = checkOptions(
    options,
    ["timeout", "reason"],
    where,
    "{ timeout: 1000 }",
  );
  return {
    timeout: o.timeout === undefined
      ? undefined
      : checkDelay(o.timeout, where, "timeout"),
    reason: o.reason,
  };
}
