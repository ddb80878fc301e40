/**
 * When a receiver wakes the senders waiting for credit
 * (`SharedReceiverCredit`'s `wakeAt`): once that many credits of the edge
 * are free, once it gave back that many since it last woke them, or when
 * its queue ran dry with nothing on its way; never with no sender waiting.
 * `Atomics.notify` is counted on the edge's buffer, so each test says
 * exactly how many wake-ups a sequence of give-backs makes.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  createCells,
  SharedReceiverCredit,
  SharedSenderCredit,
} from "../../src/link/port/credit.ts";

/** Counts `Atomics.notify` on `buffer` while `fn` runs. */
async function notifies(
  buffer: SharedArrayBuffer,
  fn: () => Promise<void> | void,
): Promise<number> {
  const notify = Atomics.notify;
  let count = 0;
  Atomics.notify = ((cells: Int32Array, index: number, n?: number) => {
    if (cells.buffer === buffer) count++;
    return notify(cells, index, n);
  }) as typeof Atomics.notify;
  try {
    await fn();
  } finally {
    Atomics.notify = notify;
  }
  return count;
}

/** An edge of `maxsize` whose one sender took every credit and posted them. */
function fullEdge(maxsize: number) {
  const cells = createCells(maxsize, 1);
  const sender = new SharedSenderCredit(cells, maxsize);
  for (let i = 0; i < maxsize; i++) assert.equal(sender.take(), true);
  assert.equal(sender.take(), false);
  sender.queued(0, maxsize);
  return { cells, sender };
}

/** Resolves `woken`, or fails after a guard of 10 s (a lost wake-up). */
function guarded(woken: Promise<void>): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    woken,
    new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error("the waiting sender was never woken")),
        10_000,
      );
    }),
  ]).finally(() => clearTimeout(timer));
}

Deno.test("a receiver wakes a waiting sender once half the window is free, not at each chunk before", async () => {
  const { cells, sender } = fullEdge(16);
  // A chunk is 2 messages (an eighth of 16); half the window is 8.
  const receiver = new SharedReceiverCredit(cells, 0, 16, 8);
  const woken = sender.wait();
  assert.equal(
    await notifies(cells, () => {
      for (let i = 0; i < 6; i++) receiver.took();
    }),
    0,
  );
  assert.equal(
    await notifies(cells, () => {
      receiver.took();
      receiver.took();
    }),
    1,
  );
  await guarded(woken);
  assert.equal(sender.take(), true);
});

Deno.test("a receiver whose queue ran dry with nothing on its way wakes a waiting sender at once", async () => {
  const cells = createCells(16, 2);
  // Sender a posted 4 messages to receiver 0; sender b took the other 12
  // (posted to receiver 1) and waits for more.
  const a = new SharedSenderCredit(cells, 4);
  const b = new SharedSenderCredit(cells, 12);
  for (let i = 0; i < 4; i++) assert.equal(a.take(), true);
  a.queued(0, 4);
  for (let i = 0; i < 12; i++) assert.equal(b.take(), true);
  b.queued(1, 12);
  const woken = b.wait();
  const receiver = new SharedReceiverCredit(cells, 0, 16, 8);
  // Its chunk is 2: two give-backs, 4 free, below half: no wake-up yet.
  assert.equal(
    await notifies(cells, () => {
      for (let i = 0; i < 4; i++) receiver.took();
    }),
    0,
  );
  // Its queue ran dry and nothing more is on its way to it: wakes.
  assert.equal(await notifies(cells, () => receiver.flush()), 1);
  await guarded(woken);
});

Deno.test("a receiver whose queue ran dry with a post still on its way does not wake yet", async () => {
  const { cells, sender } = fullEdge(16);
  const receiver = new SharedReceiverCredit(cells, 0, 16, 8);
  const woken = sender.wait();
  // 3 of the 16 posted reached it and it ran dry: 13 are on their way.
  assert.equal(
    await notifies(cells, () => {
      for (let i = 0; i < 3; i++) receiver.took();
      receiver.flush();
    }),
    0,
  );
  // The rest came and it ran dry again: wakes (at half the window, then at
  // every give-back while the woken sender has not run yet).
  assert.ok(
    await notifies(cells, () => {
      for (let i = 0; i < 13; i++) receiver.took();
      receiver.flush();
    }) > 0,
  );
  await guarded(woken);
});

Deno.test("a receiver wakes a waiting sender after half a window of give-backs, even with the credits taken again", async () => {
  const { cells, sender } = fullEdge(16);
  const other = new SharedSenderCredit(cells, 1);
  const receiver = new SharedReceiverCredit(cells, 0, 16, 8);
  const woken = sender.wait();
  // Another sender takes each credit as soon as it is back: the free count
  // stays below 8, but after 8 give-backs the waiting sender is woken.
  let n = 0;
  n += await notifies(cells, () => {
    for (let i = 0; i < 6; i++) {
      receiver.took();
      if (i % 2 === 1) { for (let k = 0; k < 2; k++) other.take(); }
    }
  });
  assert.equal(n, 0);
  n += await notifies(cells, () => {
    receiver.took();
    receiver.took();
  });
  assert.equal(n, 1);
  await guarded(woken);
});

Deno.test("without wakeAt a receiver wakes a waiting sender at every give-back; with no sender waiting, never", async () => {
  const { cells, sender } = fullEdge(16);
  const receiver = new SharedReceiverCredit(cells, 0, 16);
  assert.equal(
    await notifies(cells, () => {
      for (let i = 0; i < 4; i++) receiver.took();
    }),
    0,
  );
  // The sender takes those 4 again, then waits.
  for (let i = 0; i < 4; i++) assert.equal(sender.take(), true);
  const woken = sender.wait();
  assert.equal(
    await notifies(cells, () => {
      receiver.took();
      receiver.took();
    }),
    1,
  );
  await guarded(woken);
});
