/**
 * One message at a time: how long a message takes from `send()` in one
 * worker to `recv()` in the last, through 1→1 and 1→2→1, with baton and over
 * raw worker→worker `MessageChannel`s with as many hops; and the first
 * message after `start()` against spawning raw workers and posting one.
 * `bench/main.ts` runs these in its suite; run alone, this prints p50 and
 * p99 of each, in microseconds, over every round's messages after the first
 * `--warmup` of each round, rounds alternating which goes first.
 *
 *     deno run -R=. bench/latency.ts [--messages=2000] [--warmup=200] [--rounds=3]
 *
 * @module
 */

import { parseArgs } from "node:util";
import { Relay } from "../mod.ts";
import { now } from "./board.ts";
import { Hop, LatencyRecord, Ping, Pong } from "./latency_actors.ts";
import type { RawLatencyConfig } from "./latency_raw.ts";

const RAW = new URL("./latency_raw.ts", import.meta.url);

/** Hops from the source to the sink: 1 (1→1) or 2 (1→2→1, one relay raw). */
export type Hops = 1 | 2;

/**
 * Latencies in milliseconds of `messages` messages sent one at a time with
 * baton; with `first`, of the one message the source sends at once, counted
 * from `start()`.
 */
export async function batonLatency(
  hops: Hops,
  messages: number,
  first = false,
): Promise<number[]> {
  const record = LatencyRecord.create(messages);
  const relay = new Relay({ logger: "bench" });
  const ping = Object.assign(new Ping(), {
    record: record.buffer,
    count: messages,
  });
  const pong = Object.assign(new Pong(), { record: record.buffer });
  if (hops === 1) relay.connect(ping, pong);
  else relay.connect(ping, [new Hop(), new Hop()], pong);
  if (first) ping.startedAt = now();
  await relay.start();
  return record.latencies();
}

/** The same over raw workers: `hops + 1` of them, a channel per hop. */
export async function rawLatency(
  hops: Hops,
  messages: number,
  first = false,
): Promise<number[]> {
  const record = LatencyRecord.create(messages);
  const startedAt = first ? now() : 0;
  const workers = Array.from(
    { length: hops + 1 },
    () => new Worker(RAW, { type: "module" }),
  );
  try {
    const done = new Promise<void>((resolve, reject) => {
      for (const worker of workers) {
        worker.onerror = (event) => {
          event.preventDefault();
          reject(new Error(`raw latency worker failed: ${event.message}`));
        };
      }
      workers[hops].onmessage = () => resolve();
    });
    const channels = Array.from({ length: hops }, () => new MessageChannel());
    workers.forEach((worker, i) => {
      const config: RawLatencyConfig = {
        role: i === 0 ? "source" : i === hops ? "sink" : "relay",
        record: record.buffer,
        count: messages,
        startedAt,
        input: i === 0 ? null : channels[i - 1].port2,
        output: i === hops ? null : channels[i].port1,
      };
      const ports = [config.input, config.output].filter((p) => p !== null);
      worker.postMessage(config, ports);
    });
    await done;
  } finally {
    for (const worker of workers) worker.terminate();
  }
  return record.latencies();
}

/** The `p`-th quantile of sorted numbers. */
export function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

/**
 * p50 and p99 in microseconds of one run of `messages`, leaving out the
 * first `warmup`.
 */
export function quantiles(
  latencies: readonly number[],
  warmup: number,
): { p50: number; p99: number } {
  const sorted = latencies.slice(warmup).sort((a, b) => a - b);
  return {
    p50: percentile(sorted, 0.5) * 1000,
    p99: percentile(sorted, 0.99) * 1000,
  };
}

if (import.meta.main) {
  const { values: flags } = parseArgs({
    args: Deno.args,
    options: {
      messages: { type: "string", default: "2000" },
      warmup: { type: "string", default: "200" },
      rounds: { type: "string", default: "3" },
    },
  });
  const messages = Number(flags.messages);
  const warmup = Number(flags.warmup);
  const rounds = Number(flags.rounds);
  for (const [name, value] of Object.entries({ messages, warmup, rounds })) {
    if (!Number.isInteger(value) || value < 0) {
      throw new RangeError(
        `--${name} must be a whole number, received ${value}`,
      );
    }
  }
  if (warmup >= messages) throw new RangeError("--warmup must be < --messages");

  const us = (ms: number) => (ms * 1000).toFixed(1).padStart(9);
  console.log(`one message at a time: ${rounds} rounds × ${messages - warmup}`);
  console.log(`${"".padEnd(28)}${"p50 µs".padStart(9)}${"p99 µs".padStart(9)}`);
  for (const hops of [1, 2] as const) {
    const samples = { baton: [] as number[], raw: [] as number[] };
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0
        ? (["baton", "raw"] as const)
        : (["raw", "baton"] as const);
      for (const name of order) {
        const run = name === "baton" ? batonLatency : rawLatency;
        const latencies = await run(hops, messages);
        if (latencies.length !== messages) {
          throw new Error(
            `${name}: ${latencies.length} of ${messages} arrived`,
          );
        }
        samples[name].push(...latencies.slice(warmup));
      }
    }
    for (const name of ["baton", "raw"] as const) {
      const sorted = samples[name].sort((a, b) => a - b);
      const label = `${hops === 1 ? "1→1" : "1→2→1"} ${
        name === "baton" ? "baton" : "raw MessageChannel"
      }`;
      console.log(
        `${label.padEnd(28)}${us(percentile(sorted, 0.5))}${
          us(percentile(sorted, 0.99))
        }`,
      );
    }
  }
}
