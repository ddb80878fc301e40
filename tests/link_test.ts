import assert from "node:assert/strict";
import { createCells, ReceiverCredit, SenderCredit } from "../src/credit.ts";
import { Inlet, Outlet } from "../src/link.ts";

Deno.test("Outlet.close() sends its pills only after the sends still waiting for credit", async () => {
  const channel = new MessageChannel();
  try {
    const cells = createCells(1, 1);
    const outlet = new Outlet(
      [channel.port1],
      new SenderCredit(cells, 1),
      (error) => {
        throw error;
      },
    );
    const inlet = new Inlet([channel.port2], new ReceiverCredit(cells, 0, 1));
    // Not awaited: with one credit, four of these wait when close() is called.
    const sends = [0, 1, 2, 3, 4].map((n) => outlet.send(n));
    assert.equal(outlet.waiting, 4);
    outlet.close();
    const got: unknown[] = [];
    let pills = 0;
    await inlet.run(
      (message) => void got.push(message),
      (received) => (pills = received),
    );
    await Promise.all(sends);
    assert.deepEqual(
      got,
      [0, 1, 2, 3, 4],
      "every send was delivered, in order",
    );
    assert.equal(pills, 1);
    await assert.rejects(outlet.send(5), /already sent its poison pills/);
  } finally {
    channel.port1.close();
    channel.port2.close();
  }
});
