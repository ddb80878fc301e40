import assert from "node:assert/strict";
import { group, input, Relay, RelayError } from "../mod.ts";
import { Proxy, Source, Tally } from "./fixtures/actors.ts";
import { Count, Double, FailOn, Reporter, Upper } from "./fixtures/stages.ts";
import { leakChecked } from "./_harness.ts";

/** Rejects after `ms` with `what`: a guard against hangs, not a synchroniser. */
function guard<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const watchdog = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${what} did not settle within ${ms} ms`)),
      ms,
    );
  });
  return Promise.race([promise, watchdog]).finally(() => clearTimeout(timer));
}

Deno.test("Relay.results() yields everything the last group sends, in per-link order", () =>
  leakChecked(async () => {
    const relay = new Relay({ maxsize: 8 });
    relay.connect(Object.assign(new Count(), { count: 5000 }), new Double());
    const got: number[] = [];
    await guard(
      (async () => {
        for await (const x of relay.results<number>()) got.push(x);
      })(),
      20_000,
      "reading results",
    );
    assert.deepEqual(got, Array.from({ length: 5000 }, (_, i) => 2 * i));
  }));

Deno.test("Relay.results() keeps the pipeline bounded when the reader is slow", () =>
  leakChecked(async () => {
    const maxsize = 4;
    const relay = new Relay({ maxsize });
    relay.connect(Object.assign(new Count(), { count: 400 }), new Double());
    let most = 0;
    let n = 0;
    await guard(
      (async () => {
        for await (const _ of relay.results<number>()) {
          // Read slowly: one message per turn of the event loop.
          await new Promise((resolve) => setTimeout(resolve, 0));
          const metrics = relay.metrics()!;
          const inFlight = metrics.edges.reduce(
            (sum, e) => sum + e.inFlight,
            0,
          );
          most = Math.max(most, inFlight);
          n++;
        }
      })(),
      30_000,
      "reading results slowly",
    );
    assert.equal(n, 400);
    // Two edges of maxsize 4, plus one message the reader holds.
    assert.ok(most <= 2 * maxsize, `in flight stayed bounded: ${most}`);
    assert.ok(most > 0, "metrics saw messages in flight");
  }));

Deno.test("Relay.start({ input }) feeds the first group from an async iterable", () =>
  leakChecked(async () => {
    async function* numbers() {
      for (let i = 0; i < 1000; i++) yield i;
    }
    const relay = new Relay({ maxsize: 16 });
    relay.connect(input<number>(), [new Double(), new Double()]);
    const results = relay.results<number>();
    const done = relay.start({ input: numbers() });
    const got: number[] = [];
    for await (const x of results) got.push(x);
    const summary = await guard(done, 20_000, "start()");
    assert.deepEqual(
      got.sort((a, b) => a - b),
      Array.from({ length: 1000 }, (_, i) => 2 * i),
    );
    assert.equal(summary.groups[0].received, 1000);
  }));

Deno.test("Relay.stream() carries a ReadableStream of lines through worker stages", () =>
  leakChecked(async () => {
    const lines = ["alpha", "beta", "gamma", "delta"];
    const relay = new Relay();
    relay.connect(input<string>(), new Upper());
    const out: string[] = [];
    await guard(
      ReadableStream.from(lines).pipeThrough(relay.stream<string, string>())
        .pipeTo(
          new WritableStream({ write: (line) => void out.push(line) }),
        ),
      20_000,
      "the stream",
    );
    assert.deepEqual(out, ["ALPHA", "BETA", "GAMMA", "DELTA"]);
  }));

Deno.test("An error in a middle stage rejects the results reader", () =>
  leakChecked(async () => {
    const relay = new Relay({ maxsize: 4 });
    relay.connect(
      Object.assign(new Count(), { count: 100 }),
      Object.assign(new FailOn(), { failOn: 50 }),
      new Double(),
    );
    await assert.rejects(
      guard(
        (async () => {
          for await (const _ of relay.results<number>()) { /* drain */ }
        })(),
        20_000,
        "reading results",
      ),
      (error: RelayError) => {
        assert.ok(error instanceof RelayError);
        assert.equal(error.phase, "recv");
        assert.equal(error.summary, "50");
        return true;
      },
    );
  }));

Deno.test("Relay metrics add up: received at a group equals sent by the group before it", () =>
  leakChecked(async () => {
    const relay = new Relay({ maxsize: 8 });
    relay.connect(
      {
        prod: [
          Object.assign(new Source(), { count: 300 }),
          Object.assign(new Source(), { count: 200 }),
        ],
        prep: [new Proxy(), new Proxy(), new Proxy()],
        post: group(new Proxy(), { maxsize: 2 }),
        cons: new Proxy(),
      },
    );
    const results = relay.results();
    const done = relay.start();
    let n = 0;
    for await (const _ of results) n++;
    const summary = await guard(done, 20_000, "start()");
    assert.equal(n, 500);
    assert.deepEqual(summary.groups.map((g) => [g.name, g.received, g.sent]), [
      ["prod", 0, 500],
      ["prep", 500, 500],
      ["post", 500, 500],
      ["cons", 500, 500],
    ]);
    // When the workers are done, the edges between them are empty; the last
    // one may still hold what the main thread had not read yet.
    assert.deepEqual(
      summary.edges.slice(0, 3).map((e) => [e.from, e.to, e.inFlight]),
      [
        ["prod", "prep", 0],
        ["prep", "post", 0],
        ["post", "cons", 0],
      ],
    );
    const last = summary.edges[3];
    assert.deepEqual([last.from, last.to], ["cons", "results"]);
    assert.ok(last.inFlight >= 0 && last.inFlight <= last.maxsize);
    // Once everything was read, nothing is in flight anywhere.
    assert.deepEqual(relay.metrics()!.edges.map((e) => e.inFlight), [
      0,
      0,
      0,
      0,
    ]);
    assert.ok(summary.groups.every((g) => g.errors === 0));
  }));

Deno.test("Relay.reports() sees every report and ends by itself", () =>
  leakChecked(async () => {
    const relay = new Relay();
    const reporters = [
      Object.assign(new Reporter(), { every: 1 }),
      Object.assign(new Reporter(), { every: 1 }),
    ];
    relay.connect(
      Object.assign(new Source(), { count: 200 }),
      group(reporters, { maxsize: 4 }),
      new Tally(),
    );
    const reports = relay.reports<{ handled: number }>();
    const done = relay.start();
    const seen = new Map<string, number[]>();
    // Ends by itself when the relay settles: no break, no close.
    for await (const report of reports) {
      assert.equal(report.group, "group-1");
      seen.set(report.actor, [
        ...(seen.get(report.actor) ?? []),
        report.value.handled,
      ]);
    }
    await guard(done, 20_000, "start()");
    let total = 0;
    for (const [actor, handled] of seen) {
      assert.ok(reporters.some((r) => r.name === actor));
      assert.deepEqual(
        handled,
        handled.map((_, i) => i + 1),
        `${actor}'s reports in order`,
      );
      total += handled.length;
    }
    assert.equal(total, 200, "one report per item");
  }));

Deno.test("Relay.start({ input }) reads a ReadableStream, and watch() yields metrics until the relay settles", () =>
  leakChecked(async () => {
    const relay = new Relay({ maxsize: 4 });
    relay.connect(input<number>(), new Double(), new Double());
    const results = relay.results<number>();
    const done = relay.start({
      input: ReadableStream.from(Array.from({ length: 300 }, (_, i) => i)),
    });
    const snapshots: number[] = [];
    const watching = (async () => {
      for await (const m of relay.watch(5)) {
        snapshots.push(m.groups[1].received);
      }
    })();
    let sum = 0;
    for await (const x of results) sum += x;
    const summary = await guard(done, 20_000, "start()");
    await guard(watching, 5_000, "watch()");
    assert.equal(sum, 4 * (299 * 300) / 2, "every number, doubled twice");
    assert.ok(snapshots.length >= 1, "at least the last snapshot");
    assert.equal(snapshots.at(-1), 300, "the last snapshot is the final state");
    assert.deepEqual(
      snapshots,
      [...snapshots].sort((a, b) => a - b),
      "counts only grow",
    );
    assert.equal(summary.groups[1].received, 300);
  }));
