/**
 * Restarts (`onError: "restart"`, docs/faults.md R1–R11, R13–R16) with real workers:
 * a recv() that throws, a worker that exits, closes itself or is terminated
 * from outside, a recv() stuck past recvTimeoutMs, a sender restarted
 * mid-stream, a source restarted, on 1→n→1 and n→m; every message accounted
 * for by count and checksum, duplicates only for the restarted actor and at
 * most what it held, credits back to maxsize, no thread leaked; the restart
 * budget; and a property over random fault schedules.
 *
 * @module
 */

import assert from "node:assert/strict";
// Named here, not in deno.json: the import map is the package's, and this
// one is for tests and benchmarks only.
// deno-lint-ignore no-import-prefix
import fc from "npm:fast-check@^4.10.2";
import { group, input, Relay, type RelayMetrics } from "../mod.ts";
import { workersOf } from "../src/relay.ts";
import {
  counts,
  ExitAfterGate,
  type Fault,
  Flaky,
  OnceThenGone,
  Resuming,
  Source,
  table,
} from "./fixtures/restart.ts";
import { leakChecked, startWithin } from "./_harness.ts";
import { assertRelayError, make, rejectionOf, watchLogs } from "./_faults.ts";

/** A fault on one item, made once by whichever actor of `stage` gets it. */
interface Planned {
  readonly stage: "middle" | "sink";
  readonly src: number;
  readonly seq: number;
  readonly kind: Fault;
}

interface Shape {
  readonly sources: number;
  readonly middle: number;
  readonly sinks?: number;
  readonly count: number;
  readonly maxsize: number;
  readonly faults: readonly Planned[];
  /** The sinks restart too (else they fail the run, as by default). */
  readonly sinkRestart?: boolean;
  readonly spinMs?: number;
  readonly recvTimeoutMs?: number;
  readonly restarts?: { max: number; withinMs: number };
  readonly inline?: boolean;
}

/** What a run delivered to its sinks, per item, and its metrics. */
interface Outcome {
  readonly seen: number[];
  readonly metrics: RelayMetrics;
  readonly redeliveries: number;
  readonly relay: Relay;
}

/** The relay of `shape`: sources → middle (restarting) → sinks. */
function build(
  shape: Shape,
): { relay: Relay; seen: SharedArrayBuffer; redeliveries: SharedArrayBuffer } {
  const seen = table(shape.sources * shape.count);
  const redeliveries = table(1);
  const policy = {
    onError: "restart",
    restarts: shape.restarts ?? { max: 20, withinMs: 60_000 },
    ...(shape.recvTimeoutMs === undefined
      ? {}
      : { recvTimeoutMs: shape.recvTimeoutMs }),
  } as const;
  const stage = (name: "middle" | "sink", size: number) => {
    const faults = shape.faults.filter((f) => f.stage === name);
    const done = table(faults.length);
    return Array.from({ length: size }, () =>
      make(Flaky, {
        faults,
        done,
        spinMs: shape.spinMs ?? 0,
        redeliveries,
        ...(name === "sink"
          ? { forward: false, seen, count: shape.count }
          : {}),
      }));
  };
  const relay = new Relay({
    logger: "test",
    maxsize: shape.maxsize,
    inline: shape.inline ?? false,
  });
  const sinks = stage("sink", shape.sinks ?? 1);
  relay.connect(
    Array.from(
      { length: shape.sources },
      (_, src) => make(Source, { src, count: shape.count }),
    ),
    group(stage("middle", shape.middle), policy),
    shape.sinkRestart ? group(sinks, policy) : sinks,
  );
  return { relay, seen, redeliveries };
}

async function run(shape: Shape): Promise<Outcome> {
  const { relay, seen, redeliveries } = build(shape);
  await startWithin(relay, 20_000);
  return {
    seen: counts(seen),
    metrics: relay.metrics()!,
    redeliveries: counts(redeliveries)[0],
    relay,
  };
}

/** The names of a relay's actors of class `prefix`. */
const names = (relay: Relay, prefix: string) =>
  relay.snapshot()!.actors.map((a) => a.name).filter((n) =>
    n.startsWith(prefix)
  );

