/**
 * Benchmarks across processes on Redis, in one run, as ratios: 1→2→1 over 4
 * processes (the source here, the two middle actors and the sink in three
 * worker processes), batched (256 messages per stream entry) and unbatched
 * (1), against the same pipeline in this process; the time from a SIGKILL
 * of a worker process to the first redelivered message at the reader;
 * from an error to every process gone; 4 processes ready (start() to the
 * first result, spawning included); and an I/O-bound middle on workers
 * (a 5 ms timer per message) with `concurrency` 16 against 1.
 *
 *     BATON_REDIS_URL=redis://127.0.0.1:6379 deno run -R=. --allow-run --allow-net=127.0.0.1 --allow-env=BATON_REDIS_URL,REDIS_DEBUG_MAINTENANCE bench/redis.ts
 *
 * Flags: `--messages=N` (batched and in-process, default 200 000; the
 * unbatched run takes a tenth), `--smoke` (tiny, for a check that it runs).
 *
 * @module
 */

import { parseArgs } from "node:util";
import { group, Relay, RelayError } from "../mod.ts";
import { redis } from "../redis.ts";
import { Count, Nap, now, Pass, Tally, Throw, Where } from "./redis_actors.ts";

const { values: flags } = parseArgs({
  args: Deno.args,
  options: {
    messages: { type: "string" },
    smoke: { type: "boolean", default: false },
  },
});
const url = Deno.env.get("BATON_REDIS_URL");
if (url === undefined) {
  console.error("bench/redis.ts: set BATON_REDIS_URL to a Redis to run on");
  Deno.exit(2);
}
const messages = Number(flags.messages ?? (flags.smoke ? 2000 : 200_000));
let runs = 0;
const name = () => `bench-${Deno.pid}-${runs++}`;

interface Tallied {
  n: number;
  first: number;
  last: number;
}

/** Messages per second through 1→2→1, here or over 4 processes. */
async function throughput(
  count: number,
  across: { batch: number; maxsize?: number } | undefined,
): Promise<number> {
  const place = across === undefined ? {} : { place: "workers" as const };
  const relay = new Relay({
    maxsize: across?.maxsize,
    transport: across === undefined
      ? undefined
      : redis({ url: url!, run: name(), batch: across.batch, slots: 1 }),
  });
  relay.connect(
    Object.assign(new Count(), { count }),
    group([new Pass(), new Pass()], { name: "pass", ...place }),
    group([new Tally()], { name: "tally", ...place }),
  );
  const reports = Array.fromAsync(relay.reports<Tallied>());
  await relay.start(across === undefined ? {} : { workers: { spawn: 3 } });
  const [t] = (await reports).map((r) => r.value);
  if (t.n !== count) throw new Error(`${t.n} of ${count} arrived`);
  return (count - 1) / ((t.last - t.first) / 1000);
}

/**
 * Messages per second through 1→2→1 with the middle group on workers
 * awaiting a 5 ms timer per message, `concurrency` calls at a time.
 */
async function napping(count: number, concurrency: number): Promise<number> {
  // Entries of 16: with 256, one middle could get most of a short run.
  const relay = new Relay({
    transport: redis({ url: url!, run: name(), slots: 1, batch: 16 }),
  });
  relay.connect(
    Object.assign(new Count(), { count }),
    group([new Nap(), new Nap()], {
      name: "nap",
      place: "workers",
      concurrency,
    }),
    new Tally(),
  );
  const reports = Array.fromAsync(relay.reports<Tallied>());
  await relay.start({ workers: { spawn: 2 } });
  const [t] = (await reports).map((r) => r.value);
  if (t.n !== count) throw new Error(`${t.n} of ${count} arrived`);
  return (count - 1) / ((t.last - t.first) / 1000);
}

/**
 * ms from a SIGKILL of a worker process to the first result of its member
 * started again on the live one (which takes over its pending entries).
 */
async function killToReclaim(): Promise<number> {
  const heartbeatMs = 1500;
  const relay = new Relay({
    maxsize: 256,
    transport: redis({ url: url!, run: name(), heartbeatMs, slots: 2 }),
  });
  relay.connect(
    Object.assign(new Count(), { count: 1e9 }),
    group([new Where(), new Where()], { name: "where", place: "workers" }),
  );
  const results = relay.results<[number, number, string]>();
  const done = relay.start({ workers: { spawn: 2 } });
  done.catch(() => {});
  const tags = new Set<string>();
  let n = 0;
  let killed = 0;
  for await (const [, pid, tag] of results) {
    if (killed === 0 && ++n >= 20_000) {
      Deno.kill(pid, "SIGKILL");
      killed = now();
    } else if (killed > 0 && !tags.has(tag)) {
      const ms = now() - killed;
      await relay.close({ timeout: 0 });
      await done.catch(() => {});
      return ms;
    }
    tags.add(tag);
  }
  throw new Error("the run ended before the member started again");
}

