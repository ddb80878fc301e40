import assert from "node:assert/strict";
import { group, Relay } from "../mod.ts";
import { Proxy, Source, Tally } from "./fixtures/actors.ts";
import { captureLogs, leakChecked, MODES, startWithin } from "./_harness.ts";

interface Totals {
  count: number;
  sum: number;
  duplicates: number;
  disorders: number;
  keys: string[];
  sinks: number;
}

/** Adds up the `tally` records of every sink. */
function totals(
  records: {
    message: readonly unknown[];
    properties: Record<string, unknown>;
  }[],
): Totals {
  const t: Totals = {
    count: 0,
    sum: 0,
    duplicates: 0,
    disorders: 0,
    keys: [],
    sinks: 0,
  };
  for (const r of records) {
    if (r.message[0] !== "tally") continue;
    const p = r.properties as unknown as Totals;
    t.count += p.count;
    t.sum += p.sum;
    t.duplicates += p.duplicates;
    t.disorders += p.disorders;
    t.keys.push(...p.keys);
    t.sinks++;
  }
  return t;
}

function sources(n: number, count: number): Source[] {
  return Array.from(
    { length: n },
    () => Object.assign(new Source(), { count }),
  );
}

function proxies(n: number): Proxy[] {
  return Array.from({ length: n }, () => new Proxy());
}

function tallies(n: number, fifo: boolean): Tally[] {
  return Array.from({ length: n }, () => Object.assign(new Tally(), { fifo }));
}

/**
 * Runs `shape` (group sizes) with `count` items per source, in workers or
 * inline; checks delivery.
 */
async function runShape(
  shape: number[],
  count: number,
  inline = false,
): Promise<void> {
  await using logs = await captureLogs(["test"]);
  const [first, ...rest] = shape;
  const middle = rest.slice(0, -1);
  const last = rest[rest.length - 1];
  const srcs = sources(first, count);
  const relay = new Relay({ logger: "test", maxsize: 16, inline });
  // FIFO per sender→receiver pair holds end to end only without proxies.
  relay.connect(
    srcs,
    ...middle.map(proxies),
    tallies(last, middle.length === 0),
  );
  await startWithin(relay, 30_000);
  const t = totals(logs.records);
  const sent = first * count;
  assert.equal(t.sinks, last, "every sink reported");
  assert.equal(t.count, sent, "received == sent");
  assert.equal(t.sum, first * (count * (count - 1)) / 2, "checksum of seq");
  assert.equal(t.duplicates, 0);
  assert.equal(t.disorders, 0, "FIFO per sender→receiver pair");
  if (t.keys.length > 0) {
    const expected = srcs.flatMap((s) =>
      Array.from({ length: count }, (_, i) => `${s.name}:${i}`)
    );
    assert.deepEqual(t.keys.sort(), expected.sort(), "each item exactly once");
  }
}

Deno.test("Relay delivers every message exactly once in every topology", async (t) => {
  const shapes: [string, number[]][] = [
    ["1-1", [1, 1]],
    ["1-n", [1, 4]],
    ["n-1", [3, 1]],
    ["n-m", [2, 3]],
    ["1-n-1", [1, 3, 1]],
    ["1-n-m-1", [1, 2, 3, 1]],
    ["3-10-5-1", [3, 10, 5, 1]],
  ];
  for (const [mode, inline] of MODES) {
    for (const [name, shape] of shapes) {
      await t.step(
        `${name} with 2000 messages per source (${mode})`,
        () => leakChecked(() => runShape(shape, 2000, inline)),
      );
    }
  }
});

Deno.test("Relay never hangs on n-m edges (2→2, 3→5, 2→3→2, repeated)", async (t) => {
  // `deno task test:heavy` passes --nm-runs=100 (docs/faults.md F22).
  const arg = Deno.args.findLast((a) => a.startsWith("--nm-runs="));
  const runs = arg === undefined ? 10 : Number(arg.slice("--nm-runs=".length));
  for (const shape of [[2, 2], [3, 5], [2, 3, 2]]) {
    await t.step(`${shape.join("→")} × ${runs}`, () =>
      leakChecked(async () => {
        for (let i = 0; i < runs; i++) await runShape(shape, 50);
      }));
  }
});

Deno.test("Relay shares work: a 1 → 4 fan-out gives every receiver messages", () =>
  leakChecked(async () => {
    await using logs = await captureLogs(["test"]);
    const relay = new Relay({ logger: "test" });
    relay.connect(sources(1, 400), group(tallies(4, true), { maxsize: 8 }));
    await startWithin(relay, 30_000);
    const counts = logs.records.filter((r) => r.message[0] === "tally").map((
      r,
    ) => r.properties.count as number);
    assert.equal(counts.length, 4);
    for (const c of counts) {
      assert.ok(c > 0, `every receiver got work: ${counts}`);
    }
  }));
