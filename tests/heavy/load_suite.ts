/**
 * Heavy scenarios (docs/faults.md F11, F13, F14), run by `deno task
 * test:heavy`, not by `deno task test`: backpressure under a slow consumer
 * with its memory bound, fan-out to 64 workers on two cores, and a million
 * messages delivered exactly once.
 *
 * @module
 */

import assert from "node:assert/strict";
import { type Actor, group, Relay } from "../../mod.ts";
import { Proxy, Source, Tally } from "../fixtures/actors.ts";
import { Counter, Sink } from "../fixtures/faults.ts";
import { expectNoLeak, startWithin, threads } from "../_harness.ts";
import { make, watchLogs } from "../_faults.ts";

/**
 * The leak check of the harness with a longer wait: 64 workers need more
 * than a second to tear down on two busy cores.
 */
async function leakChecked(body: () => Promise<void>): Promise<void> {
  const baseline = await threads();
  await body();
  await expectNoLeak(baseline, 5000);
}

/**
 * Runs the relay while sampling the process's RSS and the first edge's
 * messages in flight; returns the peak RSS growth and the most in flight.
 */
async function sampled(
  relay: Relay,
  ms: number,
): Promise<{ growthMb: number; maxInFlight: number }> {
  // What the previous run left behind is collected first, where the task
  // exposes the collector (--v8-flags=--expose-gc): it would lift the base.
  (globalThis as { gc?: () => void }).gc?.();
  const base = Deno.memoryUsage().rss;
  let peak = base;
  let maxInFlight = 0;
  // Sampling is measurement, not synchronisation: it never decides order.
  const timer = setInterval(() => {
    peak = Math.max(peak, Deno.memoryUsage().rss);
    const edge = relay.snapshot()?.edges[0];
    if (edge !== undefined) maxInFlight = Math.max(maxInFlight, edge.inFlight);
  }, 10);
  try {
    await startWithin(relay, ms);
  } finally {
    clearInterval(timer);
  }
  return { growthMb: (peak - base) / 2 ** 20, maxInFlight };
}

Deno.test("F11: a slow consumer keeps memory bounded by maxsize; an unbounded edge does not", () =>
  leakChecked(async () => {
    const run = async (maxsize: number, count = 200_000) => {
      await using logs = await watchLogs(["test"]);
      const source = make(Counter, { count, payload: 1000 });
      const sink = make(Sink, { busyMicros: 20 });
      const relay = new Relay({ logger: "test" });
      relay.connect(source, group([sink], { maxsize }));
      const stats = await sampled(relay, 120_000);
      const [got] = logs.props("received", sink.name);
      assert.equal(got.count, count, "received == sent");
      return stats;
    };
    // A first small run loads and compiles everything the measured ones use.
    await run(64, 1000);
    const bounded = await run(64);
    const unbounded = await run(2 ** 30);
    console.log(
      `F11: RSS growth ${
        bounded.growthMb.toFixed(0)
      } MB with maxsize 64 (at most ${bounded.maxInFlight} in flight), ${
        unbounded.growthMb.toFixed(0)
      } MB unbounded (${unbounded.maxInFlight} in flight)`,
    );
    assert.ok(bounded.maxInFlight <= 64, `${bounded.maxInFlight} in flight`);
    // 200 000 messages of 1 KB: the unbounded control queues most of them.
    assert.ok(bounded.growthMb < 100, `bounded growth ${bounded.growthMb} MB`);
    assert.ok(
      unbounded.growthMb > bounded.growthMb + 100,
      `the unbounded control grows clearly more: ${unbounded.growthMb} MB`,
    );
  }));

interface Totals {
  count: number;
  sum: number;
  duplicates: number;
  disorders: number;
  counts: number[];
}

async function deliver(
  shape: number[],
  count: number,
  maxsize = 256,
): Promise<Totals> {
  await using logs = await watchLogs(["test"]);
  const [first, ...rest] = shape;
  const sources = Array.from(
    { length: first },
    () => make(Source, { count }),
  );
  const middle = rest.slice(0, -1).map((n) =>
    Array.from({ length: n }, () => new Proxy())
  );
  const sinks = Array.from(
    { length: rest[rest.length - 1] },
    () => make(Tally, { fifo: middle.length === 0 }),
  );
  const relay = new Relay({ logger: "test", maxsize });
  relay.connect(
    ...([sources, ...middle, sinks] as unknown as [Actor<never, unknown>[]]),
  );
  await startWithin(relay, 300_000);
  const t: Totals = {
    count: 0,
    sum: 0,
    duplicates: 0,
    disorders: 0,
    counts: [],
  };
  for (const s of sinks) {
    const [p] = logs.props("tally", s.name);
    t.count += p.count as number;
    t.sum += p.sum as number;
    t.duplicates += p.duplicates as number;
    t.disorders += p.disorders as number;
    t.counts.push(p.count as number);
  }
  const sent = first * count;
  assert.equal(t.count, sent, "received == sent");
  assert.equal(t.sum, first * (count * (count - 1)) / 2, "checksum of seq");
  assert.equal(t.duplicates, 0, "each (from, seq) at most once");
  assert.equal(t.disorders, 0, "FIFO per sender→receiver pair");
  return t;
}

Deno.test("F13: fan-out and fan-in on two cores complete with every message delivered", async (t) => {
  await t.step(
    "1 → 64: every receiver gets work",
    () =>
      leakChecked(async () => {
        const totals = await deliver([1, 64], 64 * 100);
        assert.ok(totals.counts.every((n) => n > 0), `${totals.counts}`);
      }),
  );
  await t.step(
    "64 → 1",
    () => leakChecked(() => deliver([64, 1], 200).then(() => {})),
  );
  await t.step(
    "8 → 8 → 8",
    () => leakChecked(() => deliver([8, 8, 8], 2000).then(() => {})),
  );
});

Deno.test("F14: a million messages arrive exactly once, in order per pair", async (t) => {
  await t.step(
    "1 → 1",
    () => leakChecked(() => deliver([1, 1], 1_000_000).then(() => {})),
  );
  await t.step(
    "1 → 4 → 1",
    () => leakChecked(() => deliver([1, 4, 1], 1_000_000).then(() => {})),
  );
  await t.step(
    "4 → 4",
    () => leakChecked(() => deliver([4, 4], 250_000).then(() => {})),
  );
});
