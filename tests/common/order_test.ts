/**
 * The window of ordered results in one thread (`src/common/order.ts`): the
 * origin's gate numbers in call order, lets a window through, waits on the
 * cell until the main thread releases, and gives up when it closes.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  aheadOf,
  createWindowCell,
  type Numbered,
  OriginGate,
  WindowRelease,
} from "../../src/common/order.ts";

/** A gate whose sends are kept, each resolving at once. */
function gate(window: number) {
  const cell = createWindowCell();
  const sent: Numbered[] = [];
  const origin = new OriginGate<undefined>({ cell, window }, (envelope) => {
    sent.push(envelope as Numbered);
    return Promise.resolve();
  });
  return { cell, sent, origin, release: new WindowRelease(cell) };
}

/** Lets every queued task and wake-up run. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

Deno.test("The origin's gate numbers in call order and lets a window through, then waits for a release", async () => {
  const { sent, origin, release } = gate(3);
  const done: number[] = [];
  for (let x = 0; x < 7; x++) {
    origin.send(`m${x}`).then(() => done.push(x));
  }
  await settle();
  assert.deepEqual(sent, [[0, "m0"], [1, "m1"], [2, "m2"]]);
  assert.deepEqual(done, [0, 1, 2]);
  assert.deepEqual(release.counts().numbered, 3);
  assert.equal(release.counts().waits, 1);

  release.release(2); // #0 and #1 yielded: #3 and #4 may go
  await settle();
  assert.deepEqual(sent.map(([n]) => n), [0, 1, 2, 3, 4]);
  assert.deepEqual(done, [0, 1, 2, 3, 4]);

  release.release(7);
  await settle();
  assert.deepEqual(sent, Array.from({ length: 7 }, (_, x) => [x, `m${x}`]));
  assert.deepEqual(done, [0, 1, 2, 3, 4, 5, 6]);
  assert.equal(release.counts().numbered, 7);
  assert.ok(release.counts().waits >= 2);
});

Deno.test("The origin's gate finds a release nobody woke it for once it reaches the window's end", async () => {
  const { cell, sent, origin } = gate(4);
  // A release nobody told the gate of is found when it reaches the end.
  new Int32Array(cell)[0] = 2;
  for (let x = 0; x < 6; x++) origin.send(x);
  await settle();
  assert.deepEqual(sent.map(([n]) => n), [0, 1, 2, 3, 4, 5]);
});

Deno.test("A closed window rejects the sends waiting on it and lets none through", async () => {
  // An Atomics.waitAsync() woken by a notify resolves in a task of the
  // event loop, but does not keep the loop alive itself (in a run, the
  // links' ports do).
  const alive = setInterval(() => {}, 1000);
  try {
    const { sent, origin, release } = gate(1);
    const first = origin.send("a");
    const second = origin.send("b");
    const third = origin.send("c");
    await first;
    await settle();
    release.close();
    await assert.rejects(second, (e: DOMException) => e.name === "AbortError");
    await assert.rejects(third, (e: DOMException) => e.name === "AbortError");
    assert.deepEqual(sent, [[0, "a"]]);
  } finally {
    clearInterval(alive);
  }
});

Deno.test("The origin compares numbers modulo 2^32, as the cell holds them, so they stay right past 2^31 messages", () => {
  const cell = new Int32Array(createWindowCell());
  const release = new WindowRelease(cell.buffer as SharedArrayBuffer);
  for (
    const released of [
      0,
      5,
      2 ** 31 - 1,
      2 ** 31,
      2 ** 32 - 1,
      2 ** 32 + 3,
      2 ** 40,
    ]
  ) {
    release.release(released);
    for (const ahead of [0, 1, 7, 2 ** 30]) {
      assert.equal(
        aheadOf(released + ahead, cell[0]),
        ahead,
        `${released} + ${ahead}`,
      );
    }
  }
});
