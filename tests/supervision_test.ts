/**
 * A group's failure policy at work (retries, backoff, timeouts, dead
 * letters, concurrency), with faults injected on 1 → n → 1 and n → m
 * shapes, in workers and inline: every message is accounted for (delivered
 * or in the dead letters) by count and checksum, the edges' credits are all
 * back at the end, and no thread leaks.
 *
 * @module
 */

import assert from "node:assert/strict";
// Named here, not in deno.json: the import map is the package's, and this
// one is for tests and benchmarks only.
// deno-lint-ignore no-import-prefix
import fc from "npm:fast-check@^4.10.2";
import {
  type DeadLetter,
  group,
  type GroupOptions,
  Relay,
  RelayError,
  type RelayMetrics,
} from "../mod.ts";
import {
  Collect,
  type Failure,
  Flaky,
  type Numbered,
  Numbers,
} from "./fixtures/supervision.ts";
import { captureLogs, leakChecked, MODES, render } from "./_harness.ts";

/** What a run gave: delivered messages, dead letters, reports, metrics. */
interface Outcome {
  readonly delivered: string[];
  readonly dead: DeadLetter<Numbered>[];
  readonly flaky: { most: number; drift: number }[];
  readonly traces: { seq: number; attempt: number }[];
  readonly summary: RelayMetrics | undefined;
  readonly error: unknown;
  readonly metrics: RelayMetrics;
}

interface Setup {
  readonly inline: boolean;
  /** Actors per group: sources, middle, sinks. */
  readonly shape: readonly [number, number, number];
  /** Messages per source. */
  readonly count: number;
  readonly policy: GroupOptions;
  readonly failures?: Record<number, number>;
  readonly how?: Failure;
  readonly delayMs?: number;
  readonly trace?: boolean;
  readonly maxsize?: number;
}

/** Every `from:seq` the sources send. */
function sent(s: Setup): string[] {
  const all: string[] = [];
  for (let k = 0; k < s.shape[0]; k++) {
    for (let i = 0; i < s.count; i++) all.push(`${k}:${k * s.count + i}`);
  }
  return all;
}

/** Runs `sources → Flaky × n (with the policy) → sinks`, with a watchdog. */
async function run(s: Setup): Promise<Outcome & { sent: string[] }> {
  const relay = new Relay({
    logger: "test",
    inline: s.inline,
    maxsize: s.maxsize,
  });
  const sources = Array.from(
    { length: s.shape[0] },
    (_, k) =>
      Object.assign(new Numbers(), { count: s.count, first: k * s.count }),
  );
  const names = new Map(sources.map((a, k) => [a.name, k]));
  const middle = Array.from(
    { length: s.shape[1] },
    () =>
      Object.assign(new Flaky(), {
        failures: s.failures ?? {},
        how: s.how ?? "throw",
        delayMs: s.delayMs ?? 0,
        trace: s.trace ?? false,
      }),
  );
  const sinks = Array.from({ length: s.shape[2] }, () => new Collect());
  relay.connect(sources, group(middle, { name: "flaky", ...s.policy }), sinks);
  const dead = relay.deadLetters<Numbered>();
  const reports = relay.reports<Record<string, unknown>>();
  const reading = Array.fromAsync(dead);
  const reported = Array.fromAsync(reports);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const started = relay.start();
  const watchdog = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const state = JSON.stringify(relay.snapshot());
      relay.close({ timeout: 0 });
      reject(new Error(`relay did not settle within 30 s; state: ${state}`));
    }, 30_000);
  });
  let summary: RelayMetrics | undefined;
  let error: unknown;
  try {
    summary = await Promise.race([started, watchdog]);
  } catch (e) {
    error = e;
    if (String((e as Error).message).startsWith("relay did not settle")) {
      throw e;
    }
  } finally {
    clearTimeout(timer);
  }
  const letters = await reading;
  const values = (await reported).map((r) => r.value);
  const rename = (text: string) => {
    const [from, seq] = text.split(":");
    return `${names.get(from)}:${seq}`;
  };
  return {
    sent: sent(s),
    delivered: values.flatMap((v) => (v.seen as string[] | undefined) ?? [])
      .map(rename),
    dead: letters,
    flaky: values.filter((v) => "most" in v) as Outcome["flaky"],
    traces: values.filter((v) => "attempt" in v) as Outcome["traces"],
    summary,
    error,
    metrics: relay.metrics()!,
  };
}