/** Restarts per group of a run's metrics. */
const restartsOf = (m: RelayMetrics) => m.groups.map((g) => g.restarts);

/**
 * Every item arrived at least once (count and checksum), the duplicates
 * are at most what the restarted actors held (`maxsize` each: a message
 * keeps its credit until handled), and every credit came back. Returns the
 * duplicates.
 */
function accounted(outcome: Outcome, shape: Shape): number {
  const { seen, metrics } = outcome;
  const missing = seen.flatMap((n, k) => n === 0 ? [k] : []);
  assert.deepEqual(missing, [], "every item delivered");
  const total = shape.sources * shape.count;
  const checksum = seen.reduce((sum, n, k) => sum + (n > 0 ? k : 0), 0);
  assert.equal(checksum, (total * (total - 1)) / 2, "checksum");
  const duplicates = seen.reduce((sum, n) => sum + n - 1, 0);
  const restarts = restartsOf(metrics).reduce((a, b) => a + b, 0);
  const bound = restarts * shape.maxsize;
  assert.ok(
    duplicates <= bound,
    `${duplicates} duplicates, at most ${bound} (${restarts} restarts)`,
  );
  for (const edge of metrics.edges) {
    assert.equal(edge.inFlight, 0, `credits back on ${edge.from}→${edge.to}`);
  }
  return duplicates;
}

Deno.test("R1: a recv() that throws or rejects under restart: the actor restarts, the message in hand is retried, nothing is lost (1→3→1)", () =>
  leakChecked(async () => {
    const shape: Shape = {
      sources: 1,
      middle: 3,
      count: 3000,
      maxsize: 64,
      faults: [
        { stage: "middle", src: 0, seq: 100, kind: "throw" },
        { stage: "middle", src: 0, seq: 900, kind: "reject" },
        { stage: "middle", src: 0, seq: 2500, kind: "throw" },
      ],
    };
    const outcome = await run(shape);
    accounted(outcome, shape);
    assert.deepEqual(restartsOf(outcome.metrics), [0, 3, 0]);
    assert.equal(outcome.metrics.groups[1].errors, 0);
    // The one in hand each time, told it was redelivered, and those the old
    // incarnation handled since it last counted (at most what it held).
    assert.ok(outcome.redeliveries >= 3, `${outcome.redeliveries}`);
    assert.ok(outcome.redeliveries <= 3 * shape.maxsize);
  }));

for (const kind of ["exit", "close"] as const) {
  Deno.test(`R2: a worker that ${kind === "exit" ? "calls Deno.exit()" : "calls self.close()"} mid-stream restarts; its queued messages and credits are not lost (1→3→1)`, () =>
    leakChecked(async () => {
      const shape: Shape = {
        sources: 1,
        middle: 3,
        count: 3000,
        maxsize: 64,
        faults: [
          { stage: "middle", src: 0, seq: 700, kind },
          { stage: "middle", src: 0, seq: 2000, kind },
        ],
      };
      const outcome = await run(shape);
      accounted(outcome, shape);
      assert.deepEqual(restartsOf(outcome.metrics), [0, 2, 0]);
    }));
}

Deno.test("R3: a worker terminated from outside mid-stream restarts, and the run delivers everything", () =>
  leakChecked(async () => {
    await using logs = await watchLogs();
    const shape: Shape = {
      sources: 1,
      middle: 2,
      count: 20_000,
      maxsize: 32,
      faults: [],
    };
    const { relay, seen } = build(shape);
    const started = startWithin(relay, 20_000);
    // Terminated once the pipeline runs: after the first restart-free
    // records of the middle group are there.
    await logs.when("running loop");
    const [name, worker] = [...workersOf(relay)].find(([n]) =>
      n.startsWith("Flaky")
    )!;
    worker.terminate();
    await started;
    const outcome = {
      seen: counts(seen),
      metrics: relay.metrics()!,
      redeliveries: 0,
      relay,
    };
    accounted(outcome, shape);
    assert.deepEqual(restartsOf(outcome.metrics), [0, 1, 0], name);
  }));

