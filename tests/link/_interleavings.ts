/**
 * One random interleaving of send, deliver, credit, tick, pill and abort on
 * one edge of a transport, driven in one thread through the transport's
 * interface only (`createEdge`, `openSender`, `openReceiver`), and what must
 * hold of it: after every step, the bound (at most `maxsize` in flight, no
 * counter below zero); at the end, nothing lost or doubled, FIFO per
 * sender→receiver pair, a receiver ending once and only after every
 * sender's pill, and an abort settling every send and close of its outlet.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { Inlet } from "../../src/link/inlet.ts";
import type { Outlet } from "../../src/link/outlet.ts";
import type { Transport } from "../../src/link/transport.ts";

/**
 * A transport's receivers holding back their credit give-backs until told:
 * how a test makes senders wait on credit while receivers keep taking.
 */
export interface CreditHold {
  /** Gives back what receiver `index` took so far. */
  release(index: number): void;
  /** Stops holding (for the edge made last) and gives back what is held. */
  stop(): void;
}

interface Message {
  s: number;
  seq: number;
}

export type Step =
  | { op: "send"; s: number; n: number }
  | { op: "deliver"; r: number; n: number }
  | { op: "credit"; r: number }
  | { op: "tick" }
  | { op: "pill"; s: number }
  | { op: "abort"; s: number };

export interface Case {
  senders: number;
  receivers: number;
  maxsize: number;
  steps: Step[];
}

/** Lets the event loop run: messages between ports arrive in tasks. */
const tick = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

/** The longest the end of a case may take to settle (a guard). */
const SETTLE_MS = 5000;

interface Send {
  readonly key: string;
  /** Sent after the outlet's close() or abort(): must reject. */
  readonly late: boolean;
  /** Sent after the outlet's abort(): must reject with its reason. */
  readonly afterAbort: boolean;
  state: "pending" | "accepted" | "rejected";
  reason?: unknown;
}

interface Sender {
  outlet: Outlet;
  seq: number;
  sends: Send[];
  closing: Promise<void> | undefined;
  /** close() resolved: the pills are posted. */
  closed: boolean;
  closeError: unknown;
  abort: Error | undefined;
  waitingAtAbort: number;
  closePendingAtAbort: boolean;
}

interface Receiver {
  inlet: Inlet;
  handled: Message[];
  gates: (() => void)[];
  open: boolean;
  /** What each onPill call said: received, expected. */
  pills: [number, number][];
  ends: number;
  endedAfterPills: boolean;
}

