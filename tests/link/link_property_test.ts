/**
 * Property tests of the link protocol (RELIABILITY.md F12): outlets, inlets
 * and their shared credits, driven in one thread over `new MessageChannel()`
 * by random interleavings of send, deliver, credit, pill and abort, with 1–8
 * senders × 1–8 receivers. After every step: at most `maxsize` messages in
 * flight, no negative credit; at the end: nothing lost or doubled, FIFO per
 * sender→receiver pair, and a receiver ends only after every sender's pill.
 *
 * @module
 */

import assert from "node:assert/strict";
import fc from "fast-check";
import {
  createCells,
  readCells,
  SharedReceiverCredit,
  SharedSenderCredit,
} from "../../src/link/port/credit.ts";
import { portWire } from "../../src/link/port/transport.ts";
import { Inlet } from "../../src/link/inlet.ts";
import { BATCH, Outlet } from "../../src/link/outlet.ts";

/** A receiver's credit whose give-backs wait for the test's `credit` step. */
class HeldCredit extends SharedReceiverCredit {
  hold = true;
  pending = false;
  override flush(): void {
    if (this.hold) this.pending = true;
    else this.release();
  }
  release(): void {
    this.pending = false;
    super.flush();
  }
}

interface Message {
  s: number;
  seq: number;
}

type Step =
  | { op: "send"; s: number; n: number }
  | { op: "deliver"; r: number; n: number }
  | { op: "credit"; r: number }
  | { op: "tick" }
  | { op: "pill"; s: number }
  | { op: "abort"; s: number };

interface Case {
  senders: number;
  receivers: number;
  maxsize: number;
  steps: Step[];
}

const tick = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

/** One sender: its outlet, its credit, what it sent and how it ended. */
interface Sender {
  outlet: Outlet;
  credit: SharedSenderCredit;
  ports: MessagePort[];
  seq: number;
  accepted: Set<string>;
  rejected: Set<string>;
  wantsPill: boolean;
  pilled: boolean;
  aborted: boolean;
}

/** One receiver: its inlet, what it handled, and the gate on its handler. */
interface Receiver {
  inlet: Inlet;
  credit: HeldCredit;
  handled: Message[];
  gates: (() => void)[];
  open: boolean;
  ended: boolean;
  endedAfterPills: boolean | undefined;
}