Deno.test("R4: a synchronous recv() stuck past recvTimeoutMs is ended by terminating its worker, and the actor restarts", () =>
  leakChecked(async () => {
    await using logs = await watchLogs();
    const shape: Shape = {
      sources: 1,
      middle: 2,
      count: 500,
      maxsize: 16,
      // Deno cannot stop a synchronous loop even by terminate(): the loop
      // ends by itself, fenced off, soon enough for the leak check.
      // A timeout well above a descheduled thread's pause on a loaded
      // machine: only the injected spin may pass it.
      spinMs: 900,
      recvTimeoutMs: 400,
      faults: [{ stage: "middle", src: 0, seq: 50, kind: "spin" }],
    };
    const outcome = await run(shape);
    accounted(outcome, shape);
    assert.deepEqual(restartsOf(outcome.metrics), [0, 1, 0]);
    const warning = logs.records.find((r) =>
      String(r.message.join("")).includes("restarting Flaky")
    );
    assert.ok(warning !== undefined);
    assert.match(
      warning.message.join(""),
      /recv\(\) ran for \d+ ms, longer than recvTimeoutMs \(400 ms\)/,
    );
  }));

Deno.test("R5: restarts in both groups of n→m edges (2→3→2), throws and exits, deliver every item", () =>
  leakChecked(async () => {
    const shape: Shape = {
      sources: 2,
      middle: 3,
      sinks: 2,
      sinkRestart: true,
      count: 2000,
      maxsize: 32,
      faults: [
        { stage: "middle", src: 0, seq: 300, kind: "throw" },
        { stage: "middle", src: 1, seq: 900, kind: "exit" },
        { stage: "sink", src: 1, seq: 500, kind: "exit" },
        { stage: "sink", src: 0, seq: 1500, kind: "throw" },
      ],
    };
    const outcome = await run(shape);
    accounted(outcome, shape);
    assert.deepEqual(restartsOf(outcome.metrics), [0, 2, 2]);
  }));

Deno.test("R6: a sink restarted mid-stream gets again only what it had in hand and queued", () =>
  leakChecked(async () => {
    const shape: Shape = {
      sources: 1,
      middle: 1,
      count: 5000,
      maxsize: 16,
      sinkRestart: true,
      faults: [
        { stage: "sink", src: 0, seq: 1234, kind: "throw" },
        { stage: "sink", src: 0, seq: 4000, kind: "exit" },
      ],
    };
    const outcome = await run(shape);
    const duplicates = accounted(outcome, shape);
    assert.deepEqual(restartsOf(outcome.metrics), [0, 0, 2]);
    // A throw is before the count: the retried one is no duplicate.
    assert.ok(duplicates <= 2 * shape.maxsize);
  }));

Deno.test("R7: a source's restart runs startup() and loop() again on a fresh actor, which sees this.restarts and resumes", () =>
  leakChecked(async () => {
    const seen = table(200);
    const progress = table(2);
    const relay = new Relay({ logger: "test", maxsize: 8 });
    relay.connect(
      group([make(Resuming, { count: 200, failAfter: 77, progress })], {
        onError: "restart",
      }),
      make(Flaky, { forward: false, seen, count: 200 }),
    );
    await startWithin(relay, 20_000);
    // Every send() accepted before the throw was posted: exactly once.
    assert.deepEqual(counts(seen), new Array(200).fill(1));
    assert.deepEqual(counts(progress), [200, 1], "resumed in its 1st restart");
    assert.deepEqual(restartsOf(relay.metrics()!), [1, 0]);
  }));

Deno.test("R8: more restarts than restarts.max within withinMs fail the run, naming the group, the count, the window and the last error", () =>
  leakChecked(async () => {
    const shape: Shape = {
      sources: 1,
      // One actor: its faults come in the order of its items.
      middle: 1,
      count: 100_000,
      maxsize: 16,
      restarts: { max: 2, withinMs: 60_000 },
      faults: [10, 20, 30, 40].map((seq) => ({
        stage: "middle",
        src: 0,
        seq,
        kind: "throw",
      })),
    };
    await using logs = await watchLogs();
    const { relay } = build(shape);
    const { error } = await rejectionOf(relay, 10_000);
    const e = assertRelayError(error, {
      actor: names(relay, "Flaky"),
      group: "group-1",
      phase: "recv",
      message:
        /^group group-1 failed 3 times within 60000 ms, more than restarts\.max \(2\) allows; the last failure: Flaky-\d+ \(Flaky\) in group-1 failed in recv\(\) on message \{ src: 0, seq: 30 \}: Error: fault at 0:30$/,
    });
    // By event order: the third fault failed the run, the fourth never came.
    const faults = logs.props("fault").map((p) => p.seq);
    assert.deepEqual(faults, [10, 20, 30]);
    assert.ok(e.cause instanceof Error);
    assert.deepEqual(restartsOf(relay.metrics()!), [0, 2, 0]);
  }));

