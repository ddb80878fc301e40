/**
 * The conformance suite of a link transport: what every transport must do
 * for outlets and inlets to keep their promises (see `src/link/transport.ts`).
 * It drives the ends through the {@linkcode Transport} interface only, so a
 * new transport runs it as it is:
 *
 * ```ts
 * conformance("my transport", myTransport);
 * ```
 *
 * It registers Deno tests for exact delivery (nothing lost or doubled), FIFO
 * per sender→receiver pair, the bound (in flight ≤ maxsize, no counter below
 * zero), pills (a receiver ends once, after every sender's pill), and aborts
 * (pending sends and a pending close reject, the receiver can be closed).
 *
 * @module
 */

import assert from "node:assert/strict";
// Named here, not in deno.json: the import map is the package's, and this
// one is for tests and benchmarks only.
// deno-lint-ignore no-import-prefix
import fc from "npm:fast-check@^4.10.2";
import type { Transport } from "../../src/link/transport.ts";
import {
  type Case,
  check,
  type CreditHold,
  type Step,
} from "./_interleavings.ts";

export type { CreditHold };

/** How much of the suite to run, and with what. */
export interface ConformanceOptions {
  /** Random interleavings without an abort (default 150). */
  readonly runs?: number;
  /** Random interleavings with an abort (default 60). */
  readonly abortRuns?: number;
  /** Most senders, and most receivers, of an edge (default 8). */
  readonly peers?: number;
  /**
   * A variant of the transport whose receivers hold their credit give-backs
   * until the interleavings' `credit` step releases them, to run the
   * interleavings on once more. Without it, that step does nothing: only
   * receivers not taking messages hold credit back.
   */
  readonly held?: { readonly transport: Transport; readonly hold: CreditHold };
  /**
   * Deno's op and resource sanitizers (default true). A transport that
   * keeps connections open across tests (a pool) turns them off.
   */
  readonly sanitize?: boolean;
}

const one = { from: "a", to: "b", senders: 1, receivers: 1 };

