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
import { runPiscina } from "./peer.ts";
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

const n = size(1_000_000, 10_000);
// Topologies with more workers run slower: fewer messages keep each round
// within seconds (the rates are per message; see the scaling rows for how
// the count matters).
const half = size(500_000, 10_000);
const fifth = size(200_000, 10_000);
const cases: Case[] = [
  {
    workload: `RSS per actor, ${size(32, 4)} idle actors`,
    unit: "MB",
    baton: async () => await rssPerWorker("baton", size(32, 4)) / 2 ** 20,
    against: [{
      name: "raw worker",
      run: async () => await rssPerWorker("raw", size(32, 4)) / 2 ** 20,
      bar: atMost(1.3),
    }],
  },
  ...(smoke ? [2, 8] : [2, 8, 32]).map((k): Case => ({
    workload: `start-up and teardown, ${k} actors`,
    unit: "ms",
    baton: () => startBaton(k),
    against: [{
      name: "raw spawn and reply",
      run: () => startRaw(k),
      bar: k === 8 ? atMost(1.5) : undefined,
    }],
  })),
  pipeline("1→1 numbers", shape([1, 1], n), { bar: atLeast(0.25) }),
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
    bar: atLeast(0.75),
  }),
  pipeline(
    "1→1 64 KB Uint8Array, copied",
    shape([1, 1], size(10_000, 200), "bytes"),
  ),
  pipeline(
    "1→1 64 KB Uint8Array, transferred",
    shape([1, 1], size(10_000, 200), "transfer"),
  ),
  pipeline("1→2→1 numbers", shape([1, 2, 1], half), { bar: atLeast(0.25) }),
  pipeline("2→2 numbers", shape([2, 2], half), { bar: atLeast(0.25) }),
  pipeline("1→4→1 numbers", shape([1, 4, 1], fifth)),
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
      { unbatched: false },
    )
  ),
  ...[1, 2].map((k) =>
    pipeline(
      `1→${k}→1 hashing 16 KB per message`,
      shape([1, k, 1], size(20_000, 200), "number", "hash"),
    )
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

// Derived figures: how the per-message cost changes with the count, the
// speed-up of a second CPU-bound worker.
const scaling = rows.filter((r) => r.unit === "ns/msg");
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
    } (bar: flat, no growth, ≤ 1.25${
      smoke ? "" : `: ${growth <= 1.25 ? "met" : "NOT met"}`
    })`,
  );
}
const hashing = rows.filter((r) =>
  r.workload.includes("hashing") && r.counterpart === "raw, 64 per post"
);
if (hashing.length === 2) {
  const up = (pick: (r: Row) => readonly number[]) =>
    (median(pick(hashing[1])) / median(pick(hashing[0]))).toFixed(2);
  console.log(
    `hashing, 2 workers / 1 worker: baton ${up((r) => r.baton)}, raw ${
      up((r) => r.raw)
    }`,
  );
}