Deno.test("R9: inline mode restarts an actor whose recv() throws, with the same accounting", () =>
  leakChecked(async () => {
    const shape: Shape = {
      sources: 1,
      middle: 2,
      count: 2000,
      maxsize: 32,
      inline: true,
      sinkRestart: true,
      faults: [
        { stage: "middle", src: 0, seq: 500, kind: "throw" },
        { stage: "sink", src: 0, seq: 1500, kind: "reject" },
      ],
    };
    const outcome = await run(shape);
    accounted(outcome, shape);
    assert.deepEqual(restartsOf(outcome.metrics), [0, 1, 1]);
  }));

Deno.test('R10: groups without onError "restart" still fail the run at the first fault', () =>
  leakChecked(async () => {
    const relay = new Relay({ logger: "test", maxsize: 16 });
    const failing = make(Flaky, {
      faults: [{ src: 0, seq: 10, kind: "exit" }],
      done: table(1),
    });
    relay.connect(
      make(Source, { count: 100 }),
      failing,
      make(Flaky, { forward: false }),
    );
    const { error } = await rejectionOf(relay);
    assertRelayError(error, {
      actor: failing.name,
      phase: "exit",
      message: /closed its worker with Deno\.exit\(3\)/,
    });
    assert.deepEqual(restartsOf(relay.metrics()!), [0, 0, 0]);
  }));

Deno.test("R13: a restarting group between the main thread's input and results(): the input replays to it, the reader hears its new incarnation", () =>
  leakChecked(async () => {
    const count = 3000;
    const faults = [
      { src: 0, seq: 400, kind: "exit" },
      { src: 0, seq: 2100, kind: "throw" },
    ] as const;
    const done = table(faults.length);
    const relay = new Relay({ logger: "test", maxsize: 32 });
    relay.connect(
      input<{ src: number; seq: number }>(),
      group([0, 1].map(() => make(Flaky, { faults: [...faults], done })), {
        onError: "restart",
      }),
    );
    const results = relay.results<{ src: number; seq: number }>();
    const started = relay.start({
      input: Array.from({ length: count }, (_, seq) => ({ src: 0, seq })),
    });
    // A guard, not a synchronisation: a hang fails with the relay's state.
    const guard = setTimeout(() => {
      console.error(JSON.stringify(relay.snapshot()));
      relay.close({ timeout: 0 });
    }, 20_000);
    const seen = new Array(count).fill(0);
    try {
      for await (const item of results) seen[item.seq]++;
      await started;
    } finally {
      clearTimeout(guard);
    }
    assert.deepEqual(seen.flatMap((n, k) => n === 0 ? [k] : []), []);
    const duplicates = seen.reduce((sum, n) => sum + n - 1, 0);
    assert.ok(duplicates <= 2 * 32, `${duplicates} duplicates`);
    const metrics = relay.metrics()!;
    assert.deepEqual(restartsOf(metrics), [2]);
    for (const edge of metrics.edges) assert.equal(edge.inFlight, 0);
  }));

