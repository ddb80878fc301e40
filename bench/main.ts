/**
 * baton's benchmark suite: every workload measured with baton and with its
 * raw counterpart (hand-wired workers and `MessageChannel`s, one message per
 * post and 64 per post) in the same run, interleaved, round by round; printed
 * as one Markdown table with the issue's bars. See bench/README.md.
 *
 *     deno run -R --allow-env=PISCINA_DISABLE_ATOMICS,PISCINA_ENABLE_ASYNC_ATOMICS bench/main.ts
 *
 * Flags: `--smoke` runs every workload tiny, once, without warm-up (for CI;
 * it checks that everything runs and nothing is lost, never a timing);
 * `--rounds=N` (default 5); `--only=TEXT` keeps the workloads whose name
 * contains TEXT; `--maxsize=N` runs baton's pipelines with that bound per
 * edge instead of the relay's default.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { batonLatency, type Hops, quantiles, rawLatency } from "./latency.ts";
import { orderedCases } from "./ordered.ts";
import { runPiscina, runPiscinaWork } from "./peer.ts";
import {
  type Measure,
  rssPerWorker,
  runBaton,
  runRaw,
  type Shape,
  startBaton,
  startRaw,
} from "./pipelines.ts";
import type { Payload, Work } from "./payloads.ts";
import { runStage } from "./supervision.ts";
import {
  type Bar,
  type Case,
  type Counterpart,
  measure,
  median,
  type Row,
  table,
} from "./report.ts";

const { values: flags } = parseArgs({
  args: Deno.args,
  options: {
    smoke: { type: "boolean", default: false },
    rounds: { type: "string" },
    only: { type: "string" },
    maxsize: { type: "string" },
  },
});
const smoke = flags.smoke;
const rounds = flags.rounds === undefined
  ? (smoke ? 1 : 5)
  : Number(flags.rounds);
if (!Number.isInteger(rounds) || rounds < 1) {
  throw new RangeError(
    `Cannot run the benchmarks: --rounds must be a positive integer, received ${flags.rounds}`,
  );
}
const maxsize = flags.maxsize === undefined ? undefined : Number(flags.maxsize);
if (maxsize !== undefined && !(Number.isInteger(maxsize) && maxsize >= 1)) {
  throw new RangeError(
    `Cannot run the benchmarks: --maxsize must be a positive integer, received ${flags.maxsize}`,
  );
}
/** Full size, or the smoke size. */
const size = (full: number, tiny: number): number => smoke ? tiny : full;

const atLeast = (x: number): Bar => ({
  text: `≥ ${x}`,
  met: (ratio) => ratio >= x,
});
const atMost = (x: number): Bar => ({
  text: `≤ ${x}`,
  met: (ratio) => ratio <= x,
});

const rate = (m: Measure): number => m.rate;
const nsPerMessage = (m: Measure): number => 1e9 / m.rate;

function shape(
  stages: number[],
  count: number,
  payload: Payload = "number",
  work: Work = "none",
): Shape {
  return { stages, count, payload, work, maxsize };
}

/** baton against raw workers on the same pipeline. */
function pipeline(
  workload: string,
  s: Shape,
  options: {
    unbatched?: boolean;
    bar?: Bar;
    unit?: "msg/s" | "ns/msg";
  } = {},
): Case {
  const pick = options.unit === "ns/msg" ? nsPerMessage : rate;
  const against: Counterpart[] = [];
  if (options.unbatched !== false) {
    against.push({
      name: "raw, 1 per post",
      run: async () => pick(await runRaw(s, 1)),
    });
  }
  against.push({
    name: "raw, 64 per post",
    run: async () => pick(await runRaw(s, 64)),
    bar: options.bar,
  });
  return {
    workload,
    unit: options.unit ?? "msg/s",
    baton: async () => pick(await runBaton(s)),
    against,
  };
}

/** One message at a time through `hops` hops: p50 or p99, in µs. */
function latency(hops: Hops, quantile: "p50" | "p99", bar?: Bar): Case {
  const messages = size(1000, 50);
  const warmup = size(100, 5);
  const run = (
    go: (hops: Hops, messages: number) => Promise<number[]>,
  ) =>
  async () => {
    const latencies = await go(hops, messages);
    if (latencies.length !== messages) {
      throw new Error(`Lost messages: ${latencies.length} of ${messages}`);
    }
    return quantiles(latencies, warmup)[quantile];
  };
  return {
    workload: `one at a time, ${hops === 1 ? "1→1" : "1→2→1"}, ${quantile}`,
    unit: "µs",
    baton: run(batonLatency),
    against: [{
      name: `raw, ${hops} hop${hops === 1 ? "" : "s"}`,
      run: run(rawLatency),
      bar,
    }],
  };
}

