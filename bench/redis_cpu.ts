/**
 * Where the time of `bench/redis.ts`'s batched workload goes: 1→2→1 over 4
 * processes on Redis (or, with `--here`, in this process), once, with the
 * CPU each process spent (from `/proc/<pid>/stat`, read with `cat`), Redis'
 * CPU (`INFO cpu`) and its commands (`INFO commandstats`), per message.
 * Run it with `--messages=1000` too: what that costs is the fixed cost of
 * starting and stopping, to subtract.
 *
 *     BATON_REDIS_URL=redis://127.0.0.1:6379 deno run -R=. --allow-run --allow-net=127.0.0.1 --allow-env=BATON_REDIS_URL,REDIS_DEBUG_MAINTENANCE bench/redis_cpu.ts --messages=400000
 *
 * Flags: `--messages=N` (default 400 000), `--batch=N` (messages per entry,
 * default 256), `--maxsize=N` (default the relay's), `--here`.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { group, Relay } from "../mod.ts";
import { redis } from "../redis.ts";
import { RedisLink } from "../src/link/redis/link.ts";
import { Count, Pass, Tally } from "./redis_actors.ts";
import { redisCpu } from "./report.ts";

const { values: flags } = parseArgs({
  args: Deno.args,
  options: {
    messages: { type: "string" },
    batch: { type: "string" },
    maxsize: { type: "string" },
    here: { type: "boolean", default: false },
  },
});
const url = Deno.env.get("BATON_REDIS_URL");
if (url === undefined) {
  console.error("bench/redis_cpu.ts: set BATON_REDIS_URL to a Redis to run on");
  Deno.exit(2);
}
const count = Number(flags.messages ?? 400_000);
const batch = Number(flags.batch ?? 256);
const maxsize = flags.maxsize === undefined ? undefined : Number(flags.maxsize);

/** Clock ticks per second of `/proc/<pid>/stat` (USER_HZ on Linux). */
const TICKS = 100;

/**
 * `/proc/<pid>/stat` of every process, by pid: its command's name, then the
 * fields after it (Deno reads /proc only with -A).
 */
async function stats(): Promise<Map<number, [string, string[]]>> {
  const out = await new Deno.Command("sh", {
    args: ["-c", "cat /proc/[0-9]*/stat 2>/dev/null"],
    stdout: "piped",
    stderr: "null",
  }).output();
  const all = new Map<number, [string, string[]]>();
  for (const line of new TextDecoder().decode(out.stdout).split("\n")) {
    const close = line.lastIndexOf(")");
    if (close < 0) continue;
    const pid = Number(line.slice(0, line.indexOf(" ")));
    const name = line.slice(line.indexOf("(") + 1, close);
    all.set(pid, [name, line.slice(close + 2).split(" ")]);
  }
  return all;
}
/** CPU seconds (user + system) of a stat line's fields. */
const cpuOf = (f: string[]): number => (Number(f[11]) + Number(f[12])) / TICKS;

const link = await RedisLink.connect({ url });
const info = async (section: string) =>
  String(await link.command(["INFO", section]));

// The worker processes end with the run: their CPU is their last sample.
const children = new Map<number, number>();
let sampling = true;
const sampler = (async () => {
  while (sampling) {
    for (const [pid, [name, f]] of await stats()) {
      if (name === "deno" && Number(f[1]) === Deno.pid) {
        children.set(pid, cpuOf(f));
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
})();

await link.command(["CONFIG", "RESETSTAT"]);
const redis0 = await redisCpu(link);
const self0 = cpuOf((await stats()).get(Deno.pid)![1]);
const place = flags.here ? {} : { place: "workers" as const };
const relay = new Relay({
  maxsize,
  transport: flags.here
    ? undefined
    : redis({ url, run: `cpu-${Deno.pid}`, batch, slots: 1 }),
});
relay.connect(
  Object.assign(new Count(), { count }),
  group([new Pass(), new Pass()], { name: "pass", ...place }),
  group([new Tally()], { name: "tally", ...place }),
);
const reports = Array.fromAsync(
  relay.reports<{ n: number; first: number; last: number }>(),
);
await relay.start(flags.here ? {} : { workers: { spawn: 3 } });
const [t] = (await reports).map((r) => r.value);
sampling = false;
await sampler;
const self = cpuOf((await stats()).get(Deno.pid)![1]) - self0;
const redisSpent = (await redisCpu(link)) - redis0;
const commands = await info("commandstats");
await link.quit();

if (t.n !== count) throw new Error(`${t.n} of ${count} arrived`);
const us = (seconds: number) => (seconds / count * 1e6).toFixed(2);
const rate = (count - 1) / ((t.last - t.first) / 1000);
console.log(
  `${Math.round(rate).toLocaleString("en-US")} msg/s over ${
    ((t.last - t.first) / 1000).toFixed(2)
  } s (${count} messages, ${batch} per entry, maxsize ${maxsize ?? "default"}${
    flags.here ? ", in this process" : ""
  })`,
);
console.log(`this process: ${self.toFixed(2)} s CPU, ${us(self)} µs/msg`);
for (const [pid, cpu] of children) {
  console.log(`worker process ${pid}: ${cpu.toFixed(2)} s, ${us(cpu)} µs/msg`);
}
console.log(`Redis: ${redisSpent.toFixed(2)} s CPU, ${us(redisSpent)} µs/msg`);
for (const line of commands.split(/\r?\n/)) {
  const m = /^cmdstat_(\w+):calls=(\d+),usec=(\d+)/.exec(line);
  if (m === null || Number(m[2]) < count / 1000) continue;
  console.log(
    `  ${m[1]}: ${m[2]} calls, ${(Number(m[2]) / count).toFixed(4)}/msg, ${
      (Number(m[3]) / count).toFixed(2)
    } µs/msg`,
  );
}
