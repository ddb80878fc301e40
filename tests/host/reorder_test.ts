/**
 * The main thread's reorder buffer of ordered results
 * (`src/host/reorder.ts`), in one thread: any arrival order, markers,
 * repeats, and what it releases to the origin.
 *
 * @module
 */

import assert from "node:assert/strict";
// Named here, not in deno.json: the import map is the package's, and this
// one is for tests and benchmarks only.
// deno-lint-ignore no-import-prefix
import fc from "npm:fast-check@^4.10.2";
import { createWindowCell, type Envelope } from "../../src/common/order.ts";
import { Reorder } from "../../src/host/reorder.ts";

Deno.test("The reorder buffer yields in number order whatever the arrival order, drops markers and repeats, and releases as it goes", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 60 }).chain((count) =>
        fc.tuple(
          fc.shuffledSubarray(Array.from({ length: count }, (_, n) => n), {
            minLength: count,
            maxLength: count,
          }),
          fc.array(fc.boolean(), { minLength: count, maxLength: count }),
          fc.array(fc.nat(count), { maxLength: 5 }),
        )
      ),
      ([arrivals, dropped, repeats]) => {
        const count = arrivals.length;
        const cell = createWindowCell();
        // A window smaller than how far ahead messages come (the origin
        // would never): the ring grows past its first size instead.
        const reorder = new Reorder(cell, 1 + (count % 5));
        const envelope = (n: number): Envelope => dropped[n] ? n : [n, `v${n}`];
        const out: unknown[] = [];
        const drain = () => {
          while (reorder.ready) out.push(reorder.take());
        };
        for (const n of arrivals) {
          reorder.put(envelope(n));
          // A repeat of something already here or already gone is dropped.
          for (const r of repeats) {
            if (r < count && r <= n) reorder.put(envelope(r));
          }
          drain();
        }
        const want = Array.from({ length: count }, (_, n) => n)
          .filter((n) => !dropped[n]).map((n) => `v${n}`);
        assert.deepEqual(out, want);
        assert.equal(reorder.leftover(), undefined);
        const m = reorder.metrics();
        assert.equal(m.released, count);
        assert.equal(m.held, 0);
        assert.equal(new Int32Array(cell)[0], count);
        assert.ok(m.peakHeld <= count);
      },
    ),
  );
});

Deno.test("The reorder buffer holds what is ahead of a missing message and says so at the end", () => {
  const reorder = new Reorder(createWindowCell(), 8);
  reorder.put([1, "b"]);
  reorder.put(2);
  reorder.put([3, "d"]);
  assert.equal(reorder.ready, false);
  assert.equal(reorder.metrics().held, 3);
  assert.match(
    reorder.leftover()!.message,
    /^Cannot yield the results in order: the run ended with message #0 missing and 3 later ones held/,
  );
  reorder.put([0, "a"]);
  const out = [];
  while (reorder.ready) out.push(reorder.take());
  assert.deepEqual(out, ["a", "b", "d"]);
  assert.equal(reorder.metrics().peakHeld, 4);
  assert.equal(reorder.leftover(), undefined);
});

Deno.test("The reorder buffer grows past its first size and keeps every held message in place", () => {
  const reorder = new Reorder(createWindowCell(), 5000);
  // Message 0 comes last: 2999 wait for it, beyond the first 1024 places.
  for (let n = 2999; n >= 1; n--) reorder.put(n % 7 === 0 ? n : [n, n]);
  assert.equal(reorder.ready, false);
  assert.equal(reorder.metrics().held, 2999);
  reorder.put([0, 0]);
  const out: unknown[] = [];
  while (reorder.ready) out.push(reorder.take());
  assert.deepEqual(
    out,
    Array.from({ length: 3000 }, (_, n) => n).filter((n) =>
      n === 0 || n % 7 !== 0
    ),
  );
  assert.equal(reorder.metrics().released, 3000);
  assert.equal(reorder.metrics().peakHeld, 3000);
  reorder.put([5, 5]);
  assert.equal(reorder.metrics().duplicates, 1);
});