Deno.test("R14: with retries, a restarting actor restarts only after the last attempt at a message failed, and the message is retried on the new one", () =>
  leakChecked(async () => {
    const seen = table(500);
    const relay = new Relay({ logger: "test", maxsize: 16 });
    // Item 99 fails its first two calls: the attempt and its retry, in the
    // first incarnation; the new incarnation's call succeeds.
    const faults = [
      { src: 0, seq: 99, kind: "throw" },
      { src: 0, seq: 99, kind: "throw" },
    ] as const;
    relay.connect(
      make(Source, { count: 500 }),
      group([
        make(Flaky, {
          faults: [...faults],
          done: table(2),
          forward: false,
          seen,
          count: 500,
        }),
      ], { retries: 1, onError: "restart" }),
    );
    await startWithin(relay, 20_000);
    const got = counts(seen);
    assert.deepEqual(got.flatMap((n, k) => n === 0 ? [k] : []), []);
    assert.ok(got.reduce((a, n) => a + n - 1, 0) <= 16);
    const [, flaky] = relay.metrics()!.groups;
    assert.equal(flaky.restarts, 1);
    assert.equal(flaky.retries, 1);
  }));

Deno.test('R15: connect() refuses concurrency above 1 with onError "restart", naming the group and the fix', () => {
  assert.throws(
    () =>
      new Relay().connect(
        make(Source, { count: 1 }),
        group(make(Flaky, {}), { onError: "restart", concurrency: 4 }),
      ),
    {
      name: "TypeError",
      message:
        'Cannot connect groups: group group-1 restarts its actors (onError "restart") and sets concurrency 4; a restart replays what its actor had not handled, counted in the order the messages came, which calls in flight at once do not keep; leave concurrency at 1 with onError "restart", or use onError "skip" or "fail"',
    },
  );
});

Deno.test("R16: what a restarted source posted, lost with its receiver's restart, fails the run saying how many, instead of losing it silently", () =>
  leakChecked(async () => {
    const gate = table(2);
    const relay = new Relay({ logger: "test", maxsize: 64 });
    const sink = make(ExitAfterGate, { gate });
    relay.connect(
      group([make(OnceThenGone, { count: 10, gate })], { onError: "restart" }),
      group([sink], { onError: "restart" }),
    );
    const { error } = await rejectionOf(relay);
    assertRelayError(error, {
      actor: sink.name,
      group: "group-1",
      phase: "exit",
      message:
        /^ExitAfterGate-\d+ \(ExitAfterGate\) in group-1 cannot be restarted without losing 10 messages: they were posted by an actor that restarted too and no longer has them; the failure: .*closed its worker with Deno\.exit\(3\)/,
    });
    assert.deepEqual(restartsOf(relay.metrics()!), [1, 1]);
  }));

const kinds: fc.Arbitrary<Fault> = fc.constantFrom("throw", "reject", "exit");

Deno.test("R11: under random fault schedules (throws, rejections, exits) in restarting groups, delivered = sent, duplicates bounded by what the restarted actors held", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.record({
        sources: fc.integer({ min: 1, max: 2 }),
        middle: fc.integer({ min: 1, max: 3 }),
        sinks: fc.integer({ min: 1, max: 2 }),
        maxsize: fc.constantFrom(4, 16, 64),
        count: fc.integer({ min: 50, max: 600 }),
        // Restarting sinks make the middle keep what it sent until they
        // handled it; sinks that never restart let it count a message as
        // soon as what it sent was posted.
        sinkRestart: fc.boolean(),
      }).chain((s) =>
        fc.record({
          base: fc.constant(s),
          faults: fc.array(
            fc.record({
              stage: (s.sinkRestart
                ? fc.constantFrom("middle", "sink")
                : fc.constant("middle")) as fc.Arbitrary<"middle" | "sink">,
              src: fc.nat(s.sources - 1),
              seq: fc.nat(s.count - 1),
              kind: kinds,
            }),
            { maxLength: 4 },
          ),
        })
      ),
      ({ base, faults }) =>
        leakChecked(async () => {
          // One fault per item and stage: a fault is made once.
          const unique = faults.filter((f, k) =>
            faults.findIndex((g) =>
              g.stage === f.stage && g.src === f.src && g.seq === f.seq
            ) === k
          );
          const shape: Shape = { ...base, faults: unique };
          const outcome = await run(shape);
          accounted(outcome, shape);
          const restarts = restartsOf(outcome.metrics);
          assert.equal(restarts[0], 0, "the sources never restarted");
          assert.ok(
            restarts[1] + restarts[2] <= unique.length,
            "a restart only after a fault",
          );
        }),
    ),
    { numRuns: 16 },
  );
});
