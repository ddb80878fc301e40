/**
 * The failure policy where an actor runs (`src/worker/attempts.ts`), in one
 * thread, over a fake runner: what the last attempt reports under each
 * `onError`, how the run's stop ends every wait, and how `concurrency`
 * bounds the calls in flight, each with its own attempt.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { Logger } from "@logtape/logtape";
import type { Actor } from "../../mod.ts";
import type { Policy } from "../../src/common/protocol.ts";
import { readStats, WIDTH } from "../../src/common/stats.ts";
import {
  Attempts,
  type AttemptsHost,
  type FinalFailure,
  isDefaultPolicy,
} from "../../src/worker/attempts.ts";

const DEFAULT: Policy = {
  retries: 0,
  backoffMs: 0,
  onError: "fail",
  restarts: { max: 3, withinMs: 60_000 },
  recvTimeoutMs: undefined,
  concurrency: 1,
};

/** A fake runner that records what the attempts tell it. */
function fake(policy: Partial<Policy>) {
  const failures: { error: unknown; final?: FinalFailure }[] = [];
  const dead: { message: unknown; attempts: number }[] = [];
  const warnings: string[] = [];
  const full = { ...DEFAULT, ...policy };
  const buffer = new SharedArrayBuffer(WIDTH * 8);
  let halted = false;
  const host: AttemptsHost = {
    name: "Test-1",
    policy: full,
    concurrency: full.concurrency,
    stats: { buffer, index: 0 },
    log: {
      warn: (message: string, props: Record<string, unknown>) =>
        warnings.push(
          message.replace(/\{(\w+)\}/g, (_, k: string) => String(props[k])),
        ),
    } as unknown as Logger,
    admit() {},
    halted: () => halted,
    fail: (error, final) => failures.push({ error, final }),
    deadLetter: (message, _error, attempts) => {
      dead.push({ message, attempts });
    },
  };
  return {
    host,
    failures,
    dead,
    warnings,
    stats: () => readStats(buffer, 0),
    stop: () => (halted = true),
  };
}

/** An actor whose recv() is the given function. */
function actor(recv: (message: unknown) => unknown): Actor<unknown, unknown> {
  return { recv } as unknown as Actor<unknown, unknown>;
}

