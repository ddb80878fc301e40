/**
 * An actor's side of ordered results (`src/worker/ordering.ts`), driven in
 * one thread: which number each send goes under, one message at a time and
 * with several calls in flight at once (as a group's `concurrency` runs
 * them, the number following each call through its awaits), the marker of
 * a message that sent nothing, and the refusals.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { InitMessage } from "../../src/common/protocol.ts";
import type { Inlet } from "../../src/link/inlet.ts";
import { ordering } from "../../src/worker/ordering.ts";

/** A stage's ordering over kept sends, markers and failures. */
async function stage(concurrency: number) {
  const sent: unknown[] = [];
  const failures: Error[] = [];
  const init = {
    order: "stage",
    name: "Stage-1",
    policy: { concurrency },
  } as unknown as InitMessage;
  const order = await ordering(init, (envelope) => {
    sent.push(envelope);
    return Promise.resolve();
  }, {
    forward: (marker) => {
      sent.push(marker);
      return Promise.resolve();
    },
    fail: (error) => failures.push(error),
  });
  const inlet = { current: undefined } as Inlet;
  return { order, sent, failures, inlet };
}

const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

for (const concurrency of [1, 4]) {
  Deno.test(`A stage sends under the number of the message in hand, and a marker for one it sent nothing for (concurrency ${concurrency})`, async () => {
    const { order, sent, inlet } = await stage(concurrency);
    const handle = order.handler!(inlet, async (x) => {
      const n = x as number;
      await tick(n % 3);
      if (n % 2 === 0) await order.send(`y${n}`);
    });
    // One call after another, as the inlet makes them with concurrency 1.
    for (const n of [0, 1, 2, 3]) await handle([n, n]);
    await handle(4); // a marker from upstream passes on without a call
    assert.deepEqual(sent, [[0, "y0"], 1, [2, "y2"], 3, 4]);
  });
}

Deno.test("With concurrency, each call's sends keep its own number through awaits and timers, in whatever order the calls end", async () => {
  const { order, sent, inlet, failures } = await stage(4);
  const handle = order.handler!(inlet, async (x) => {
    const n = x as number;
    // The first calls take longest: they end last.
    await tick(5 * (4 - n));
    await new Promise<void>((resolve) =>
      setTimeout(() => {
        if (n !== 2) order.send(`y${n}`);
        resolve();
      }, 0)
    );
  });
  await Promise.all([0, 1, 2, 3].map((n) => handle([n, n])));
  assert.deepEqual(failures, []);
  assert.deepEqual(sent, [[3, "y3"], 2, [1, "y1"], [0, "y0"]]);
});

Deno.test("A stage refuses a second message for one message, naming the actor, the number and the fix, and fails the actor even if the error is caught", async () => {
  const { order, sent, inlet, failures } = await stage(1);
  const handle = order.handler!(inlet, async () => {
    await order.send("a");
    await order.send("b").catch(() => {});
  });
  await assert.rejects(
    async () => await handle([7, { id: 7 }]),
    Error,
    "Cannot keep the results in order: Stage-1 sent a second message for message #7 (counting from 0 in the order the first group sent; { id: 7 }); with results({ ordered: true }) every actor after the first group sends one message per message it receives (a map) or none (a filter); send what belongs together as one message (an array, for example), or read the results unordered",
  );
  assert.equal(failures.length, 1);
  assert.deepEqual(sent, [[7, "a"]]);
  assert.deepEqual(inlet.current, { id: 7 }, "errors show the message");
});

Deno.test("A stage refuses a message sent outside recv(): before any, or after its recv() returned", async () => {
  const { order, inlet, failures } = await stage(1);
  assert.throws(
    () => order.send("early"),
    Error,
    "Cannot keep the results in order: Stage-1 sent a message outside recv() (from startup(), shutdown(), or a callback that ran after its recv() returned)",
  );
  let late: (() => unknown) | undefined;
  const handle = order.handler!(inlet, () => {
    late = () => order.send("late");
  });
  await handle([0, 0]);
  assert.throws(() => late!(), Error, "sent a message outside recv()");
  assert.equal(failures.length, 2);
});

Deno.test("With concurrency, a send from a call that already ended is refused too", async () => {
  const { order, inlet, failures } = await stage(4);
  let late: (() => unknown) | undefined;
  const handle = order.handler!(inlet, () => {
    late = () => order.send("late");
  });
  await handle([0, 0]);
  assert.throws(() => late!(), Error, "sent a message outside recv()");
  assert.equal(failures.length, 1);
});

Deno.test("around() numbers each message for a handler of its own that keeps several in flight (as a group's concurrency does)", async () => {
  const { order, sent, failures } = await stage(4);
  const recv = async (x: unknown) => {
    const n = x as number;
    await tick(3 * (3 - n));
    if (n !== 1) await order.send(`y${n}`);
  };
  // Such a handler starts each message's handling and returns at once,
  // before it ended: ordering wraps each message's handling inside it.
  const inFlight: Promise<unknown>[] = [];
  const handle = (envelope: unknown) => {
    inFlight.push(Promise.resolve(order.around!(envelope, recv)));
    return undefined;
  };
  for (const n of [0, 1, 2, 3]) handle([n, n]);
  await Promise.all(inFlight);
  assert.deepEqual(failures, []);
  assert.deepEqual(sent, [[3, "y3"], [2, "y2"], 1, [0, "y0"]]);
});
