/**
 * Spinning before parking: an inlet whose queue ran dry reads its queue
 * counter for a while (`SharedReceiverCredit.spin`) before its thread parks,
 * where every thread of the run has a core of its own (`idleSpin`). The
 * spin must see a post from another thread, give up when none comes, and
 * change nothing of what the links guarantee.
 *
 * @module
 */

import assert from "node:assert/strict";
import { IDLE_SPIN_MS, idleSpin, spinFields } from "../../src/host/launch.ts";
import { Inlet } from "../../src/link/inlet.ts";
import {
  createCells,
  SharedReceiverCredit,
  SharedSenderCredit,
  wakeAt,
} from "../../src/link/port/credit.ts";
import {
  portEnd,
  portTransport,
  portWire,
} from "../../src/link/port/transport.ts";
import type { Transport } from "../../src/link/transport.ts";
import { conformance } from "./conformance.ts";

Deno.test("spin() is true at once when a post to the receiver is on its way", () => {
  const cells = createCells(8, 2);
  new SharedSenderCredit(cells, 4).queued(1, 3);
  // A guard of a minute: the answer is already in the counter.
  assert.equal(new SharedReceiverCredit(cells, 1, 8).spin(60_000), true);
});

Deno.test("spin() gives up when no post comes, and a post to another receiver is not one", () => {
  const cells = createCells(8, 2);
  new SharedSenderCredit(cells, 4).queued(0, 3);
  assert.equal(new SharedReceiverCredit(cells, 1, 8).spin(1), false);
});

Deno.test("spin() sees a post that another thread counts while it spins", async () => {
  const cells = createCells(8, 1);
  // The worker counts a post once told to, from another thread: the spin
  // below sees it (or saw it before it began); a spin that could not see
  // another thread's count would end after its guard of 10 s, false.
  const go = new Int32Array(new SharedArrayBuffer(4));
  const code = `
    const QUEUED = 32;
    self.onmessage = ({ data }) => {
      const go = new Int32Array(data.go);
      Atomics.wait(go, 0, 0);
      Atomics.add(new Int32Array(data.cells), QUEUED, 1);
      self.postMessage("counted");
    };
  `;
  const url = URL.createObjectURL(
    new Blob([code], { type: "text/javascript" }),
  );
  const worker = new Worker(url, { type: "module" });
  try {
    const counted = new Promise((resolve) => (worker.onmessage = resolve));
    worker.postMessage({ cells, go: go.buffer });
    Atomics.store(go, 0, 1);
    Atomics.notify(go, 0);
    assert.equal(new SharedReceiverCredit(cells, 0, 8).spin(10_000), true);
    await counted;
  } finally {
    worker.terminate();
    URL.revokeObjectURL(url);
  }
});

Deno.test("idleSpin(): only actors in workers on the port transport, with a core each", () => {
  const run = { host: "worker", port: true, threads: 2, cores: 2 } as const;
  assert.equal(idleSpin(run), IDLE_SPIN_MS);
  assert.equal(idleSpin({ ...run, threads: 1 }), IDLE_SPIN_MS);
  assert.equal(idleSpin({ ...run, threads: 3 }), 0);
  assert.equal(idleSpin({ ...run, threads: 6, cores: 8 }), IDLE_SPIN_MS);
  assert.equal(idleSpin({ ...run, host: "inline" }), 0);
  assert.equal(idleSpin({ ...run, port: false }), 0);
});

Deno.test("spinFields(): no spin for a group with several recv() calls in flight", () => {
  assert.deepEqual(spinFields(IDLE_SPIN_MS, 1), { idleSpinMs: IDLE_SPIN_MS });
  assert.deepEqual(spinFields(IDLE_SPIN_MS, 8), {});
  assert.deepEqual(spinFields(0, 1), {});
});

/** The port transport's inlets as workers open them: spinning, waking late. */
const spinning: Transport = {
  ...portTransport,
  openReceiver(spec) {
    const end = portEnd(spec);
    const inlet = new Inlet(
      end.ports.map(portWire),
      new SharedReceiverCredit(
        end.cells,
        end.index,
        end.maxsize,
        wakeAt(end.maxsize),
      ),
    );
    inlet.idleSpinMs = IDLE_SPIN_MS;
    return inlet;
  },
};

conformance("port transport, inlets spinning before they park", spinning, {
  runs: 40,
  abortRuns: 20,
});
