/**
 * What one round trip to Redis costs the process that makes it, against the
 * ceiling of the same round trip on a bare TCP socket: `PING` through the
 * Redis transport's connection (`RedisLink`, over node-redis), one at a time
 * and 8 in flight, and `PING` written by hand to a `Deno.connect` socket, one
 * at a time, in alternating rounds. It prints wall time and this process's
 * CPU per round trip, and Redis' own CPU per command.
 *
 * A run across processes (`bench/redis.ts`) spends most of its CPU per call,
 * not per message (`bench/redis_cpu.ts`): this says what a call costs on the
 * machine at hand, and how much of it is the socket's wake-up, which no
 * client can avoid, and how much the client's code.
 *
 * ```sh
 * BATON_REDIS_URL=redis://127.0.0.1:6379 deno run --allow-net=127.0.0.1 --allow-env=BATON_REDIS_URL,REDIS_DEBUG_MAINTENANCE bench/redis_round_trip.ts
 * ```
 *
 * Flags: `--calls=N` per round (default 20 000), `--rounds=N` (default 5).
 *
 * @module
 */

import process from "node:process";
import { parseArgs } from "node:util";
import { RedisLink } from "../src/link/redis/link.ts";
import { fixed, redisCpu, spread } from "./report.ts";

const { values: flags } = parseArgs({
  args: Deno.args,
  options: { calls: { type: "string" }, rounds: { type: "string" } },
});
const url = Deno.env.get("BATON_REDIS_URL");
if (url === undefined) {
  console.error(
    "bench/redis_round_trip.ts: set BATON_REDIS_URL to a Redis to run on",
  );
  Deno.exit(2);
}
const calls = Number(flags.calls ?? 20_000);
const rounds = Number(flags.rounds ?? 5);
const where = new URL(url);

const link = await RedisLink.connect({ url });
const socket = await Deno.connect({
  hostname: where.hostname,
  port: Number(where.port || 6379),
});
const PING = new TextEncoder().encode("*1\r\n$4\r\nPING\r\n");
const reply = new Uint8Array(64);

/** Reads one `+PONG\r\n` reply (7 bytes), however the socket splits it. */
async function pong(): Promise<void> {
  let got = 0;
  while (got < 7) {
    const n = await socket.read(reply.subarray(got));
    if (n === null) throw new Error("Redis closed the socket");
    got += n;
  }
}

interface Measure {
  /** µs of wall time per call. */
  wall: number;
  /** µs of this process's CPU per call. */
  cpu: number;
  /** µs of Redis' CPU per call. */
  redis: number;
}

async function measure(run: () => Promise<void>): Promise<Measure> {
  const r0 = await redisCpu(link);
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await run();
  const t = performance.now() - t0;
  const c = process.cpuUsage(c0);
  const r = await redisCpu(link) - r0;
  return {
    wall: t * 1000 / calls,
    cpu: (c.user + c.system) / calls,
    redis: r * 1e6 / calls,
  };
}

const variants: [string, () => Promise<void>][] = [
  ["bare socket, one at a time", async () => {
    for (let i = 0; i < calls; i++) {
      await socket.write(PING);
      await pong();
    }
  }],
  ["RedisLink (node-redis), one at a time", async () => {
    for (let i = 0; i < calls; i++) await link.command(["PING"]);
  }],
  ["RedisLink (node-redis), 8 in flight", async () => {
    for (let i = 0; i < calls; i += 8) {
      await Promise.all(
        Array.from(
          { length: Math.min(8, calls - i) },
          () => link.command(["PING"]),
        ),
      );
    }
  }],
];

const results = new Map<string, Measure[]>(
  variants.map(([name]) => [name, []]),
);
for (let r = 0; r < rounds; r++) {
  // Which goes first turns round by round.
  const order = r % 2 === 0 ? variants : [...variants].reverse();
  for (const [name, run] of order) results.get(name)!.push(await measure(run));
}
socket.close();
await link.quit();

console.log(
  `| round trip (${calls} per round, ${rounds} rounds) | wall µs/call | this process's CPU µs/call | Redis' CPU µs/call |`,
);
console.log("| --- | --- | --- | --- |");
for (const [name, ms] of results) {
  console.log(
    `| ${name} | ${spread(ms.map((m) => m.wall), fixed(1))} | ${
      spread(ms.map((m) => m.cpu), fixed(1))
    } | ${spread(ms.map((m) => m.redis), fixed(1))} |`,
  );
}
