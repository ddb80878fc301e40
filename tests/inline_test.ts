/**
 * Inline mode (`new Relay({ inline: true })`): every actor runs in the
 * calling thread, with the semantics of workers. Most tests run the same
 * pipeline in both modes and compare; the rest check what only inline mode
 * does (classes that are not exported, no thread at all). The topology
 * table runs in both modes in `topology_test.ts`, the faults in
 * `inline_faults_test.ts`.
 *
 * @module
 */

import assert from "node:assert/strict";
import { Actor, group, input, Relay, RelayAbortError } from "../mod.ts";
import { AddTen, Consumer, Producer } from "../examples/actors.ts";
import {
  Consumer as OwnConsumer,
  Producer as OwnProducer,
} from "../examples/one_to_one.ts";
import { Source, Tally } from "./fixtures/actors.ts";
import { Counter, Faulty, Sink, Watcher } from "./fixtures/faults.ts";
import {
  type Gate,
  Gated,
  gates,
  Mutator,
  Paced,
  Secretive,
} from "./fixtures/inline.ts";
import { Count, Double, Reporter, Upper } from "./fixtures/stages.ts";
import {
  captureLogs,
  leakChecked,
  MODES,
  startWithin,
  threads,
} from "./_harness.ts";
import { make, rejectionOf, watchLogs } from "./_faults.ts";

type AnyActor = Actor<unknown, unknown>;

/** `connect()` with groups built at run time (the chain is typed elsewhere). */
function connect(relay: Relay, groups: readonly AnyActor[][]): void {
  (relay as unknown as { connect(...g: unknown[]): Relay }).connect(
    ...groups,
  );
}

/** The examples' sleep per message, shortened: the order does not change. */
const MS = 20;
const consumer = () => make(Consumer, { ms: MS });
const worker = () => make(AddTen, { ms: MS });

/** The notebook's cells: the examples' actors, topologies and maxsize. */
const CELLS: [string, number | undefined, () => AnyActor[][]][] = [
  ["one_to_one", undefined, () => [
    [new OwnProducer()],
    [make(OwnConsumer, { ms: MS })],
  ]],
  ["one_to_many", undefined, () => [
    [new Producer()],
    Array.from({ length: 5 }, consumer),
  ]],
  ["many_to_one", undefined, () => [
    Array.from({ length: 3 }, () => new Producer()),
    [consumer()],
  ]],
  ["one_to_many_to_one", 2, () => [
    [new Producer()],
    [worker(), worker()],
    [consumer()],
  ]],
  ["one_to_n_to_m_to_one", 2, () => [
    [new Producer()],
    [worker(), worker()],
    [worker(), worker(), worker()],
    [consumer()],
  ]],
];

/** What the runtime logs for an actor with `upstream` senders, in order. */
function hooks(upstream: number): string[] {
  const pills = Array.from(
    { length: upstream },
    (_, k) => `received ${k + 1}/${upstream} poison pills`,
  );
  return ["starting up", "running loop", ...pills, "leaving loop"]
    .concat("shutting down", "shut down complete");
}

Deno.test("The notebook's cells give the same poison pill lines and hook order inline as in workers", () =>
  leakChecked(async () => {
    await using logs = await captureLogs(["cell"]);
    // Every cell in both modes at once: the cells sleep, they do not compute.
    const runs = CELLS.flatMap(([cell, maxsize, build]) =>
      MODES.map(([mode, inline]) => {
        const groups = build();
        const relay = new Relay({
          maxsize,
          inline,
          logger: ["cell", cell, mode],
        });
        connect(relay, groups);
        return { cell, mode, groups, done: startWithin(relay, 30_000) };
      })
    );
    await Promise.all(runs.map((r) => r.done));
    const seen = new Map<string, string[][]>();
    for (const { cell, mode, groups } of runs) {
      const lines = groups.map((actors, g) =>
        actors.map((actor) => {
          const mine = logs.records.filter((r) =>
            r.category[1] === cell && r.category[2] === mode &&
            r.properties.actor === actor.name
          );
          for (const r of mine) {
            assert.deepEqual(r.category.slice(3), [
              "lifecycle",
              `group-${g}`,
              actor.name,
            ], "baton's lines have their own category");
          }
          const text = mine.map((r) => r.message.join(""));
          const upstream = g === 0 ? 0 : groups[g - 1].length;
          assert.deepEqual(text, hooks(upstream), `${cell} ${mode}`);
          return text;
        })
      ).flat();
      seen.set(`${cell} ${mode}`, lines);
    }
    for (const [cell] of CELLS) {
      assert.deepEqual(seen.get(`${cell} inline`), seen.get(`${cell} workers`));
    }
  }));

