/**
 * The count of handled messages across processes with several calls in
 * flight (`src/worker/handled_prefix.ts`): only the settled prefix, in
 * delivery order; each call reads its own message's deliveries.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  prefixAround,
  SettledPrefix,
} from "../../src/worker/handled_prefix.ts";

Deno.test("SettledPrefix grows only past calls settled in the order they started", () => {
  let counted = 0;
  const prefix = new SettledPrefix(() => counted++);
  const [a, b, c, d] = [0, 1, 2, 3].map(() => prefix.start());
  prefix.settle(c);
  prefix.settle(b);
  assert.equal(counted, 0, "the oldest call is still in flight");
  assert.equal(prefix.open, 4);
  prefix.settle(a);
  assert.equal(counted, 3, "a, then b and c, which had settled");
  prefix.settle(d);
  assert.equal(counted, 4);
  assert.equal(prefix.open, 0);
});

Deno.test("prefixAround counts a call once it settled, and never one that rejected", async () => {
  let counted = 0;
  const wrap = prefixAround(() => counted++, "mark", undefined);
  const gates = [0, 1, 2].map(() => Promise.withResolvers<void>());
  const handled = gates.map((g, i) =>
    wrap.around(i, () => g.promise) as Promise<unknown>
  );
  gates[2].resolve();
  gates[1].resolve();
  await handled[2];
  assert.equal(counted, 0);
  gates[0].reject(new Error("failed"));
  await assert.rejects(handled[0], /failed/);
  assert.equal(counted, 0, "a rejected call holds the prefix back");
});

Deno.test("prefixAround unwraps a redelivered message and each call reads its own deliveries across its awaits", async () => {
  const wrap = prefixAround(() => {}, "mark", undefined);
  const seen: [unknown, number][] = [];
  const handle = async (message: unknown) => {
    const before = wrap.before();
    await new Promise((resolve) => setTimeout(resolve, 1));
    seen.push([message, wrap.before()]);
    assert.equal(wrap.before(), before, "unchanged by the other call");
  };
  await Promise.all([
    wrap.around({ mark: 3, m: "again" }, handle),
    wrap.around("first", handle),
  ]);
  assert.deepEqual(seen.sort(), [["again", 2], ["first", 0]]);
  assert.equal(wrap.before(), 0, "outside any call");
});