/** Registers the suite's tests for `transport`, each named after `name`. */
export function conformance(
  name: string,
  transport: Transport,
  options: ConformanceOptions = {},
): void {
  const { runs = 150, abortRuns = 60, peers = 8, held, sanitize = true } =
    options;
  const test = (what: string, fn: () => Promise<void>) =>
    Deno.test({
      name: `${name}: ${what}`,
      sanitizeOps: sanitize,
      sanitizeResources: sanitize,
      fn,
    });

  test("delivers in order, the pills after the sends waiting for credit", async () => {
    const edge = transport.createEdge({ ...one, maxsize: 1 });
    try {
      const outlet = transport.openSender(edge.senders[0], (error) => {
        throw error;
      });
      const inlet = transport.openReceiver(edge.receivers[0]);
      // Not awaited: with one credit, four of these wait when close() is.
      const sends = [0, 1, 2, 3, 4].map((n) => outlet.send(n));
      assert.equal(outlet.waiting, 4);
      assert.ok(edge.state().inFlight <= 1);
      let sealed = false;
      const closed = outlet.close().then(() => (sealed = true));
      assert.equal(outlet.close(), outlet.close(), "one promise for all");
      await Promise.resolve();
      assert.equal(sealed, false, "the pills wait for the waiting sends");
      const got: unknown[] = [];
      const pills: number[][] = [];
      await inlet.run(
        (message) => void got.push(message),
        (received, expected) => pills.push([received, expected]),
      );
      await Promise.all(sends);
      assert.deepEqual(got, [0, 1, 2, 3, 4], "every send, in order");
      assert.deepEqual(pills, [[1, 1]], "one pill");
      await closed;
      await assert.rejects(outlet.send(5), /already sent its poison pills/);
      const state = edge.state();
      assert.deepEqual(
        [state.inFlight, state.queued, state.waitingSenders],
        [0, [0], 0],
        "every credit came back",
      );
      inlet.close();
    } finally {
      edge.close();
    }
  });

  test("an abort settles both sides", async () => {
    const edge = transport.createEdge({ ...one, maxsize: 1 });
    try {
      const outlet = transport.openSender(edge.senders[0], (error) => {
        throw error;
      });
      const inlet = transport.openReceiver(edge.receivers[0]);
      const got: unknown[] = [];
      let ended = false;
      inlet.run((message) => void got.push(message), () => {})
        .then(() => (ended = true));
      const sends = [0, 1, 2].map((n) => outlet.send(n));
      assert.equal(outlet.waiting, 2);
      const closing = outlet.close();
      const reason = new Error("stopped");
      outlet.abort(reason);
      await assert.rejects(closing, (error) => error === reason);
      await sends[0];
      for (const send of sends.slice(1)) {
        await assert.rejects(send, (error) => error === reason);
      }
      assert.equal(outlet.waiting, 0);
      await assert.rejects(outlet.send(3), (error) => error === reason);
      await assert.rejects(outlet.close(), (error) => error === reason);
      inlet.close();
      inlet.close();
      assert.equal(ended, false, "no pill, no end");
      assert.ok(got.length <= 1, "at most what was accepted");
      assert.ok(edge.state().inFlight <= 1);
    } finally {
      edge.close();
    }
  });

  test("a message it cannot carry fails the outlet", async () => {
    const edge = transport.createEdge({ ...one, maxsize: 8 });
    try {
      const failed = Promise.withResolvers<[unknown, readonly unknown[]]>();
      const outlet = transport.openSender(
        edge.senders[0],
        (error, batch) => failed.resolve([error, batch]),
      );
      const inlet = transport.openReceiver(edge.receivers[0]);
      const uncloneable = () => {};
      await outlet.send("before");
      await outlet.send(uncloneable);
      outlet.flush();
      const [error, batch] = await failed.promise;
      assert.ok(batch.includes(uncloneable), "the failure names the batch");
      await assert.rejects(outlet.send("after"), (e) => e === error);
      await assert.rejects(outlet.close(), (e) => e === error);
      inlet.close();
    } finally {
      edge.close();
    }
  });

  const interleavings = (
    on: Transport,
    hold: CreditHold | undefined,
    suffix: string,
  ) => {
    test(`keeps the bound, the credits and every message under random interleavings (1–${peers} × 1–${peers})${suffix}`, async () => {
      await fc.assert(
        fc.asyncProperty(cases(false, peers), (c) => check(on, hold, c)),
        { numRuns: runs },
      );
    });
    test(`after an abort, delivers at most once, settles the aborted outlet, and no receiver ends${suffix}`, async () => {
      await fc.assert(
        fc.asyncProperty(cases(true, peers), (c) => check(on, hold, c)),
        { numRuns: abortRuns },
      );
    });
  };
  interleavings(transport, undefined, "");
  if (held !== undefined) {
    interleavings(held.transport, held.hold, ", credits held back");
  }
}

const step = (S: number, R: number): fc.Arbitrary<Step> =>
  fc.oneof(
    {
      weight: 6,
      arbitrary: fc.record({
        op: fc.constant("send" as const),
        s: fc.nat(S - 1),
        n: fc.integer({ min: 1, max: 40 }),
      }),
    },
    {
      weight: 4,
      arbitrary: fc.record({
        op: fc.constant("deliver" as const),
        r: fc.nat(R - 1),
        n: fc.integer({ min: 1, max: 40 }),
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        op: fc.constant("credit" as const),
        r: fc.nat(R - 1),
      }),
    },
    { weight: 3, arbitrary: fc.constant({ op: "tick" as const }) },
    {
      weight: 1,
      arbitrary: fc.record({
        op: fc.constant("pill" as const),
        s: fc.nat(S - 1),
      }),
    },
  );

/** Cases of 1–`peers` senders × 1–`peers` receivers; one abort if asked. */
export const cases = (withAbort: boolean, peers: number): fc.Arbitrary<Case> =>
  fc.record({
    senders: fc.integer({ min: 1, max: peers }),
    receivers: fc.integer({ min: 1, max: peers }),
    maxsize: fc.oneof(
      fc.integer({ min: 1, max: 8 }),
      fc.integer({ min: 9, max: 300 }),
    ),
  }).chain(({ senders, receivers, maxsize }) =>
    fc.record({
      senders: fc.constant(senders),
      receivers: fc.constant(receivers),
      maxsize: fc.constant(maxsize),
      steps: withAbort
        ? fc.tuple(
          fc.array(step(senders, receivers), { maxLength: 60 }),
          fc.nat(senders - 1),
          fc.array(step(senders, receivers), { maxLength: 60 }),
        ).map(([a, s, b]) => [...a, { op: "abort" as const, s }, ...b])
        : fc.array(step(senders, receivers), { maxLength: 120 }),
    })
  );