/** Lets every pending reaction run. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

Deno.test("isDefaultPolicy() is true only for one attempt, fail, no time limit and one call at once", () => {
  assert.equal(isDefaultPolicy(DEFAULT), true);
  for (
    const change of [
      { retries: 1 },
      { onError: "skip" as const },
      { recvTimeoutMs: 10 },
      { concurrency: 2 },
    ]
  ) {
    assert.equal(isDefaultPolicy({ ...DEFAULT, ...change }), false);
  }
});

Deno.test("Under onError restart, the last attempt reports a failure marked restart, and waits with its message until the run stops", async () => {
  const f = fake({ retries: 1, onError: "restart" });
  let calls = 0;
  const a = await Attempts.create(
    f.host,
    actor(() => {
      calls++;
      throw new RangeError("no");
    }),
  );
  const waiting = a.handle(7) as Promise<void>;
  await settle();
  assert.equal(calls, 2);
  assert.equal(f.failures.length, 1);
  assert.ok(f.failures[0].error instanceof RangeError);
  assert.deepEqual(f.failures[0].final, {
    summary: "7",
    attempts: 2,
    restart: true,
  });
  assert.deepEqual(f.warnings, [
    "recv() attempt 1 of 2 failed on message 7: RangeError: no; trying again",
    "recv() attempt 2 of 2 failed on message 7: RangeError: no; restarting the actor",
  ]);
  assert.deepEqual(f.stats().retries, 1);
  f.stop();
  a.halt();
  await assert.rejects(waiting, { name: "AbortError" });
});

Deno.test("Under onError fail, the last attempt reports a failure with its attempts, not marked restart, and rejects", async () => {
  const f = fake({ retries: 2 });
  const a = await Attempts.create(
    f.host,
    actor(() => Promise.reject(new TypeError("bad"))),
  );
  await assert.rejects(a.handle("m") as Promise<void>, { name: "TypeError" });
  assert.deepEqual(f.failures.map((x) => x.final), [
    { summary: '"m"', attempts: 3, restart: false },
  ]);
  // Only the retried attempts are logged: the run's error says the rest.
  assert.equal(f.warnings.length, 2);
});

Deno.test("Under onError skip, the last attempt posts a dead letter and the handler resolves", async () => {
  const f = fake({ retries: 1, onError: "skip" });
  const a = await Attempts.create(f.host, actor(() => Promise.reject(1)));
  await a.handle({ n: 1 });
  assert.deepEqual(f.dead, [{ message: { n: 1 }, attempts: 2 }]);
  assert.deepEqual(f.failures, []);
  const stats = f.stats();
  assert.equal(stats.received, 1);
  assert.equal(stats.retries, 1);
  assert.equal(stats.skipped, 1);
});

Deno.test("Stopping the run ends a backoff at once, leaving no timer behind", async () => {
  const f = fake({ retries: 3, backoffMs: 60_000 });
  const a = await Attempts.create(
    f.host,
    actor(() => {
      throw new Error("down");
    }),
  );
  const waiting = a.handle(1) as Promise<void>;
  await settle();
  assert.deepEqual(f.warnings, [
    "recv() attempt 1 of 4 failed on message 1: Error: down; trying again in 60000 ms",
  ]);
  f.stop();
  a.halt();
  // The wait ends at once: the run is stopping, no more attempts.
  await assert.rejects(waiting, { name: "AbortError" });
});

Deno.test("A pending recv() past recvTimeoutMs fails its attempt with a TimeoutError naming the actor and the message", async () => {
  const f = fake({ recvTimeoutMs: 20, onError: "skip" });
  const a = await Attempts.create(f.host, actor(() => new Promise(() => {})));
  await a.handle({ id: 3 });
  assert.equal(f.dead.length, 1);
  assert.deepEqual(f.warnings, [
    "recv() attempt 1 of 1 failed on message { id: 3 }: TimeoutError: Test-1 did not finish recv() within recvTimeoutMs (20 ms) on message { id: 3 }; sending it to the dead letters",
  ]);
});

Deno.test("concurrency lets k calls run at once, makes the inlet wait for the (k+1)th, and gives each call its own attempt", async () => {
  const f = fake({ concurrency: 3, retries: 1 });
  const gates: PromiseWithResolvers<void>[] = [];
  const seen: string[] = [];
  const a: Attempts = await Attempts.create(
    f.host,
    actor(async (message) => {
      const before = a!.attempt;
      const gate = Promise.withResolvers<void>();
      gates.push(gate);
      await gate.promise;
      seen.push(`${message}@${before}/${a!.attempt}`);
      if (message === "b" && before === 1) throw new Error("once");
    }),
  );
  assert.equal(a.handle("a"), undefined);
  assert.equal(a.handle("b"), undefined);
  const third = a.handle("c");
  assert.ok(third instanceof Promise, "the inlet waits at k calls");
  let admitted = false;
  (third as Promise<void>).then(() => (admitted = true));
  assert.equal(a.attempt, 0, "outside any call");
  gates[1].resolve(); // b fails its first attempt and is tried again
  await settle();
  assert.equal(admitted, false, "b is still in flight, on its second attempt");
  gates[0].resolve();
  await settle();
  assert.equal(admitted, true, "a ended: a slot is free");
  for (const gate of gates) gate.resolve();
  await settle();
  for (const gate of gates) gate.resolve();
  await a.drain();
  assert.deepEqual(seen.toSorted(), ["a@1/1", "b@1/1", "b@2/2", "c@1/1"]);
  assert.equal(f.stats().retries, 1);
});
