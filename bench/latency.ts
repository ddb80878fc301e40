/**
 * One message at a time through a 1→1 pipeline: how long a message takes
 * from `send()` in one worker to `recv()` in the next, with baton and over
 * a raw worker→worker `MessageChannel`, in the same run, rounds alternating
 * which goes first. Prints p50 and p99 of each, in microseconds, over every
 * round's messages after the first `--warmup` of each round.
 *
 *     deno run -R=. bench/latency.ts [--messages=2000] [--warmup=200] [--rounds=3]
 *
 * @module
 */

import { parseArgs } from "node:util";
import { Relay } from "../mod.ts";
import { LatencyRecord, Ping, Pong } from "./latency_actors.ts";
import type { RawLatencyConfig } from "./latency_raw.ts";

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
    throw new RangeError(`--${name} must be a whole number, received ${value}`);
  }
}
if (warmup >= messages) throw new RangeError("--warmup must be < --messages");

const RAW = new URL("./latency_raw.ts", import.meta.url);

async function baton(): Promise<number[]> {
  const record = LatencyRecord.create(messages);
  const relay = new Relay({ logger: "bench" });
  relay.connect({
    source: Object.assign(new Ping(), {
      record: record.buffer,
      count: messages,
    }),
    sink: Object.assign(new Pong(), { record: record.buffer }),
  });
  await relay.start();
  return record.latencies();
}

async function raw(): Promise<number[]> {
  const record = LatencyRecord.create(messages);
  const workers = [
    new Worker(RAW, { type: "module" }),
    new Worker(RAW, { type: "module" }),
  ];
  try {
    const done = new Promise<void>((resolve, reject) => {
      for (const worker of workers) {
        worker.onerror = (event) => {
          event.preventDefault();
          reject(new Error(`raw latency worker failed: ${event.message}`));
        };
      }
      workers[1].onmessage = () => resolve();
    });
    const { port1, port2 } = new MessageChannel();
    const config = (role: "source" | "sink", port: MessagePort) =>
      ({
        role,
        record: record.buffer,
        count: messages,
        port,
      }) satisfies RawLatencyConfig;
    workers[1].postMessage(config("sink", port2), [port2]);
    workers[0].postMessage(config("source", port1), [port1]);
    await done;
  } finally {
    for (const worker of workers) worker.terminate();
  }
  return record.latencies();
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

const runs = { baton, raw };
const samples: Record<keyof typeof runs, number[]> = { baton: [], raw: [] };
for (let round = 0; round < rounds; round++) {
  const order = round % 2 === 0
    ? (["baton", "raw"] as const)
    : (["raw", "baton"] as const);
  for (const name of order) {
    const latencies = await runs[name]();
    if (latencies.length !== messages) {
      throw new Error(`${name}: ${latencies.length} of ${messages} arrived`);
    }
    samples[name].push(...latencies.slice(warmup));
  }
}

const us = (ms: number) => (ms * 1000).toFixed(1).padStart(9);
console.log(
  `1→1, one message at a time: ${rounds} rounds × ${
    messages - warmup
  } messages`,
);
console.log(`${"".padEnd(24)}${"p50 µs".padStart(9)}${"p99 µs".padStart(9)}`);
for (
  const [name, label] of [
    ["baton", "baton"],
    ["raw", "raw MessageChannel"],
  ] as const
) {
  const sorted = samples[name].sort((a, b) => a - b);
  console.log(
    `${label.padEnd(24)}${us(percentile(sorted, 0.5))}${
      us(percentile(sorted, 0.99))
    }`,
  );
}