/** `from:seq` of a dead letter, as `sent()` names it. */
function key(letter: DeadLetter<Numbered>, shape: Setup): string {
  return `${
    Math.floor(letter.message.seq / shape.count)
  }:${letter.message.seq}`;
}

/** The edges' credits are all back: nothing in flight, nobody waiting. */
function assertCreditsBack(metrics: RelayMetrics): void {
  for (const edge of metrics.edges) {
    assert.equal(edge.inFlight, 0, `credits of ${edge.from} → ${edge.to}`);
    assert.equal(
      edge.waitingSenders,
      0,
      `senders of ${edge.from} → ${edge.to}`,
    );
  }
}

/** The checksum of `from:seq` names: the sum of their sequence numbers. */
function checksum(names: readonly string[]): number {
  return names.reduce((sum, n) => sum + Number(n.split(":")[1]), 0);
}

for (const [mode, inline] of MODES) {
  Deno.test(`S1: a recv() that throws on chosen messages is retried and then succeeds, 1 → 3 → 1 (${mode})`, () =>
    leakChecked(async () => {
      await using logs = await captureLogs(["test"], "debug");
      const s: Setup = {
        inline,
        shape: [1, 3, 1],
        count: 200,
        policy: { retries: 2 },
        failures: { 5: 1, 17: 2, 150: 2 },
      };
      const o = await run(s);
      assert.equal(o.error, undefined);
      assert.deepEqual(o.delivered.toSorted(), o.sent.toSorted());
      assert.equal(checksum(o.delivered), checksum(o.sent));
      assert.deepEqual(o.dead, []);
      const flaky = o.summary!.groups[1];
      assert.equal(flaky.retries, 5);
      assert.equal(flaky.received, 200);
      assert.equal(flaky.attempts, 205);
      assert.equal(flaky.skipped, 0);
      assert.equal(flaky.restarts, 0);
      assertCreditsBack(o.metrics);
      const lines = logs.lines("test").filter((l) => l.includes("attempt"));
      assert.equal(lines.length, 5, lines.join("\n"));
      assert.match(
        lines.find((l) => l.includes("seq: 17") && l.includes("attempt 2"))!,
        /^\[flaky\] \(Flaky-\d+\) recv\(\) attempt 2 of 3 failed on message \{ from: "Numbers-\d+", seq: 17 \}: RangeError: attempt 2 at 17 failed; trying again$/,
      );
    }));

  Deno.test(`S2: a recv() that fails every attempt at a message sends it to the dead letters, n → m (${mode})`, () =>
    leakChecked(async () => {
      const s: Setup = {
        inline,
        shape: [2, 3, 2],
        count: 150,
        policy: { retries: 2, backoffMs: 1, onError: "skip" },
        failures: { 5: 1, 17: 9, 160: 3, 299: 2 },
        how: "reject",
      };
      const o = await run(s);
      assert.equal(o.error, undefined);
      const skipped = ["0:17", "1:160"];
      assert.deepEqual(o.dead.map((d) => key(d, s)).toSorted(), skipped);
      for (const d of o.dead) {
        assert.equal(d.attempts, 3);
        assert.equal(d.group, "flaky");
        assert.match(d.actor, /^Flaky-\d+$/);
        assert.ok(d.error instanceof RangeError, String(d.error));
        assert.match(d.error.message, /^attempt 3 at \d+ failed$/);
      }
      const all = [...o.delivered, ...o.dead.map((d) => key(d, s))];
      assert.deepEqual(all.toSorted(), o.sent.toSorted());
      assert.equal(new Set(o.delivered).size, o.delivered.length);
      assert.equal(checksum(all), checksum(o.sent));
      const flaky = o.summary!.groups[1];
      assert.equal(flaky.skipped, 2);
      assert.equal(flaky.retries, 1 + 2 + 2 + 2);
      assertCreditsBack(o.metrics);
    }));

  Deno.test(`S3: a recv() that fails its last attempt fails the run, naming the attempts (${mode})`, () =>
    leakChecked(async () => {
      const s: Setup = {
        inline,
        shape: [1, 2, 1],
        count: 50,
        policy: { retries: 2 },
        failures: { 7: 3 },
      };
      const o = await run(s);
      assert.ok(o.error instanceof RelayError, String(o.error));
      assert.equal(o.error.phase, "recv");
      assert.equal(o.error.group, "flaky");
      assert.equal(o.error.attempts, 3);
      assert.match(o.error.summary!, /seq: 7 \}$/);
      assert.match(
        o.error.message,
        /^Flaky-\d+ \(Flaky\) in flaky failed in recv\(\) on message \{ from: "Numbers-\d+", seq: 7 \} after 3 attempts: RangeError: attempt 3 at 7 failed$/,
      );
      assert.ok(o.error.cause instanceof RangeError);
    }));

  Deno.test(`S4: an async recv() that hangs past recvTimeoutMs is a failed attempt: retried, then skipped (${mode})`, () =>
    leakChecked(async () => {
      const s: Setup = {
        inline,
        shape: [1, 2, 1],
        count: 40,
        policy: { retries: 1, recvTimeoutMs: 100, onError: "skip" },
        failures: { 3: 1, 20: 2 },
        how: "hang",
      };
      const o = await run(s);
      assert.equal(o.error, undefined);
      assert.deepEqual(o.dead.map((d) => key(d, s)), ["0:20"]);
      const [letter] = o.dead;
      assert.equal(letter.error.name, "TimeoutError");
      assert.match(
        letter.error.message,
        /^Flaky-\d+ did not finish recv\(\) within recvTimeoutMs \(100 ms\) on message \{ from: "Numbers-\d+", seq: 20 \}$/,
      );
      assert.equal(letter.attempts, 2);
      assert.deepEqual(
        [...o.delivered, "0:20"].toSorted(),
        o.sent.toSorted(),
      );
      assert.equal(o.summary!.groups[1].retries, 2);
      assertCreditsBack(o.metrics);
    }));

  Deno.test(`S5: concurrency runs up to k calls of recv() at once, each with its own this.attempt (${mode})`, () =>
    leakChecked(async () => {
      const s: Setup = {
        inline,
        shape: [1, 1, 1],
        count: 64,
        policy: { concurrency: 8, retries: 2, onError: "skip" },
        failures: { 3: 1, 10: 2, 11: 3 },
        delayMs: 10,
        how: "reject",
        trace: true,
      };
      const o = await run(s);
      assert.equal(o.error, undefined);
      assert.deepEqual(o.flaky, [{ most: 8, drift: 0 }]);
      assert.deepEqual(o.dead.map((d) => key(d, s)), ["0:11"]);
      assert.equal(o.dead[0].attempts, 3);
      const attempts = (seq: number) =>
        o.traces.filter((t) => t.seq === seq).map((t) => t.attempt);
      assert.deepEqual(attempts(3), [1, 2]);
      assert.deepEqual(attempts(10), [1, 2, 3]);
      assert.deepEqual(attempts(11), [1, 2, 3]);
      assert.deepEqual(attempts(12), [1]);
      assert.deepEqual(
        [...o.delivered, "0:11"].toSorted(),
        o.sent.toSorted(),
      );
      assertCreditsBack(o.metrics);
    }));
}