/** ms from an actor's throw in a worker process to every process gone. */
async function errorToExit(): Promise<number> {
  const relay = new Relay({
    transport: redis({ url: url!, run: name(), slots: 1 }),
  });
  relay.connect(
    Object.assign(new Count(), { count: 1e9 }),
    // Whichever of the two gets message 5000 throws.
    group([
      Object.assign(new Throw(), { at: 5000 }),
      Object.assign(new Throw(), { at: 5000 }),
    ], { name: "throw", place: "workers" }),
    group([new Tally()], { name: "tally", place: "workers" }),
  );
  // start() settles once every worker process it started exited.
  const error = await relay.start({ workers: { spawn: 3 } }).then(
    () => undefined,
    (e) => e,
  );
  const ended = now();
  if (!(error instanceof RelayError)) throw new Error(`not failed: ${error}`);
  const thrown = Number(/thrown at ([\d.]+)/.exec(error.message)![1]);
  return ended - thrown;
}

/** ms from start() to the first result through 4 processes. */
async function ready(): Promise<number> {
  const relay = new Relay({
    transport: redis({ url: url!, run: name(), slots: 1 }),
  });
  relay.connect(
    Object.assign(new Count(), { count: 1 }),
    group([new Pass(), new Pass()], { name: "pass", place: "workers" }),
    group([new Pass()], { name: "last", place: "workers" }),
  );
  const results = relay.results<number>();
  const started = now();
  const done = relay.start({ workers: { spawn: 3 } });
  await results.next();
  const ms = now() - started;
  await done;
  return ms;
}

const fmt = (x: number) => Math.round(x).toLocaleString("en-US");
/** Runs one workload, failing (not hanging) after 5 minutes. */
const step = async <T>(what: string, p: Promise<T>): Promise<T> => {
  console.error(`bench/redis.ts: ${what}`);
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`${what} did not end in 5 minutes`)),
          300_000,
        );
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
};
// The failure and start-up timings first, on a quiet Redis; the kill last.
const exit = await step("error", errorToExit());
const up = await step("ready", ready());
const here = await step("in-process", throughput(messages, undefined));
const batched = await step("batched", throughput(messages, { batch: 256 }));
const wide = await step(
  "batched, maxsize 4096",
  throughput(messages, { batch: 256, maxsize: 4096 }),
);
const unbatched = await step(
  "unbatched",
  throughput(Math.ceil(messages / 10), { batch: 1 }),
);
const napOne = await step(
  "5 ms timer, concurrency 1",
  napping(flags.smoke ? 40 : 400, 1),
);
const napMany = await step(
  "5 ms timer, concurrency 16",
  napping(flags.smoke ? 400 : 4000, 16),
);
const reclaim = await step("kill", killToReclaim());
console.log(`| workload | measured | ratio / bar |
| --- | --- | --- |
| 1→2→1 in this process | ${fmt(here)} msg/s | 1 |
| 1→2→1 over 4 processes, 256 per entry | ${fmt(batched)} msg/s | ${
  (batched / here).toFixed(2)
}× in-process (bar ≥ 100 k msg/s and ≥ 0.25×) |
| 1→2→1 over 4 processes, 256 per entry, maxsize 4096 | ${fmt(wide)} msg/s | ${
  (wide / here).toFixed(2)
}× in-process (4× the default maxsize, 1024) |
| 1→2→1 over 4 processes, 1 per entry | ${fmt(unbatched)} msg/s | ${
  (unbatched / here).toFixed(3)
}× in-process, ${(batched / unbatched).toFixed(1)}× less than batched |
| 1→2→1, the middle on 2 worker processes awaiting a 5 ms timer, concurrency 16 | ${
  fmt(napMany)
} msg/s | ${(napMany / napOne).toFixed(1)}× concurrency 1 (${
  fmt(napOne)
} msg/s; bar ≥ 10×) |
| SIGKILL of a worker process → first result of its member started again | ${
  fmt(reclaim)
} ms | heartbeat TTL 1500 ms (bar ≤ TTL + 500 ms) |
| error in a worker process → every process exited | ${
  fmt(exit)
} ms | bar ≤ 1000 ms |
| 4 processes ready: start() → first result, spawning included | ${
  fmt(up)
} ms | bar ≤ 2000 ms |`);