/** Runs one case on `transport`; throws if a property does not hold. */
export async function check(
  transport: Transport,
  hold: CreditHold | undefined,
  c: Case,
): Promise<void> {
  const { senders: S, receivers: R, maxsize } = c;
  const edge = transport.createEdge({
    from: "a",
    to: "b",
    senders: S,
    receivers: R,
    maxsize,
  });
  assert.equal(edge.senders.length, S);
  assert.equal(edge.receivers.length, R);
  const failures: unknown[] = [];
  const senders: Sender[] = edge.senders.map((spec, index) => {
    assert.equal(spec.index, index, "sender ends by index");
    return {
      outlet: transport.openSender(spec, (e) => failures.push(e)),
      seq: 0,
      sends: [],
      closing: undefined,
      closed: false,
      closeError: undefined,
      abort: undefined,
      waitingAtAbort: 0,
      closePendingAtAbort: false,
    };
  });
  const receivers: Receiver[] = edge.receivers.map((spec, index) => {
    assert.equal(spec.index, index, "receiver ends by index");
    const inlet = transport.openReceiver(spec);
    assert.equal(inlet.senders, S, "an inlet waits for every sender's pill");
    const receiver: Receiver = {
      inlet,
      handled: [],
      gates: [],
      open: false,
      pills: [],
      ends: 0,
      endedAfterPills: false,
    };
    inlet.run(
      (message) => {
        receiver.handled.push(message as Message);
        if (receiver.open) return;
        return new Promise<void>((resolve) => receiver.gates.push(resolve));
      },
      (received, expected) => receiver.pills.push([received, expected]),
    ).then(() => {
      receiver.ends++;
      receiver.endedAfterPills = senders.every((s) => s.closed) &&
        inlet.pills === S;
    }, (error) => failures.push(error));
    return receiver;
  });

  const invariants = (where: string) => {
    const state = edge.state();
    assert.ok(state.inFlight <= maxsize, `${where}: credits below zero`);
    assert.ok(state.inFlight >= 0, `${where}: credits above maxsize`);
    assert.ok(state.waitingSenders >= 0, `${where}: negative waiters`);
    assert.equal(state.queued.length, R, `${where}: a queue per receiver`);
    assert.ok(state.queued.every((q) => q >= 0), `${where}: negative queue`);
    const put = senders.reduce((n, s) => n + s.outlet.sent, 0);
    const taken = receivers.reduce((n, r) => n + r.handled.length, 0);
    assert.ok(
      put - taken <= maxsize,
      `${where}: ${put - taken} messages in flight, maxsize ${maxsize}`,
    );
    for (const r of receivers) {
      if (r.ends === 1) {
        assert.ok(r.endedAfterPills, `${where}: ended before every pill`);
      }
      r.pills.forEach(([got, expected], i) => {
        assert.deepEqual([got, expected], [i + 1, S], `${where}: pill count`);
      });
      assert.ok(r.pills.length <= S, `${where}: more pills than senders`);
    }
  };

  const send = (s: Sender, index: number) => {
    const message: Message = { s: index, seq: s.seq++ };
    const record: Send = {
      key: `${index}:${message.seq}`,
      late: s.closing !== undefined || s.abort !== undefined,
      afterAbort: s.abort !== undefined,
      state: "pending",
    };
    s.sends.push(record);
    s.outlet.send(message).then(
      () => (record.state = "accepted"),
      (reason) => {
        record.state = "rejected";
        record.reason = reason;
      },
    );
  };

  const close = (s: Sender) => {
    if (s.closing !== undefined || s.abort !== undefined) return;
    s.closing = s.outlet.close();
    s.closing.then(
      () => (s.closed = true),
      (error) => (s.closeError = error),
    );
  };

  const abort = (s: Sender, index: number) => {
    // Only an outlet whose pills have not gone out: after them, an abort
    // changes nothing, and the receivers may end.
    const sealed = s.closing !== undefined && s.outlet.waiting === 0;
    if (s.abort !== undefined || sealed) return;
    s.waitingAtAbort = s.outlet.waiting;
    s.closePendingAtAbort = s.closing !== undefined;
    s.abort = new Error(`sender ${index} aborted`);
    s.outlet.abort(s.abort);
  };

  /** Nothing can move any more: for a case with an abort, whose credits leak. */
  const settled = () => {
    const state = edge.state();
    const closed = senders.filter((s) => s.closed).length;
    return receivers.every((r) => r.gates.length === 0) &&
      state.queued.every((q) => q === 0) &&
      receivers.every((r) => r.inlet.pills === closed) &&
      senders.every((s) =>
        s.abort !== undefined || s.closed ||
        (s.outlet.waiting > 0 && state.inFlight === maxsize)
      );
  };

  try {
    for (const [i, step] of c.steps.entries()) {
      switch (step.op) {
        case "send":
          for (let k = 0; k < step.n; k++) send(senders[step.s], step.s);
          break;
        case "deliver":
          for (const gate of receivers[step.r].gates.splice(0, step.n)) {
            gate();
          }
          break;
        case "credit":
          hold?.release(step.r);
          break;
        case "tick":
          await tick();
          break;
        case "pill":
          close(senders[step.s]);
          break;
        case "abort":
          abort(senders[step.s], step.s);
          break;
      }
      await Promise.resolve();
      invariants(`after step ${i} (${JSON.stringify(step)})`);
    }

    // The end: every sender closes, every gate and credit opens.
    for (const s of senders) close(s);
    for (const r of receivers) r.open = true;
    hold?.stop();
    const aborted = senders.find((s) => s.abort !== undefined);
    const done = aborted === undefined
      ? () => receivers.every((r) => r.ends === 1)
      : settled;
    const deadline = performance.now() + SETTLE_MS;
    for (let round = 0; !done(); round++) {
      assert.ok(
        performance.now() < deadline,
        `the edge did not settle in ${SETTLE_MS} ms`,
      );
      for (const r of receivers) for (const gate of r.gates.splice(0)) gate();
      await tick();
      invariants(`at the end (round ${round})`);
    }

    assert.deepEqual(failures, []);
    const handled = receivers.flatMap((r) =>
      r.handled.map((m) => `${m.s}:${m.seq}`)
    );
    assert.equal(new Set(handled).size, handled.length, "nothing doubled");
    for (const r of receivers) {
      const last = new Map<number, number>();
      for (const m of r.handled) {
        assert.ok((last.get(m.s) ?? -1) < m.seq, "FIFO per sender→receiver");
        last.set(m.s, m.seq);
      }
    }
    const sends = new Map(
      senders.flatMap((s) => s.sends.map((send) => [send.key, send])),
    );
    for (const key of handled) {
      assert.equal(sends.get(key)?.state, "accepted", `${key} handled`);
    }
    for (const send of sends.values()) {
      if (send.late) assert.equal(send.state, "rejected", `${send.key} late`);
    }
    if (aborted === undefined) {
      for (const r of receivers) {
        assert.ok(r.endedAfterPills, "ended after every pill");
        assert.equal(r.pills.length, S, "one pill per sender");
      }
      const due = [...sends.values()].filter((send) => !send.late);
      assert.ok(due.every((send) => send.state === "accepted"));
      assert.deepEqual(
        [...handled].sort(),
        due.map((send) => send.key).sort(),
        "nothing lost",
      );
      while (!clean(edge.state())) {
        assert.ok(performance.now() < deadline, "every credit comes back");
        await tick();
      }
    } else {
      assert.ok(receivers.every((r) => r.ends === 0), "no receiver ends");
      for (const s of senders) {
        const early = s.sends.filter((send) => !send.late);
        if (s.abort === undefined) {
          assert.ok(early.every((send) => send.state !== "rejected"));
          continue;
        }
        // Every send settles: accepted before the abort, or rejected by it.
        assert.ok(s.sends.every((send) => send.state !== "pending"));
        const rejected = early.filter((send) => send.state === "rejected");
        assert.ok(rejected.every((send) => send.reason === s.abort));
        assert.equal(
          rejected.length,
          s.waitingAtAbort,
          "exactly the sends waiting for credit reject",
        );
        const after = s.sends.filter((send) => send.afterAbort);
        assert.ok(after.every((send) => send.reason === s.abort));
        if (s.closePendingAtAbort) {
          assert.equal(s.closeError, s.abort, "the pending close rejects");
        }
        await assert.rejects(s.outlet.send("more"), (e) => e === s.abort);
      }
    }
  } finally {
    for (const s of senders) {
      if (!s.closed) s.outlet.abort(new Error("test over"));
    }
    for (const r of receivers) {
      for (const gate of r.gates.splice(0)) gate();
      r.inlet.close();
    }
    edge.close();
  }
}

function clean(state: { inFlight: number; queued: number[] }): boolean {
  return state.inFlight === 0 && state.queued.every((q) => q === 0);
}