Deno.test("S5: concurrency stays within the edge's credits: with maxsize 4, concurrency 16 runs 4 calls at once", () =>
  leakChecked(async () => {
    const s: Setup = {
      inline: false,
      shape: [1, 1, 1],
      count: 40,
      maxsize: 4,
      policy: { concurrency: 16 },
      delayMs: 20,
    };
    const o = await run(s);
    assert.equal(o.error, undefined);
    assert.deepEqual(o.flaky, [{ most: 4, drift: 0 }]);
    assert.deepEqual(o.delivered.toSorted(), o.sent.toSorted());
  }));

Deno.test("S1: the backoff doubles from one retry to the next", () =>
  leakChecked(async () => {
    await using logs = await captureLogs(["test"], "debug");
    const s: Setup = {
      inline: true,
      shape: [1, 1, 1],
      count: 3,
      policy: { retries: 2, backoffMs: 40 },
      failures: { 1: 2 },
    };
    const started = performance.now();
    const o = await run(s);
    const ms = performance.now() - started;
    assert.equal(o.error, undefined);
    assert.deepEqual(o.delivered, ["0:0", "0:1", "0:2"]);
    assert.ok(ms >= 40 + 80, `took ${ms} ms`);
    const waits = logs.lines("test").filter((l) => l.includes("attempt"))
      .map((l) => l.replace(/^.*; /, ""));
    assert.deepEqual(waits, ["trying again in 40 ms", "trying again in 80 ms"]);
  }));

