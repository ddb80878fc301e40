/**
 * The per-message cost of each step of a link, in one thread: a source's
 * `await send()`, the wire's structured clone and port, an inlet handing
 * messages to a sink, and a middle stage's `recv()` in its two forms. Each
 * figure is the best of 7 repetitions of a million messages, in ns per
 * message, so it shows what the code costs, not what the cores were doing.
 *
 *     deno run -R=. bench/steps.ts
 *
 * @module
 */

import { Inlet } from "../src/link/inlet.ts";
import { Outlet, RESOLVED } from "../src/link/outlet.ts";
import {
  createCells,
  SharedReceiverCredit,
  SharedSenderCredit,
} from "../src/link/port/credit.ts";
import type { Wire, WireItem } from "../src/link/transport.ts";

const N = 1_000_000;
const REPS = 7;

async function best(name: string, fn: () => Promise<void> | void) {
  let min = Infinity;
  for (let r = 0; r < REPS; r++) {
    const started = performance.now();
    await fn();
    min = Math.min(min, performance.now() - started);
  }
  console.log(`| ${name} | ${(min / N * 1e6).toFixed(1)} |`);
}

/** A wire that drops what it is given: the outlet's own cost alone. */
const nowhere: Wire = { post() {}, listen() {}, close() {} };

function outlet(): Outlet {
  // Credit enough for every message: nothing waits.
  const cells = createCells(2 ** 30, 1);
  return new Outlet([nowhere], new SharedSenderCredit(cells, 512), (e) => {
    throw e;
  }, { maxsize: 1024 });
}

/** Runs an inlet over batches of 512 numbers, `handle` on each. */
async function inlet(handle: (m: unknown) => unknown): Promise<void> {
  let deliver: (item: WireItem) => void = () => {};
  const wire: Wire = {
    post() {},
    listen: (d) => void (deliver = d),
    close() {},
  };
  const cells = createCells(2 ** 30, 1);
  const inlet = new Inlet([wire], new SharedReceiverCredit(cells, 0, 1024));
  const batch = Array.from({ length: 512 }, (_, i) => i);
  for (let i = 0; i < N / 512; i++) deliver(batch);
  deliver(0);
  await inlet.run(handle, () => {});
}

console.log("| step | ns per message |");
console.log("| --- | --- |");
const settled = () => RESOLVED;
await best("source: `await` of a settled promise", async () => {
  for (let i = 0; i < N; i++) await settled();
});
{
  const out = outlet();
  await best("source: `await outlet.send(i)` (no clone, no post)", async () => {
    for (let i = 0; i < N; i++) await out.send(i);
    out.flush();
  });
  out.abort(new Error("done"));
}
{
  const b512 = Array.from({ length: 512 }, (_, i) => i);
  const b64 = b512.slice(0, 64);
  await best("wire: `structuredClone` of 512 numbers", () => {
    for (let i = 0; i < N / 512; i++) structuredClone(b512);
  });
  await best("wire: `structuredClone` of 64 numbers", () => {
    for (let i = 0; i < N / 64; i++) structuredClone(b64);
  });
  for (const batch of [b512, b64]) {
    const { port1, port2 } = new MessageChannel();
    let got = 0;
    let done = () => {};
    port2.onmessage = (event) => {
      got += (event.data as unknown[]).length;
      if (got >= N) done();
    };
    await best(
      `wire: a \`MessageChannel\` in one thread, ${batch.length} per post`,
      async () => {
        got = 0;
        const all = new Promise<void>((resolve) => (done = resolve));
        for (let i = 0; i < N / batch.length; i++) port1.postMessage(batch);
        await all;
      },
    );
    port1.close();
    port2.close();
  }
}
let count = 0;
await best(
  "sink: the inlet hands each to a synchronous `recv()`",
  () =>
    inlet(() => {
      count++;
    }),
);
{
  const out = outlet();
  const send = (m: unknown) => out.send(m);
  await best(
    "middle: `async recv(m) { await this.send(m); }`",
    () =>
      inlet(async (m) => {
        await send(m);
      }),
  );
  await best(
    "middle: `recv(m) { return this.send(m); }`",
    () => inlet((m) => send(m)),
  );
  out.abort(new Error("done"));
}
