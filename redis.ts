/**
 * The Redis entry of baton (`@baton/relay/redis`): the same pipeline across
 * processes and machines, on Redis Streams. Importing it loads `npm:redis`;
 * `mod.ts` never does.
 *
 * ```ts ignore
 * import { group, Relay } from "@baton/relay";
 * import { redis } from "@baton/relay/redis";
 *
 * const relay = new Relay({ transport: redis({ url, run: "nightly-1201" }) });
 * relay.connect(new Producer(), group(parsers, { place: "workers" }), new Store());
 * await relay.start({ workers: { spawn: 2 } });
 * ```
 *
 * On every machine that takes a share of the work (the same code checked
 * out): `deno run -R --allow-net=<redis host:port>
 * --allow-env=REDIS_DEBUG_MAINTENANCE cli.ts worker --redis URL --run NAME
 * --slots 4`.
 *
 * @module
 */

import type {
  OpenedRun,
  PlacedRun,
  RelayTransport,
  WorkersOption,
} from "./src/options.ts";
import {
  type RedisOptions,
  redisPlacement,
} from "./src/host/redis/coordinator.ts";

// What redis() returns names these; mod.ts exports them too.
export type {
  OpenedRun,
  PlacedRun,
  RedisOptions,
  RelayTransport,
  WorkersOption,
};
export {
  runWorkerProcess,
  type WorkerProcessOptions,
} from "./src/host/redis/worker_process.ts";

/**
 * A relay's `transport` across processes and machines, on the Redis at
 * `url`: `new Relay({ transport: redis({ url, run }) })`. Throws a
 * `TypeError` or `RangeError` for bad options.
 */
export function redis(options: RedisOptions): RelayTransport {
  return redisPlacement(options);
}