Deno.test("S6: dead letters nobody reads are counted, logged as warnings and kept for a reader that comes after the run", () =>
  leakChecked(async () => {
    await using logs = await captureLogs(["baton"], "info");
    const relay = new Relay({ inline: true, logger: "test" });
    const flaky = Object.assign(new Flaky(), { failures: { 2: 1, 4: 1 } });
    relay.connect(
      Object.assign(new Numbers(), { count: 6 }),
      group(flaky, { onError: "skip" }),
      new Collect(),
    );
    const summary = await relay.start();
    assert.equal(summary.groups[1].skipped, 2);
    const warnings = logs.records.filter((r) => r.level === "warning")
      .map(render);
    assert.equal(warnings.length, 2, warnings.join("\n"));
    assert.match(
      warnings[0],
      /^relay: dead letter from Flaky-\d+ in group-1 after 1 attempt, unread: RangeError: attempt 1 at 2 failed; message \{ from: "Numbers-\d+", seq: 2 \}$/,
    );
    const late = await Array.fromAsync(relay.deadLetters<Numbered>());
    assert.deepEqual(late.map((d) => d.message.seq), [2, 4]);
    assert.throws(() => relay.deadLetters(), {
      name: "TypeError",
      message: /^Cannot read dead letters: deadLetters\(\) was already called/,
    });
  }));

Deno.test("S7: a reader of deadLetters() holds a skipping actor back: it waits once 16 of its dead letters are unread", () =>
  leakChecked(async () => {
    const relay = new Relay({ logger: "test" });
    const failures: Record<number, number> = {};
    for (let i = 0; i < 100; i++) failures[i] = 1;
    relay.connect(
      Object.assign(new Numbers(), { count: 100 }),
      group(Object.assign(new Flaky(), { failures }), { onError: "skip" }),
      new Collect(),
    );
    const dead = relay.deadLetters();
    const started = relay.start();
    // A guard against a hang, not a synchronisation.
    const guard = setTimeout(() => relay.close({ timeout: 0 }), 20_000);
    let skipped = 0;
    let steady = 0;
    // Once 17 are counted, the count must not move for 10 snapshots (at
    // least 100 ms): the actor waits for the reader.
    for await (const m of relay.watch(10)) {
      skipped = m.groups[1].skipped;
      assert.ok(skipped <= 17, `skipped ${skipped} while nobody read`);
      if (skipped === 17 && ++steady >= 10) break;
    }
    // Sixteen posted, the seventeenth counted and waiting for room.
    assert.equal(skipped, 17);
    const letters = await Array.fromAsync(dead);
    const summary = await started;
    clearTimeout(guard);
    assert.equal(letters.length, 100);
    assert.equal(summary.groups[1].skipped, 100);
    assert.deepEqual(
      letters.map((d) => (d.message as Numbered).seq),
      Array.from({ length: 100 }, (_, i) => i),
    );
  }));