Deno.test("Backpressure holds inline as in workers: a slow sink with maxsize 4 never has more than 4 in flight", async (t) => {
  for (const [mode, inline] of MODES) {
    await t.step(mode, () =>
      leakChecked(async () => {
        const relay = new Relay({ maxsize: 4, inline });
        relay.connect(make(Counter, { count: 100 }), new Paced());
        const reports = relay.reports<number>();
        const done = relay.start();
        let most = 0;
        let count = 0;
        for await (const { value } of reports) {
          const [edge] = relay.metrics()!.edges;
          most = Math.max(most, edge.inFlight);
          count = value;
        }
        const summary = await done;
        assert.equal(count, 100, "the sink reported every message");
        assert.ok(most <= 4, `at most 4 in flight: ${most}`);
        assert.ok(most > 0, "the metrics saw messages in flight");
        assert.ok(summary.groups[0].waitedMs > 0, "the source waited");
      }));
  }
});

Deno.test("A class defined in a test function runs inline; workers refuse it, saying to export it", async () => {
  class Local extends Actor<never, number> {
    count = 5;
    override async loop(): Promise<void> {
      for (let i = 0; i < this.count; i++) await this.send(i);
    }
  }
  const inline = new Relay({ inline: true });
  inline.connect(new Local(), new Double());
  const got: number[] = [];
  for await (const x of inline.results<number>()) got.push(x);
  assert.deepEqual(got, [0, 2, 4, 6, 8]);

  await leakChecked(async () => {
    const workers = new Relay();
    workers.connect(new Local(), new Double());
    const { error } = await rejectionOf(workers);
    assert.match(
      (error as Error).message,
      /class Local is not exported by file:\/\/\/.*inline_test\.ts; workers import the class from its module: add `export` to its declaration/,
    );
  });
});

Deno.test("State is copied inline as into a worker: the actor's copy changes, the main thread's instance does not", async (t) => {
  for (const [mode, inline] of MODES) {
    await t.step(mode, () =>
      leakChecked(async () => {
        const mutator = new Mutator();
        const relay = new Relay({ inline });
        relay.connect(mutator, new Sink());
        const reports = relay.reports();
        await startWithin(relay, 10_000);
        const seen = [];
        for await (const report of reports) seen.push(report.value);
        assert.deepEqual(seen, [{ n: 2, pointIsPlain: true }]);
        assert.equal(
          mutator.box.n,
          1,
          "the main thread's instance is as it was",
        );
        assert.equal(
          Atomics.load(new Int32Array(mutator.shared), 0),
          1,
          "shared memory stays shared",
        );
      }));
  }
});

Deno.test("Inline mode refuses #private members as workers do", async () => {
  for (const [, inline] of MODES) {
    const relay = new Relay({ inline });
    relay.connect(new Secretive(), new Sink());
    await assert.rejects(
      relay.start(),
      TypeError,
      "class Secretive declares #secret",
    );
  }
});

Deno.test("results(), reports(), input() and stream() work inline", async (t) => {
  await t.step("results()", async () => {
    const relay = new Relay({ inline: true, maxsize: 8 });
    relay.connect(make(Count, { count: 1000 }), [new Double(), new Double()]);
    const got: number[] = [];
    for await (const x of relay.results<number>()) got.push(x);
    got.sort((a, b) => a - b);
    assert.deepEqual(got, Array.from({ length: 1000 }, (_, i) => 2 * i));
  });
  await t.step("reports()", async () => {
    const relay = new Relay({ inline: true });
    const reporters = [
      make(Reporter, { every: 1 }),
      make(Reporter, { every: 1 }),
    ];
    relay.connect(
      make(Source, { count: 200 }),
      group(reporters, { maxsize: 4 }),
      new Tally(),
    );
    const reports = relay.reports<{ handled: number }>();
    const done = relay.start();
    let total = 0;
    for await (const report of reports) {
      assert.ok(reporters.some((r) => r.name === report.actor));
      assert.equal(report.group, "group-1");
      total++;
    }
    const summary = await done;
    assert.equal(total, 200);
    assert.deepEqual(summary.groups.map((g) => g.received), [0, 200, 200]);
  });
  await t.step("input()", async () => {
    const relay = new Relay({ inline: true, maxsize: 4 });
    relay.connect(input<number>(), new Double(), new Double());
    const results = relay.results<number>();
    const done = relay.start({
      input: ReadableStream.from(Array.from({ length: 300 }, (_, i) => i)),
    });
    let sum = 0;
    for await (const x of results) sum += x;
    assert.equal(sum, 4 * (299 * 300) / 2);
    assert.equal((await done).groups[1].received, 300);
  });
  await t.step("stream()", async () => {
    const relay = new Relay({ inline: true });
    relay.connect(input<string>(), new Upper());
    const out: string[] = [];
    await ReadableStream.from(["alpha", "beta", "gamma"])
      .pipeThrough(relay.stream<string, string>())
      .pipeTo(new WritableStream({ write: (line) => void out.push(line) }));
    assert.deepEqual(out, ["ALPHA", "BETA", "GAMMA"]);
  });
});

