/**
 * Across processes: numbers from this process, squared by four actors in
 * two worker processes that this one starts (`start({ workers: { spawn: 2
 * } })`), added up here. The Redis is the one of `BATON_REDIS_URL`
 * (default `redis://127.0.0.1:6379`); on other machines, the same code
 * joins with `deno run -R --allow-net=<redis host:port>
 * --allow-env=REDIS_DEBUG_MAINTENANCE cli.ts worker --redis URL --run NAME
 * --slots 2`, and `{ wait: 2 }` waits for them instead.
 *
 *     deno run -R --allow-net=127.0.0.1 --allow-env=BATON_REDIS_URL,REDIS_DEBUG_MAINTENANCE --allow-run examples/distributed.ts
 *
 * @module
 */

import { group, Relay } from "../mod.ts";
import { redis } from "../redis.ts";
import { Numbers, Square, Sum } from "./distributed_actors.ts";

if (import.meta.main) {
  const url = Deno.env.get("BATON_REDIS_URL") ?? "redis://127.0.0.1:6379";
  const relay = new Relay({
    maxsize: 1024,
    transport: redis({ url, run: `example-${Deno.pid}` }),
  });
  relay.connect(
    new Numbers(),
    group(Array.from({ length: 4 }, () => new Square()), {
      name: "square",
      place: "workers",
    }),
    new Sum(),
  );
  const reports = Array.fromAsync(
    relay.reports<{ sum: number; pids: number[] }>(),
  );
  const metrics = await relay.start({ workers: { spawn: 2 } });
  const [{ sum, pids }] = (await reports).map((r) => r.value);
  const n = 10_000;
  if (sum !== n * (n + 1) * (2 * n + 1) / 6) {
    throw new Error(`wrong sum ${sum}`);
  }
  console.log(
    `sum of squares 1…${n}: ${sum}, squared in ${pids.length} worker processes, in ${
      (metrics.elapsedMs / 1000).toFixed(2)
    } s`,
  );
}
