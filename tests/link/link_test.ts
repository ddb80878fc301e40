import assert from "node:assert/strict";
import {
  createCells,
  SharedReceiverCredit,
  SharedSenderCredit,
} from "../../src/link/port/credit.ts";
import { portWire } from "../../src/link/port/transport.ts";
import { Inlet } from "../../src/link/inlet.ts";
import { Outlet } from "../../src/link/outlet.ts";
import type { Wire, WireItem } from "../../src/link/transport.ts";

Deno.test("Outlet.close() sends its pills only after the sends still waiting for credit", async () => {
  const channel = new MessageChannel();
  try {
    const cells = createCells(1, 1);
    const outlet = new Outlet(
      [portWire(channel.port1)],
      new SharedSenderCredit(cells, 1),
      (error) => {
        throw error;
      },
    );
    const inlet = new Inlet(
      [portWire(channel.port2)],
      new SharedReceiverCredit(cells, 0, 1),
    );
    // Not awaited: with one credit, four of these wait when close() is called.
    const sends = [0, 1, 2, 3, 4].map((n) => outlet.send(n));
    assert.equal(outlet.waiting, 4);
    let sealed = false;
    const closed = outlet.close().then(() => (sealed = true));
    assert.equal(outlet.close(), outlet.close(), "one promise for every call");
    await Promise.resolve();
    assert.equal(sealed, false, "the pills wait for the waiting sends");
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
    await closed;
    assert.equal(sealed, true);
    await assert.rejects(outlet.send(5), /already sent its poison pills/);
  } finally {
    channel.port1.close();
    channel.port2.close();
  }
});

Deno.test("Outlet.close() rejects when the outlet is aborted before its pills went out", async () => {
  const channel = new MessageChannel();
  try {
    const outlet = new Outlet(
      [portWire(channel.port1)],
      new SharedSenderCredit(createCells(1, 1), 1),
      (error) => {
        throw error;
      },
    );
    const sends = [0, 1, 2].map((n) => outlet.send(n));
    assert.equal(outlet.waiting, 2);
    const closed = outlet.close();
    const reason = new Error("stopped");
    outlet.abort(reason);
    await assert.rejects(closed, (error) => error === reason);
    await sends[0];
    for (const send of sends.slice(1)) {
      await assert.rejects(send, (error) => error === reason);
    }
    await assert.rejects(outlet.close(), (error) => error === reason);
  } finally {
    channel.port1.close();
    channel.port2.close();
  }
});

Deno.test("Outlet posts what one task sends as one batch, once the task is over", async () => {
  const posts: WireItem[] = [];
  const posted = Promise.withResolvers<void>();
  const wire: Wire = {
    post: (item) => {
      posts.push(item);
      posted.resolve();
    },
    listen: () => {},
    close: () => {},
  };
  const outlet = new Outlet(
    [wire],
    new SharedSenderCredit(createCells(64, 1), 32),
    (error) => {
      throw error;
    },
  );
  try {
    for (let n = 0; n < 5; n++) outlet.send(n);
    // Sends that had room resolve at once: awaiting them stays in the task.
    for (let n = 5; n < 10; n++) await outlet.send(n);
    assert.deepEqual(posts, [], "nothing posted while the task runs");
    await posted.promise;
    assert.deepEqual(posts, [[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]]);
  } finally {
    outlet.abort(new Error("test over"));
  }
});

Deno.test("An outlet closed or aborted leaves nothing that keeps its thread alive", async () => {
  const fixture = new URL("../fixtures/outlet_exit.ts", import.meta.url);
  for (const how of ["close", "abort"]) {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", fixture.pathname, how],
      stdout: "piped",
      stderr: "piped",
      // A guard: the process ends by itself, or it is killed and fails.
      signal: AbortSignal.timeout(10_000),
    }).output();
    const stderr = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 0, `${how}: ${stderr}`);
    assert.equal(new TextDecoder().decode(out.stdout), "done\n");
  }
});