Deno.test("An inline run starts no thread; a worker run does", async () => {
  // The runtime's module is loaded (and any thread that costs gone) first.
  const warm = new Relay({ inline: true });
  warm.connect(make(Counter, { count: 1 }), new Sink());
  await warm.start();
  const counts: Record<string, number> = {};
  for (const [mode, inline] of MODES) {
    await leakChecked(async () => {
      await using logs = await watchLogs();
      const before = await threads();
      const relay = new Relay({ inline, logger: "test" });
      const watcher = new Watcher();
      relay.connect(watcher, [new Sink(), new Sink()]);
      const done = relay.start();
      await logs.when("watching", watcher.name);
      counts[mode] = (await threads()) - before;
      assert.ok(relay.snapshot()!.actors.every((a) => a.state === "running"));
      await relay.close();
      await done.catch(() => {});
    });
  }
  assert.equal(counts.inline, 0, "no thread started inline");
  assert.ok(counts.workers >= 3, `a thread per worker: ${counts.workers}`);
});

Deno.test("Closing an inline run ends every actor, and a hung one is terminated after the shutdown timeout", async () => {
  await using logs = await watchLogs();
  const hung = make(Faulty, { kind: "hang", at: 5 });
  const source = make(Counter, { count: Infinity });
  const relay = new Relay({
    inline: true,
    logger: "test",
    maxsize: 4,
    shutdownTimeout: 100,
  });
  relay.connect(source, hung);
  const started = rejectionOf(relay);
  await logs.when("fault", hung.name);
  const reason = new Error("enough");
  await relay.close({ reason });
  const { error } = await started;
  assert.ok(error instanceof RelayAbortError, String(error));
  assert.equal(error.cause, reason);
  assert.deepEqual(
    [...error.terminated].sort(),
    [source.name, hung.name].sort(),
  );
  // Nothing of the run is left: the test's op and resource checks see to it.
});

Deno.test("A terminated inline actor runs no hook again, even when what it awaited settles", async () => {
  const sink = new Gated();
  const gate: Gate = {
    entered: 0,
    reached: Promise.withResolvers(),
    open: Promise.withResolvers(),
  };
  gates.set(sink.name, gate);
  try {
    const relay = new Relay({ inline: true, maxsize: 4 });
    relay.connect(make(Counter, { count: Infinity }), sink);
    const started = rejectionOf(relay);
    await gate.reached.promise;
    await relay.close({ timeout: 0 });
    const { error } = await started;
    assert.ok(error instanceof RelayAbortError, String(error));
    assert.deepEqual(
      error.terminated,
      relay.snapshot()!.actors.map((a) => a.name),
    );
    assert.equal(gate.signal?.aborted, true, "the actor's signal aborted");
    // The recv() it was in ends now; messages were queued behind it.
    gate.open.resolve();
    await new Promise((resolve) => setTimeout(resolve, 0));
    assert.equal(gate.entered, 1, "no recv() after the termination");
  } finally {
    gates.delete(sink.name);
  }
});

Deno.test("new Relay() takes inline as a boolean only; per-group permissions are refused inline", async () => {
  assert.throws(
    () => new Relay({ inline: "yes" as unknown as boolean }),
    TypeError,
    "Cannot create relay: inline must be a boolean, received yes",
  );
  const relay = new Relay({ inline: true });
  relay.connect(
    make(Counter, { count: 1 }),
    group(new Sink(), { permissions: { read: false } }),
  );
  await assert.rejects(
    relay.start(),
    TypeError,
    "group group-1 has its own permissions, which inline mode cannot apply",
  );
});

Deno.test("A recv() that returns null (plain JavaScript) is taken as done, under every handler that wraps it", async () => {
  class NullSink extends Actor<number> {
    seen = 0;
    // What an untyped actor may return.
    override recv(): Promise<void> {
      this.seen++;
      return null as unknown as Promise<void>;
    }
  }
  const policies = [
    {},
    { retries: 1 },
    { retries: 1, recvTimeoutMs: 1000 },
    { concurrency: 2 },
    { onError: "restart" as const },
  ];
  for (const policy of policies) {
    const relay = new Relay({ inline: true });
    relay.connect(input<number>(), group(new NullSink(), policy));
    const { groups } = await relay.start({ input: [1, 2, 3] });
    assert.equal(groups.at(-1)!.received, 3, JSON.stringify(policy));
  }
  const ordered = new Relay({ inline: true });
  ordered.connect(input<number>(), new NullSink(), new NullSink());
  const out = [];
  for await (const x of ordered.results({ ordered: true, input: [1, 2] })) {
    out.push(x);
  }
  assert.deepEqual(out, []);
});
