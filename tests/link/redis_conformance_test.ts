/**
 * The link conformance suite on the Redis transport, against the Redis of
 * `BATON_REDIS_URL` (ignored without it, failing under CI=true), in this
 * process's main thread: the transport's senders and receivers are what a
 * process's main thread opens, whatever runs its actors.
 *
 * @module
 */

import { RedisLink } from "../../src/link/redis/link.ts";
import { RedisTransport } from "../../src/link/redis/transport.ts";
import { REDIS_URL, redisTest, uniqueRun } from "../_redis.ts";
import { conformance } from "./conformance.ts";

if (REDIS_URL === undefined) {
  redisTest(
    "Redis transport: the link conformance suite",
    () => Promise.resolve(),
  );
} else {
  const link = await RedisLink.connect({ url: REDIS_URL });
  const transport = new RedisTransport(link, { run: uniqueRun("conf") });
  conformance("Redis transport", transport, {
    runs: 60,
    abortRuns: 30,
    sanitize: false,
  });
  Deno.test({
    name: "Redis transport: closes its connections",
    sanitizeOps: false,
    sanitizeResources: false,
    fn: async () => {
      transport.closeAll();
      await link.quit();
    },
  });
}