async function check(c: Case): Promise<void> {
  const { senders: S, receivers: R, maxsize } = c;
  const cells = createCells(maxsize, R);
  const channels = Array.from(
    { length: S },
    () => Array.from({ length: R }, () => new MessageChannel()),
  );
  const failures: unknown[] = [];
  const grab = Math.min(BATCH, Math.floor(maxsize / (2 * S)));
  const senders: Sender[] = channels.map((row) => {
    const credit = new SharedSenderCredit(cells, grab);
    const ports = row.map((ch) => ch.port1);
    return {
      outlet: new Outlet(ports.map(portWire), credit, (e) => failures.push(e)),
      credit,
      ports,
      seq: 0,
      accepted: new Set(),
      rejected: new Set(),
      wantsPill: false,
      pilled: false,
      aborted: false,
    };
  });
  const receivers: Receiver[] = [];
  const runs: Promise<void>[] = [];
  for (let r = 0; r < R; r++) {
    const credit = new HeldCredit(cells, r, maxsize);
    const receiver: Receiver = {
      inlet: new Inlet(channels.map((row) => portWire(row[r].port2)), credit),
      credit,
      handled: [],
      gates: [],
      open: false,
      ended: false,
      endedAfterPills: undefined,
    };
    receivers.push(receiver);
    runs.push(
      receiver.inlet.run(
        (message) => {
          receiver.handled.push(message as Message);
          if (receiver.open) return;
          return new Promise<void>((resolve) => receiver.gates.push(resolve));
        },
        () => {},
      ).then(() => {
        receiver.ended = true;
        receiver.endedAfterPills = senders.every((s) => s.pilled) &&
          receiver.inlet.pills === S;
      }),
    );
  }

  const invariants = (where: string) => {
    const cellsNow = readCells(cells);
    assert.ok(
      cellsNow.available >= 0,
      `${where}: credits ${cellsNow.available} < 0`,
    );
    assert.ok(cellsNow.available <= maxsize, `${where}: credits above maxsize`);
    assert.ok(cellsNow.queued.every((q) => q >= 0), `${where}: negative queue`);
    const put = senders.reduce((n, s) => n + s.outlet.sent, 0);
    const taken = receivers.reduce((n, r) => n + r.handled.length, 0);
    assert.ok(
      put - taken <= maxsize,
      `${where}: ${put - taken} messages in flight, maxsize ${maxsize}`,
    );
  };

  const send = (s: Sender, index: number) => {
    if (s.wantsPill || s.aborted) return;
    const message: Message = { s: index, seq: s.seq++ };
    const key = `${index}:${message.seq}`;
    s.outlet.send(message).then(
      () => s.accepted.add(key),
      () => s.rejected.add(key),
    );
  };

  // A sender sends its pills once every send it made has settled (close()
  // would also wait for them; the property is about the link's accounting).
  const pillIfReady = () => {
    for (const s of senders) {
      if (s.wantsPill && !s.pilled && !s.aborted && s.outlet.waiting === 0) {
        s.outlet.close();
        s.pilled = true;
      }
    }
  };

  try {
    for (const [i, step] of c.steps.entries()) {
      switch (step.op) {
        case "send":
          for (let k = 0; k < step.n; k++) {
            send(senders[step.s % S], step.s % S);
          }
          break;
        case "deliver": {
          const r = receivers[step.r % R];
          for (const gate of r.gates.splice(0, step.n)) gate();
          break;
        }
        case "credit":
          receivers[step.r % R].credit.release();
          break;
        case "tick":
          await tick();
          break;
        case "pill":
          senders[step.s % S].wantsPill = true;
          break;
        case "abort": {
          const s = senders[step.s % S];
          if (!s.pilled && !s.aborted) {
            s.aborted = true;
            s.outlet.abort(new Error("aborted"));
          }
          break;
        }
      }
      await Promise.resolve();
      pillIfReady();
      invariants(`after step ${i} (${JSON.stringify(step)})`);
      for (const r of receivers) {
        if (r.ended) {
          assert.ok(r.endedAfterPills, "a receiver ended before every pill");
        }
      }
    }

    // Drain: every sender ends, every gate and credit opens.
    for (const s of senders) s.wantsPill = true;
    for (const r of receivers) {
      r.open = true;
      r.credit.hold = false;
    }
    const aborted = senders.some((s) => s.aborted);
    let idle = 0;
    for (let round = 0; round < 100_000 && idle < 50; round++) {
      const before = receivers.reduce((n, r) => n + r.handled.length, 0) +
        senders.reduce((n, s) => n + s.outlet.sent, 0);
      for (const r of receivers) {
        for (const gate of r.gates.splice(0)) gate();
        if (r.credit.pending) r.credit.release();
      }
      await tick();
      pillIfReady();
      invariants(`while draining (round ${round})`);
      if (!aborted && receivers.every((r) => r.ended)) break;
      const after = receivers.reduce((n, r) => n + r.handled.length, 0) +
        senders.reduce((n, s) => n + s.outlet.sent, 0);
      idle = after === before ? idle + 1 : 0;
    }

    assert.deepEqual(failures, []);
    const handled = receivers.flatMap((r) =>
      r.handled.map((m) => `${m.s}:${m.seq}`)
    );
    assert.equal(new Set(handled).size, handled.length, "nothing doubled");
    for (const r of receivers) {
      const last = new Map<number, number>();
      for (const m of r.handled) {
        assert.ok(
          (last.get(m.s) ?? -1) < m.seq,
          "FIFO per sender→receiver pair",
        );
        last.set(m.s, m.seq);
      }
    }
    const accepted = new Set(senders.flatMap((s) => [...s.accepted]));
    const rejected = new Set(senders.flatMap((s) => [...s.rejected]));
    for (const key of handled) {
      assert.ok(accepted.has(key), `${key} was handled but never accepted`);
      assert.ok(!rejected.has(key), `${key} was rejected yet handled`);
    }
    if (aborted) {
      // The aborted sender never sends its pills: its receivers wait.
      assert.ok(
        receivers.every((r) => !r.ended),
        "a receiver ended without every pill",
      );
    } else {
      assert.ok(receivers.every((r) => r.ended), "every receiver ended");
      assert.ok(receivers.every((r) => r.endedAfterPills));
      assert.equal(rejected.size, 0);
      assert.deepEqual(
        [...accepted].sort(),
        [...handled].sort(),
        "nothing lost",
      );
      const sent = senders.reduce((n, s) => n + s.seq, 0);
      assert.equal(handled.length, sent, "every send was delivered");
      await Promise.all(runs);
    }
  } finally {
    for (const s of senders) {
      if (!s.pilled) s.outlet.abort(new Error("test over"));
      s.credit.wakeAll();
      for (const port of s.ports) port.close();
    }
    for (const r of receivers) {
      for (const gate of r.gates.splice(0)) gate();
      r.inlet.close();
    }
    await tick();
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

const cases = (withAbort: boolean): fc.Arbitrary<Case> =>
  fc.record({
    senders: fc.integer({ min: 1, max: 8 }),
    receivers: fc.integer({ min: 1, max: 8 }),
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

Deno.test("F12: links keep the bound, the credits and every message under random interleavings", async () => {
  await fc.assert(fc.asyncProperty(cases(false), check), { numRuns: 150 });
});

Deno.test("F12: after an abort, links deliver at most once and no receiver ends", async () => {
  await fc.assert(fc.asyncProperty(cases(true), check), { numRuns: 60 });
});
