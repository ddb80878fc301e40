/**
 * The options of `redis()` and their checks, apart from the coordinator so
 * that a pipeline file's `transport: { redis: … }` is checked (at its keys)
 * without loading `npm:redis`: this module imports no Redis code.
 *
 * @module
 */

import { at } from "../validate.ts";
import { render } from "../../common/values.ts";

/** Options of `redis()`. */
export interface RedisOptions {
  /** The Redis to meet on: `redis://host:port`. */
  readonly url: string;
  /**
   * The run's name: worker processes join it by name (`--run`). Letters,
   * digits, `.`, `_` and `-`; one run of a name at a time on one Redis.
   */
  readonly run: string;
  /**
   * How long Redis may be unreachable before the run fails (ms). Default
   * 10 000.
   */
  readonly unreachableMs?: number;
  /**
   * A process whose heartbeat is older than this is dead (ms). Default
   * 3000; heartbeats go every third of it.
   */
  readonly heartbeatMs?: number;
  /**
   * How long `start()` waits for the worker processes to join (ms).
   * Default 30 000.
   */
  readonly joinTimeoutMs?: number;
  /**
   * Most times an entry may be delivered (to a member that then died, and
   * again): one more fails the run, or, in a group with `onError: "skip"`,
   * sends the entry's messages to the dead letters. Default 3.
   */
  readonly maxDeliveries?: number;
  /** Slots (actors) per spawned worker process. Default: as many as needed. */
  readonly slots?: number;
  /**
   * Most messages in one stream entry. Default 256: one message per entry
   * costs a Redis round trip per message (about 10 k messages/s).
   */
  readonly batch?: number;
}

/** The keys of {@linkcode RedisOptions}. */
export const REDIS_KEYS = [
  "url",
  "run",
  "unreachableMs",
  "heartbeatMs",
  "joinTimeoutMs",
  "maxDeliveries",
  "slots",
  "batch",
] as const;

/** The options that are whole numbers from 1. */
const COUNTS = REDIS_KEYS.slice(2) as readonly (keyof RedisOptions)[];

const RUN_NAME = /^[A-Za-z0-9._-]{1,100}$/;

/** Throws a `TypeError` unless `url` is a `redis://` or `rediss://` URL. */
export function checkRedisUrl(url: unknown, where: string): string {
  let host = "";
  if (typeof url === "string" && /^rediss?:\/\//.test(url)) {
    try {
      host = new URL(url).hostname;
    } catch {
      // reported below
    }
  }
  if (host === "") {
    throw new TypeError(
      at(
        where,
        `url must be a redis:// URL with a host, such as redis://10.0.0.5:6379, received ${
          render(url)
        }`,
      ),
    );
  }
  return url as string;
}

/** Throws a `TypeError` unless `run` is a run's name. */
export function checkRunName(run: unknown, where: string): string {
  if (typeof run !== "string" || !RUN_NAME.test(run)) {
    throw new TypeError(
      at(
        where,
        `run must be 1 to 100 letters, digits, ".", "_" or "-", received ${
          render(run)
        }`,
      ),
    );
  }
  return run;
}

/** Throws a `RangeError` unless option `key` is a whole number from 1. */
export function checkRedisCount(
  key: string,
  value: unknown,
  where: string,
): number {
  if (!Number.isSafeInteger(value) || (value as number) < 1) {
    throw new RangeError(
      at(
        where,
        `${key} must be a whole number from 1, received ${render(value)}`,
      ),
    );
  }
  return value as number;
}

/** Checks the options of `redis()`; throws a `TypeError` or `RangeError`. */
export function checkRedisOptions(options: RedisOptions): RedisOptions {
  const where = "Cannot use Redis";
  checkRedisUrl(options?.url, where);
  checkRunName(options.run, where);
  for (const key of COUNTS) {
    const v = options[key];
    if (v !== undefined) checkRedisCount(key, v, where);
  }
  return options;
}