/** 1→2→1 doing real work, against raw workers and against Piscina. */
function realWork(
  workload: string,
  s: Shape,
  work: "hash" | "parse",
): Case {
  const base = pipeline(workload, s);
  const piscina = (perTask: number): Counterpart => ({
    name: `Piscina, ${perTask} per task`,
    run: () => runPiscinaWork(work, { items: s.count, perTask }),
  });
  return { ...base, against: [...base.against, piscina(1), piscina(64)] };
}

const n = size(1_000_000, 10_000);
// Topologies with more workers run slower: fewer messages keep each round
// within seconds (the rates are per message; see the scaling rows for how
// the count matters).
const half = size(500_000, 10_000);
const fifth = size(200_000, 10_000);
/** Objects the slow consumer gets (see `slowConsumerRss`). */
const slow = size(100_000, 2000);
/** The bound on the slow consumer's RSS, in MB above the idle pipeline. */
const SLOW_BOUND_MB = 32;
const cases: Case[] = [
  // The actors' module importing the actor alone, then all of mod.ts.
  ...([["actor.ts", "baton"], ["mod.ts", "baton-mod"]] as const).map((
    [entry, mode],
  ): Case => ({
    workload: `RSS per actor, ${
      size(32, 4)
    } idle actors, their module importing ${entry}`,
    unit: "MB",
    baton: async () => await rssPerWorker(mode, size(32, 4)) / 2 ** 20,
    against: [{
      name: "raw worker",
      run: async () => await rssPerWorker("raw", size(32, 4)) / 2 ** 20,
      bar: atMost(1.2),
    }],
  })),
  ...(smoke ? [2, 8] : [2, 8, 32]).map((k): Case => ({
    workload: `start-up and teardown, ${k} actors`,
    unit: "ms",
    baton: () => startBaton(k),
    against: [{
      name: "raw spawn and reply",
      run: () => startRaw(k),
      bar: k === 8 ? atMost(1.2) : undefined,
    }],
  })),
  latency(1, "p50", atMost(3)),
  latency(1, "p99"),
  latency(2, "p50", atMost(2)),
  latency(2, "p99"),
  {
    workload: "first message after start(), 1→1",
    unit: "ms",
    baton: async () => (await batonLatency(1, 1, true))[0],
    against: [{
      name: "raw spawn and first message",
      run: async () => (await rawLatency(1, 1, true))[0],
      bar: atMost(2),
    }],
  },
  pipeline("1→1 numbers", shape([1, 1], n), { bar: atLeast(1) }),
  {
    workload: "1→1 numbers, start() to settled",
    unit: "msg/s",
    baton: async () => n / (await runBaton(shape([1, 1], n))).wall * 1000,
    against: [{
      name: "raw, 64 per post",
      run: async () => n / (await runRaw(shape([1, 1], n), 64)).wall * 1000,
    }],
  },
  pipeline("1→1 ~1 KB objects", shape([1, 1], size(100_000, 2000), "object"), {
    bar: atLeast(0.95),
  }),
  pipeline(
    "1→1 64 KB Uint8Array, copied",
    shape([1, 1], size(10_000, 200), "bytes"),
  ),
  pipeline(
    "1→1 64 KB Uint8Array, transferred",
    shape([1, 1], size(10_000, 200), "transfer"),
  ),
  pipeline("1→2→1 numbers", shape([1, 2, 1], half), { bar: atLeast(0.6) }),
  pipeline(
    "1→2→1 numbers, recv() returns send()",
    { ...shape([1, 2, 1], half), recvForm: "return" },
    { unbatched: false },
  ),
  pipeline("2→2 numbers", shape([2, 2], half), { bar: atLeast(0.6) }),
  pipeline("1→4→1 numbers", shape([1, 4, 1], fifth), { bar: atLeast(0.5) }),
  {
    // The small-maxsize cliff: with one credit per edge every message is a
    // post of its own and a wait for its credit; a relay stage in between
    // must cost no more than a few times what one hop costs.
    workload: "1→4→1 numbers, maxsize 1",
    unit: "ns/msg",
    baton: async () =>
      nsPerMessage(
        await runBaton({ ...shape([1, 4, 1], size(10_000, 200)), maxsize: 1 }),
      ),
    against: [{
      name: "baton 1→1, maxsize 1",
      run: async () =>
        nsPerMessage(
          await runBaton({ ...shape([1, 1], size(10_000, 200)), maxsize: 1 }),
        ),
      bar: atMost(3),
    }],
  },
  ...[10_000, 100_000, 1_000_000].map((full) => {
    const count = smoke ? full / 100 : full;
    return pipeline(
      `1→1 numbers, 1e${Math.log10(count)} messages`,
      shape([1, 1], count),
      { unbatched: false, unit: "ns/msg" },
    );
  }),
  ...[1, 2, 4, 16, 64].map((k) =>
    pipeline(
      `fan-out 1→${k} numbers`,
      shape([1, smoke ? Math.min(k, 4) : k], fifth),
      {
        unbatched: false,
        bar: k === 16 ? atLeast(0.5) : k === 64 ? atLeast(0.4) : undefined,
      },
    )
  ),
  pipeline(
    "1→1→1 hashing 16 KB per message",
    shape([1, 1, 1], size(20_000, 200), "number", "hash"),
  ),
  realWork(
    "1→2→1 hashing 16 KB per message",
    shape([1, 2, 1], size(20_000, 200), "number", "hash"),
    "hash",
  ),
  realWork(
    "1→2→1 JSON.parse of 792 B",
    shape([1, 2, 1], size(100_000, 500), "json", "parse"),
    "parse",
  ),
  ...[true, false].map((sync): Case => ({
    workload: `1→2→1 numbers, ${
      sync ? "recv() returns send()" : "async recv()"
    }, retries 2 and onError skip, no fault`,
    unit: "msg/s",
    baton: () =>
      runStage({
        count: half,
        width: 2,
        sync,
        policy: { retries: 2, backoffMs: 10, onError: "skip" },
      }),
    against: [{
      name: "baton, default policy",
      run: () => runStage({ count: half, width: 2, sync, policy: {} }),
      bar: atLeast(0.95),
    }],
  })),
  ...[true, false].map((sync): Case => ({
    workload: `1→2→1 numbers, ${
      sync ? "recv() returns send()" : "async recv()"
    }, middle onError restart, no fault`,
    unit: "msg/s",
    baton: () =>
      runStage({
        count: half,
        width: 2,
        sync,
        policy: { onError: "restart" },
      }),
    against: [{
      name: "baton, default policy",
      run: () => runStage({ count: half, width: 2, sync, policy: {} }),
      bar: atLeast(0.95),
    }],
  })),
  {
    workload: "1→1→1 numbers, sink onError restart, no fault",
    unit: "msg/s",
    baton: () =>
      runStage({
        count: half,
        width: 1,
        sync: true,
        policy: {},
        sinkPolicy: { onError: "restart" },
      }),
    against: [{
      name: "baton, default policy",
      run: () => runStage({ count: half, width: 1, sync: true, policy: {} }),
      bar: atLeast(0.95),
    }],
  },
  {
    workload: "1→1→1 recv() awaits a 5 ms timer, concurrency 16",
    unit: "msg/s",
    baton: () =>
      runStage({
        count: size(480, 32),
        width: 1,
        policy: { concurrency: 16 },
        sleepMs: 5,
      }),
    against: [{
      name: "baton, concurrency 1",
      run: () =>
        runStage({
          count: size(480, 32),
          width: 1,
          policy: {},
          sleepMs: 5,
        }),
      bar: atLeast(10),
    }],
  },
  {
    workload: "1→2→1 no-op map",
    unit: "msg/s",
    baton: async () => (await runBaton(shape([1, 2, 1], half))).rate,
    against: [{
      name: "Piscina, 2 threads",
      run: () => runPiscina(size(20_000, 500)),
      bar: atLeast(20),
    }],
  },
  ...orderedCases(size),
  {
    workload: `slow consumer of ${slow} ~1 KB objects, RSS rise`,
    unit: "MB",
    baton: async () => await rssPerWorker("slow-baton", slow) / 2 ** 20,
    against: [{
      name: "raw, 64 per post, unbounded",
      run: async () => await rssPerWorker("slow-raw", slow) / 2 ** 20,
    }],
  },
];