Deno.test("S8: connect() refuses options about recv() on a group of sources, and restarts without onError restart", () => {
  for (
    const [options, text] of [
      [{ retries: 1 }, "retries"],
      [{ backoffMs: 10 }, "backoffMs"],
      [{ recvTimeoutMs: 10 }, "recvTimeoutMs"],
      [{ concurrency: 2 }, "concurrency"],
    ] as const
  ) {
    assert.throws(
      () =>
        new Relay().connect(
          group(new Numbers(), { name: "src", ...options }),
          new Collect(),
        ),
      {
        name: "TypeError",
        message:
          `Cannot connect groups: group src is a group of sources, which run loop() and receive no message, so ${text} (about the calls of recv()) means nothing there; leave ${text} out, or set it on a later group; a source's failures are handled by onError "fail" or "restart"`,
      },
    );
  }
  assert.throws(
    () =>
      new Relay().connect(
        group(new Numbers(), { onError: "skip" }),
        new Collect(),
      ),
    {
      name: "TypeError",
      message:
        `Cannot connect groups: group group-0 is a group of sources, which receive no message, so onError "skip" (a message to the dead letters) means nothing there; use onError "fail" (the default) or "restart"`,
    },
  );
  assert.throws(
    () =>
      new Relay().connect(
        new Numbers(),
        group(new Collect(), { restarts: { max: 1, withinMs: 10 } }),
      ),
    {
      name: "TypeError",
      message:
        `Cannot connect groups: group group-1 sets restarts, which counts restarts, but its onError is "fail"; set onError: "restart" too, or leave restarts out`,
    },
  );
  // Allowed: restart on sources, and everything on receivers.
  new Relay().connect(
    group(new Numbers(), { onError: "restart" }),
    group(new Collect(), {
      retries: 1,
      backoffMs: 1,
      onError: "skip",
      recvTimeoutMs: 10,
      concurrency: 2,
    }),
  );
});

Deno.test("S9: under random throw schedules with retries and skip, delivered and dead letters make up what was sent, none twice", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.record({
        shape: fc.tuple(
          fc.integer({ min: 1, max: 2 }),
          fc.integer({ min: 1, max: 3 }),
          fc.integer({ min: 1, max: 2 }),
        ),
        count: fc.integer({ min: 1, max: 40 }),
        retries: fc.integer({ min: 0, max: 2 }),
        concurrency: fc.constantFrom(1, 3),
        how: fc.constantFrom<Failure>("throw", "reject"),
        schedule: fc.array(fc.integer({ min: 0, max: 4 }), {
          minLength: 80,
          maxLength: 80,
        }),
      }),
      async (p) => {
        const failures: Record<number, number> = {};
        p.schedule.forEach((f, seq) => {
          if (f > 0) failures[seq] = f;
        });
        const s: Setup = {
          inline: true,
          shape: p.shape,
          count: p.count,
          policy: {
            retries: p.retries,
            onError: "skip",
            concurrency: p.concurrency,
          },
          failures,
          how: p.concurrency > 1 ? "reject" : p.how,
        };
        const o = await run(s);
        assert.equal(o.error, undefined);
        const dead = o.dead.map((d) => key(d, s));
        assert.deepEqual(
          [...o.delivered, ...dead].toSorted(),
          o.sent.toSorted(),
        );
        assert.equal(new Set([...o.delivered, ...dead]).size, o.sent.length);
        const expected = o.sent.filter((n) =>
          (failures[Number(n.split(":")[1])] ?? 0) > p.retries
        );
        assert.deepEqual(dead.toSorted(), expected.toSorted());
        for (const d of o.dead) assert.equal(d.attempts, p.retries + 1);
        assert.equal(o.summary!.groups[1].skipped, expected.length);
        assertCreditsBack(o.metrics);
      },
    ),
    { numRuns: 40 },
  );
});

Deno.test("S9: the property holds in workers too, for a few schedules", () =>
  leakChecked(async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 0, max: 3 }), {
          minLength: 60,
          maxLength: 60,
        }),
        fc.integer({ min: 0, max: 2 }),
        async (schedule, retries) => {
          const failures: Record<number, number> = {};
          schedule.forEach((f, seq) => {
            if (f > 0) failures[seq] = f;
          });
          const s: Setup = {
            inline: false,
            shape: [2, 2, 1],
            count: 30,
            policy: { retries, onError: "skip" },
            failures,
          };
          const o = await run(s);
          assert.equal(o.error, undefined);
          const dead = o.dead.map((d) => key(d, s));
          assert.deepEqual(
            [...o.delivered, ...dead].toSorted(),
            o.sent.toSorted(),
          );
          assert.equal(new Set([...o.delivered, ...dead]).size, o.sent.length);
          assertCreditsBack(o.metrics);
        },
      ),
      { numRuns: 4 },
    );
  }));
