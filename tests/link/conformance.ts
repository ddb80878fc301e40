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

/**
 * The restart cases of the suite, for a transport that can restart (see
 * "Restarts" in `src/link/transport.ts`): a receiver's replay, a sender's
 * credits and index, the fences, and what cannot be replayed. Driven in one
 * thread through the transport's interface: a "dead" end is one whose
 * handler threw, or whose outlet is left behind, as a terminated worker's.
 */
export function restartConformance(name: string, transport: Transport): void {
  const test = (what: string, fn: () => Promise<void>) =>
    Deno.test(`${name}: restart: ${what}`, fn);
  const restartable = { senders: true, receivers: true };

  test("a restarted receiver gets every message it had not handled, in order, then the pills; credits come back", async () => {
    const edge = transport.createEdge({
      from: "a",
      to: "b",
      senders: 2,
      receivers: 2,
      maxsize: 8,
      restartable,
    });
    try {
      const outlets = [0, 1].map((s) =>
        transport.openSender(edge.senders[s], (error) => {
          throw error;
        })
      );
      const inlets = [0, 1].map((r) =>
        transport.openReceiver(edge.receivers[r])
      );
      const handled: string[][] = [[], [], []];
      const key = (m: unknown) => {
        const { s, seq } = m as { s: number; seq: number };
        return `${s}:${seq}`;
      };
      let inHand: string | undefined;
      // Receiver 0 dies on its fifth message: it is in hand, not handled.
      const dead = inlets[0].run((m) => {
        if (handled[0].length === 4) {
          inHand = key(m);
          throw new Error("dies");
        }
        handled[0].push(key(m));
      }, () => {});
      const alive = inlets[1].run(
        (m) => void handled[1].push(key(m)),
        () => {},
      );
      const sending = outlets.map(async (outlet, s) => {
        for (let seq = 0; seq < 40; seq++) await outlet.send({ s, seq });
        await outlet.close();
      });
      await assert.rejects(dead, /dies/);
      inlets[0].close();
      const restarted = edge.restartReceiver!(0);
      assert.equal(restarted.lost, 0);
      assert.equal(restarted.peers.length, 2);
      restarted.peers.forEach((spec, s) => transport.relink!(outlets[s], spec));
      const again = transport.openReceiver(restarted.end);
      const redelivered: string[] = [];
      await again.run((m) => {
        if (transport.redelivered?.(again)) redelivered.push(key(m));
        handled[2].push(key(m));
      }, () => {});
      await Promise.all([...sending, alive]);
      assert.ok(inHand !== undefined);
      assert.deepEqual(redelivered, [inHand], "only the one in hand");
      const all = [...handled[0], ...handled[1], ...handled[2]];
      const expected = [0, 1].flatMap((s) =>
        Array.from({ length: 40 }, (_, seq) => `${s}:${seq}`)
      );
      assert.deepEqual(new Set(all), new Set(expected), "nothing lost");
      assert.equal(all.length, expected.length, "nothing doubled");
      for (const list of [handled[1], handled[2]]) {
        for (const s of [0, 1]) {
          const seqs = list.filter((k) => k.startsWith(`${s}:`)).map((k) =>
            Number(k.split(":")[1])
          );
          assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b), "in order");
        }
      }
      const state = edge.state();
      assert.deepEqual([state.inFlight, state.queued], [0, [0, 0]]);
      again.close();
      inlets[1].close();
    } finally {
      edge.close();
    }
  });

  test("a receiver restarted after every pill gets the unhandled messages and the pills again", async () => {
    const edge = transport.createEdge({ ...one, maxsize: 16, restartable });
    try {
      const outlet = transport.openSender(edge.senders[0], (error) => {
        throw error;
      });
      const inlet = transport.openReceiver(edge.receivers[0]);
      for (let seq = 0; seq < 10; seq++) await outlet.send(seq);
      await outlet.close();
      const first: unknown[] = [];
      await assert.rejects(
        inlet.run((m) => {
          if (m === 6) throw new Error("dies");
          first.push(m);
        }, () => {}),
        /dies/,
      );
      inlet.close();
      const restarted = edge.restartReceiver!(0);
      transport.relink!(outlet, restarted.peers[0]);
      const again = transport.openReceiver(restarted.end);
      const second: unknown[] = [];
      let pills = 0;
      await again.run((m) => void second.push(m), () => pills++);
      assert.deepEqual(first, [0, 1, 2, 3, 4, 5]);
      assert.deepEqual(second, [6, 7, 8, 9]);
      assert.equal(pills, 1);
      assert.deepEqual([edge.state().inFlight, edge.state().queued], [0, [0]]);
      again.close();
    } finally {
      edge.close();
    }
  });

  test("a restarted sender's credits come back, its old end is fenced, its new one keeps its index", async () => {
    const edge = transport.createEdge({
      from: "a",
      to: "b",
      senders: 2,
      receivers: 1,
      // Batches of 4 (half of each sender's share): three sends stay unposted.
      maxsize: 16,
      restartable,
    });
    try {
      const failures: unknown[] = [];
      const old = transport.openSender(
        edge.senders[0],
        (error) => void failures.push(error),
      );
      const other = transport.openSender(edge.senders[1], (error) => {
        throw error;
      });
      const inlet = transport.openReceiver(edge.receivers[0]);
      // Taken and not posted (the batch goes when this task ends): held.
      for (let seq = 0; seq < 3; seq++) old.send({ s: 0, seq, old: true });
      // Three in the batch, one left of the sender's grab of 4.
      assert.equal(edge.state().inFlight, 4);
      const restarted = edge.restartSender!(0);
      assert.equal(edge.state().inFlight, 0, "the dead sender's credits");
      assert.equal(restarted.end.index, 0);
      transport.relink!(inlet, restarted.peers[0]);
      const fresh = transport.openSender(restarted.end, (error) => {
        throw error;
      });
      old.flush();
      assert.equal(failures.length, 1, "the old incarnation cannot post");
      const got: { s: number; seq: number; old?: boolean }[] = [];
      let pills = 0;
      const receiving = inlet.run(
        (m) => void got.push(m as { s: number; seq: number }),
        () => pills++,
      );
      await Promise.all([fresh, other].map(async (outlet, k) => {
        const s = k === 0 ? 0 : 1;
        for (let seq = 0; seq < 20; seq++) await outlet.send({ s, seq });
        await outlet.close();
      }));
      await receiving;
      assert.equal(pills, 2, "one pill per sender index");
      assert.equal(got.filter((m) => m.old).length, 0);
      assert.equal(got.length, 40);
      assert.deepEqual([edge.state().inFlight, edge.state().queued], [0, [0]]);
      inlet.close();
    } finally {
      edge.close();
    }
  });

  test("an old receiver's incarnation, fenced, counts nothing it finishes after the restart", async () => {
    const edge = transport.createEdge({ ...one, maxsize: 16, restartable });
    try {
      const outlet = transport.openSender(edge.senders[0], (error) => {
        throw error;
      });
      const inlet = transport.openReceiver(edge.receivers[0]);
      for (let seq = 0; seq < 10; seq++) await outlet.send(seq);
      await outlet.close();
      const gate = Promise.withResolvers<void>();
      const reached = Promise.withResolvers<void>();
      const old: unknown[] = [];
      // The old incarnation is still busy with message 3 when it restarts,
      // as a worker Deno could not stop at once.
      const running = inlet.run(async (m) => {
        if (m === 3) {
          reached.resolve();
          await gate.promise;
        }
        old.push(m);
      }, () => {});
      await reached.promise;
      const restarted = edge.restartReceiver!(0);
      transport.relink!(outlet, restarted.peers[0]);
      gate.resolve();
      await assert.rejects(running, /restarted/);
      inlet.close();
      const again = transport.openReceiver(restarted.end);
      const fresh: unknown[] = [];
      const redelivered: unknown[] = [];
      await again.run((m) => {
        if (transport.redelivered?.(again)) redelivered.push(m);
        fresh.push(m);
      }, () => {});
      assert.deepEqual(old, [0, 1, 2, 3], "it finished 3, which did not count");
      // A receiver may count what it handled a few at a time: what it had
      // not counted yet comes again, each told it is redelivered.
      const from = fresh.indexOf(3);
      assert.deepEqual(fresh.slice(from), [3, 4, 5, 6, 7, 8, 9]);
      assert.deepEqual(
        fresh.slice(0, from),
        old.slice(old.length - 1 - from, -1),
      );
      assert.deepEqual(redelivered, fresh.slice(0, from + 1));
      assert.deepEqual([edge.state().inFlight, edge.state().queued], [0, [0]]);
      again.close();
    } finally {
      edge.close();
    }
  });

  test("a restarting actor's input counts as handled only once its outputs were handled downstream", async () => {
    const into = transport.createEdge({ ...one, maxsize: 8, restartable });
    const out = transport.createEdge({ ...one, maxsize: 8, restartable });
    try {
      const source = transport.openSender(into.senders[0], (error) => {
        throw error;
      });
      const inlet = transport.openReceiver(into.receivers[0]);
      const outlet = transport.openSender(out.senders[0], (error) => {
        throw error;
      });
      transport.chain!(inlet, outlet);
      const sink = transport.openReceiver(out.receivers[0]);
      for (let seq = 0; seq < 5; seq++) await source.send(seq);
      await source.close();
      await inlet.run((m) => outlet.send(m), () => {});
      await outlet.close();
      assert.equal(
        into.state().inFlight,
        5,
        "handled, forwarded, not yet handled downstream",
      );
      const got: unknown[] = [];
      await sink.run((m) => void got.push(m), () => {});
      await transport.drained!(inlet);
      assert.deepEqual(got, [0, 1, 2, 3, 4]);
      assert.equal(into.state().inFlight, 0, "counted once handled downstream");
      assert.equal(out.state().inFlight, 0);
      inlet.close();
      sink.close();
    } finally {
      into.close();
      out.close();
    }
  });

  test("messages neither a restarted sender nor its restarted receiver has are counted lost", async () => {
    const edge = transport.createEdge({ ...one, maxsize: 16, restartable });
    try {
      const outlet = transport.openSender(edge.senders[0], () => {});
      const inlet = transport.openReceiver(edge.receivers[0]);
      for (let seq = 0; seq < 5; seq++) await outlet.send(seq);
      outlet.flush();
      // The sender dies with its log; the receiver then dies too, before it
      // handled anything: five messages are nowhere.
      const sender = edge.restartSender!(0);
      transport.relink!(inlet, sender.peers[0]);
      inlet.close();
      const receiver = edge.restartReceiver!(0);
      assert.equal(receiver.lost, 5);
      outlet.closeWires();
      for (const spec of [...sender.peers, ...receiver.peers]) {
        transport.discard(spec);
      }
      transport.discard(sender.end);
      transport.discard(receiver.end);
    } finally {
      edge.close();
    }
  });
}