const chosen = flags.only === undefined
  ? cases
  : cases.filter((c) => c.workload.includes(flags.only!));
const rows: Row[] = [];
const started = performance.now();
for (const c of chosen) {
  const t0 = performance.now();
  const measured = await measure(c, rounds, !smoke);
  rows.push(...measured);
  console.error(
    `${c.workload}: ratio ${
      measured.map((r) => median(r.ratios).toFixed(2)).join(", ")
    } (${((performance.now() - t0) / 1000).toFixed(1)} s)`,
  );
}

console.log(
  `\n${rounds} round(s), ${smoke ? "smoke sizes, no warm-up" : "warmed up"}, ${
    maxsize === undefined ? "default maxsize" : `maxsize ${maxsize}`
  }; ${
    ((performance.now() - started) / 1000).toFixed(0)
  } s; Deno ${Deno.version.deno}, V8 ${Deno.version.v8}, ${navigator.hardwareConcurrency} cores\n`,
);
// Smoke sizes say nothing about the bars: they are not judged.
console.log(table(rows, !smoke));

// Derived figures, with the bars that are not a ratio to one counterpart:
// how the per-message cost changes with the count, the speed-up of a second
// CPU-bound worker, baton against Piscina's better figure, the slow
// consumer's memory.
const verdict = (met: boolean) => smoke ? "" : `: ${met ? "met" : "NOT met"}`;
const scaling = rows.filter((r) =>
  r.unit === "ns/msg" && r.workload.endsWith(" messages")
);
if (scaling.length > 1) {
  const costs = (pick: (r: Row) => readonly number[]) =>
    scaling.map((r) => median(pick(r)));
  const show = (c: number[]) => c.map((x) => x.toFixed(0)).join(" / ");
  const baton = costs((r) => r.baton);
  const raw = costs((r) => r.raw);
  const growth = Math.max(...baton.slice(1)) / baton[0];
  console.log(
    `\nns per message at ${
      scaling.map((r) => r.workload.split(", ")[1]).join(" / ")
    }: baton ${show(baton)}, raw ${
      show(raw)
    }; baton's largest over its first: ${
      growth.toFixed(2)
    } (bar: flat, no growth, ≤ 1.25${verdict(growth <= 1.25)})`,
  );
}
const hashing = rows.filter((r) =>
  r.workload.includes("hashing") && r.counterpart === "raw, 64 per post"
);
if (hashing.length === 2) {
  const up = (pick: (r: Row) => readonly number[]) =>
    median(pick(hashing[1])) / median(pick(hashing[0]));
  const baton = up((r) => r.baton);
  const raw = up((r) => r.raw);
  console.log(
    `\nhashing, 2 workers / 1 worker: baton ${baton.toFixed(2)}, raw ${
      raw.toFixed(2)
    }; baton's over raw's: ${(baton / raw).toFixed(2)} (bar: ≥ 0.95${
      verdict(baton / raw >= 0.95)
    })`,
  );
}
for (const workload of new Set(rows.map((r) => r.workload))) {
  const peers = rows.filter((r) =>
    r.workload === workload && r.counterpart.startsWith("Piscina, ") &&
    r.counterpart.endsWith(" per task")
  );
  if (peers.length !== 2) continue;
  // Round by round, baton over the better of Piscina's two figures.
  const ratios = peers[0].baton.map((b, i) =>
    b / Math.max(peers[0].raw[i], peers[1].raw[i])
  );
  const ratio = median(ratios);
  console.log(
    `\n${workload}: baton / Piscina's better of 1 and 64 per task ${
      ratio.toFixed(2)
    } (${Math.min(...ratios).toFixed(2)}–${
      Math.max(...ratios).toFixed(2)
    }) (bar: ≥ 1.2${verdict(ratio >= 1.2)})`,
  );
}
const memory = rows.find((r) => r.workload.startsWith("slow consumer"));
if (memory !== undefined) {
  const most = Math.max(...memory.baton);
  console.log(
    `\n${memory.workload}, default maxsize: baton's at most ${
      most.toFixed(1)
    } MB above the idle pipeline, raw's up to ${
      Math.max(...memory.raw).toFixed(1)
    } MB (bar: ≤ ${SLOW_BOUND_MB} MB${verdict(most <= SLOW_BOUND_MB)})`,
  );
}
