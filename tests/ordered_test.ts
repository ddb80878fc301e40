/**
 * `relay.results({ ordered: true })` and `stream({ ordered: true })`: the
 * last group's messages in the order in which the first group sent the
 * messages they came from, across parallel actors and filters, with the
 * origin held back by the window; in workers and inline. Every case that
 * shows the order also runs unordered and checks that the order is lost
 * there, so that it can fail.
 *
 * @module
 */

import assert from "node:assert/strict";
// Named here, not in deno.json: the import map is the package's, and this
// one is for tests and benchmarks only.
// deno-lint-ignore no-import-prefix
import fc from "npm:fast-check@^4.10.2";
import {
  group,
  input,
  type OrderMetrics,
  Relay,
  RelayAbortError,
} from "../mod.ts";
import {
  Bytes,
  FirstByte,
  Held,
  Jitter,
  Numbers,
  open,
  Trailer,
  Twice,
  Uncloneable,
} from "./fixtures/ordered.ts";
import { FailOn } from "./fixtures/stages.ts";
import { leakChecked, MODES } from "./_harness.ts";
import { assertRelayError, make } from "./_faults.ts";

type Stage = { seed: number; maxMs: number; drop: number; add: number };

/** `connect()` with groups built at run time (the chain is typed elsewhere). */
function connect(relay: Relay, groups: readonly unknown[]): Relay<number> {
  return (relay as unknown as { connect(...g: unknown[]): Relay<number> })
    .connect(...groups);
}

/**
 * Reads everything `results` yields, under a watchdog: after `ms` the relay
 * is closed and the test fails with its state.
 */
async function readWithin<T>(
  relay: Relay,
  results: AsyncIterable<T>,
  ms = 60_000,
): Promise<T[]> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const watchdog = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const state = JSON.stringify(relay.snapshot());
      relay.close({ timeout: 0 });
      reject(new Error(`results did not end within ${ms} ms; state: ${state}`));
    }, ms);
  });
  const read = Array.fromAsync(results);
  read.catch(() => {});
  try {
    return await Promise.race([read, watchdog]);
  } finally {
    clearTimeout(timer);
  }
}

/** What the stages make of `xs`, in order: each maps and filters. */
function expected(xs: readonly number[], stages: readonly Stage[]): number[] {
  let out = [...xs];
  for (const s of stages) {
    out = out.filter((x) => s.drop === 0 || x % s.drop !== 0).map((x) =>
      x + s.add
    );
  }
  return out;
}

/** A group of `n` jittering actors with one configuration, seeds apart. */
function jitters(n: number, stage: Stage): Jitter[] {
  return Array.from(
    { length: n },
    (_, i) => make(Jitter, { ...stage, seed: stage.seed + 101 * i }),
  );
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

/**
 * The shapes: groups of jittering stages after a source (or input()), one
 * actor last.
 */
const SHAPES: {
  name: string;
  count: number;
  sizes: number[];
  stages: Stage[];
}[] = [
  {
    name: "1→n→1",
    count: 40,
    sizes: [3, 1],
    stages: [
      { seed: 1, maxMs: 6, drop: 0, add: 0 },
      { seed: 2, maxMs: 0, drop: 0, add: 1000 },
    ],
  },
  {
    name: "1→n→m→1 with filters",
    count: 60,
    sizes: [3, 2, 1],
    stages: [
      { seed: 3, maxMs: 6, drop: 5, add: 0 },
      { seed: 4, maxMs: 6, drop: 7, add: 1 },
      { seed: 5, maxMs: 1, drop: 4, add: 100 },
    ],
  },
];

for (const [mode, inline] of MODES) {
  for (const shape of SHAPES) {
    for (const from of ["a source", "input()"] as const) {
      Deno.test(`results({ ordered: true }) keeps the order of ${from} through ${shape.name}, which unordered results lose (${mode})`, () =>
        leakChecked(async () => {
          const run = async (ordered: boolean) => {
            const relay = new Relay({ inline, maxsize: 8 });
            const groups = shape.stages.map((s, i) =>
              jitters(shape.sizes[i], s)
            );
            const first = from === "input()"
              ? input<number>()
              : make(Numbers, { count: shape.count });
            connect(relay, [first, ...groups]);
            const options = from === "input()"
              ? { input: range(shape.count), ordered }
              : { ordered };
            const out = await readWithin(relay, relay.results<number>(options));
            return { out, metrics: relay.metrics()! };
          };
          const want = expected(range(shape.count), shape.stages);
          const unordered = await run(false);
          assert.deepEqual(
            [...unordered.out].sort((a, b) => a - b),
            [...want].sort((a, b) => a - b),
            "unordered: every message, once",
          );
          assert.notDeepEqual(
            unordered.out,
            want,
            "unordered results come out of order here (else this test shows nothing)",
          );
          assert.equal(unordered.metrics.order, undefined);
          const ordered = await run(true);
          assert.deepEqual(ordered.out, want);
          const order = ordered.metrics.order!;
          assert.equal(order.numbered, shape.count);
          assert.equal(order.released, shape.count);
          assert.equal(order.held, 0);
          assert.ok(order.peakHeld <= order.window);
          // The default window: the sum of the edges' bounds.
          assert.equal(
            order.window,
            ordered.metrics.edges.reduce((sum, e) => sum + e.maxsize, 0),
          );
          // Markers are no messages: the counts stay those of the messages.
          const received = ordered.metrics.groups.slice(
            from === "input()" ? 0 : 1,
          ).map((g) => g.received);
          let alive = range(shape.count);
          received.forEach((got, i) => {
            assert.equal(got, alive.length, `group ${i} received`);
            alive = expected(alive, [shape.stages[i]]);
          });
        }));
    }
  }

  Deno.test(`results({ ordered: true }) holds the origin back while the oldest message is held: the input (${mode})`, () =>
    leakChecked(async () => {
      const gate = new SharedArrayBuffer(4);
      const relay = new Relay({ inline, maxsize: 64 });
      connect(relay, [
        input<number>(),
        [make(Held, { gate }), make(Held, { gate })],
      ]);
      let pulled = 0;
      function* numbers() {
        for (let x = 0; x < 100; x++) {
          pulled++;
          yield x;
        }
      }
      const window = 5;
      const results = relay.results({
        input: numbers(),
        ordered: true,
        window,
      });
      const first = results.next();
      // Held on message 0, the origin fills the window and waits.
      const order = await until(relay, (o) => o.originWaits >= 1);
      assert.equal(order.window, window);
      assert.equal(order.numbered, window, "the input numbered a window");
      assert.ok(pulled <= window + 1, `pulled ${pulled} of the input`);
      assert.equal(order.released, 0);
      assert.ok(order.held < window, `held ${order.held}`);
      open(gate);
      assert.deepEqual(await first, { value: 0, done: false });
      const rest = await readWithin(relay, results);
      assert.deepEqual([0, ...rest], range(100));
      const end = relay.metrics()!.order!;
      assert.ok(end.peakHeld <= window, `peak ${end.peakHeld}`);
      assert.equal(pulled, 100);
    }));

  Deno.test(`results({ ordered: true }) holds the origin back while the oldest message is held: a source (${mode})`, () =>
    leakChecked(async () => {
      const gate = new SharedArrayBuffer(4);
      const relay = new Relay({ inline, maxsize: 64 });
      connect(relay, [
        make(Numbers, { count: 50 }),
        [make(Held, { gate }), make(Held, { gate }), make(Held, { gate })],
        make(Jitter, { maxMs: 0 }),
      ]);
      const results = relay.results({ ordered: true, window: 3 });
      const first = results.next();
      const order = await until(relay, (o) => o.originWaits >= 1);
      assert.equal(order.numbered, 3);
      // The source's sent count says the same: it waits in send().
      assert.equal(relay.metrics()!.groups[0].sent, 3);
      open(gate);
      assert.deepEqual(await first, { value: 0, done: false });
      const rest = await readWithin(relay, results);
      assert.deepEqual([0, ...rest], range(50));
      assert.ok(relay.metrics()!.order!.peakHeld <= 3);
    }));

  for (const from of ["input()", "a source"] as const) {
    Deno.test(`Closing the relay ends an origin waiting on the window: ${from} (${mode})`, () =>
      leakChecked(async () => {
        const gate = new SharedArrayBuffer(4);
        const relay = new Relay({ inline });
        connect(relay, [
          from === "input()" ? input<number>() : make(Numbers, { count: 50 }),
          [make(Held, { gate }), make(Held, { gate })],
        ]);
        const results = relay.results({
          ordered: true,
          window: 2,
          ...(from === "input()" ? { input: range(50) } : {}),
        });
        const first = results.next();
        first.catch(() => {});
        await until(relay, (o) => o.originWaits >= 1);
        await relay.close({ timeout: 0 });
        await assert.rejects(first, RelayAbortError);
        assert.equal(relay.metrics()!.order!.numbered, 2);
        open(gate); // a held inline actor would go on waiting
      }));
  }

  Deno.test(`results({ ordered: true }) fails the run, naming the actor and the message, when a stage sends two messages for one (${mode})`, () =>
    leakChecked(async () => {
      const relay = new Relay({ inline });
      connect(relay, [make(Numbers, { count: 10 }), [
        make(Twice, { twiceOn: 3 }),
        make(Twice, { twiceOn: 3 }),
      ]]);
      const error = await readWithin(relay, relay.results({ ordered: true }))
        .then(() => assert.fail("the results ended"), (e) => e);
      const e = assertRelayError(error, {
        actor: relay.snapshot()!.actors.filter((a) =>
          a.name.startsWith("Twice")
        ).map((a) => a.name),
        phase: "recv",
        message:
          /Twice-\d+ sent a second message for message #3 \(counting from 0 in the order the first group sent; 3\); with results\(\{ ordered: true \}\) every actor after the first group sends one message per message it receives \(a map\) or none \(a filter\); send what belongs together as one message/,
      });
      assert.equal(e.summary, "3", "the message in hand, not its envelope");
    }));

  Deno.test(`results({ ordered: true }) fails the run when a stage sends from shutdown() (${mode})`, () =>
    leakChecked(async () => {
      const relay = new Relay({ inline });
      connect(relay, [make(Numbers, { count: 3 }), new Trailer()]);
      const error = await readWithin(relay, relay.results({ ordered: true }))
        .then(() => assert.fail("the results ended"), (e) => e);
      assertRelayError(error, {
        actor: relay.snapshot()!.actors[1].name,
        phase: "shutdown",
        message:
          /Trailer-\d+ sent a message outside recv\(\) \(from startup\(\), shutdown\(\), or a callback/,
      });
    }));

  Deno.test(`results({ ordered: true }) names the path of what cannot be cloned inside the message, not inside its envelope (${mode})`, () =>
    leakChecked(async () => {
      const relay = new Relay({ inline });
      connect(relay, [
        make(Numbers, { count: 3 }),
        make(Uncloneable, {
          at: 2,
        }),
      ]);
      const error = await readWithin(relay, relay.results({ ordered: true }))
        .then(() => assert.fail("the results ended"), (e) => e);
      const e = assertRelayError(error, {
        actor: relay.snapshot()!.actors[1].name,
        phase: "send",
        cause: "DataCloneError",
      });
      assert.equal(e.path, "message.job.run");
    }));

  Deno.test(`results({ ordered: true }) carries transferred buffers inside its envelopes (${mode})`, () =>
    leakChecked(async () => {
      const relay = new Relay({ inline, maxsize: 4 });
      connect(relay, [make(Bytes, { count: 30 }), [
        new FirstByte(),
        new FirstByte(),
      ]]);
      const reports = Array.fromAsync(relay.reports());
      const out = await readWithin(relay, relay.results({ ordered: true }));
      assert.deepEqual(out, range(30));
      assert.deepEqual((await reports).map((r) => r.value), [{
        detached: 30,
      }]);
    }));

  Deno.test(`results({ ordered: true }) keeps the order of one actor's calls in flight, which its concurrency loses unordered (${mode})`, () =>
    leakChecked(async () => {
      const stage = { seed: 9, maxMs: 8, drop: 3, add: 7 };
      const run = async (ordered: boolean) => {
        const relay = new Relay({ inline, maxsize: 16 });
        connect(relay, [
          input<number>(),
          group(jitters(1, stage), { concurrency: 4 }),
        ]);
        return await readWithin(
          relay,
          relay.results<number>({ input: range(40), ordered }),
        );
      };
      const want = expected(range(40), [stage]);
      const unordered = await run(false);
      assert.deepEqual([...unordered].sort((a, b) => a - b), want);
      assert.notDeepEqual(unordered, want, "four calls in flight reorder");
      assert.deepEqual(await run(true), want);
    }));

  for (const concurrency of [1, 3]) {
    Deno.test(`results({ ordered: true }) passes on a marker for a message skipped to the dead letters after its retries, concurrency ${concurrency} (${mode})`, () =>
      leakChecked(async () => {
        const relay = new Relay({ inline, maxsize: 16 });
        connect(relay, [
          input<number>(),
          group([make(FailOn, { failOn: 5 }), make(FailOn, { failOn: 5 })], {
            concurrency,
            retries: 1,
            onError: "skip",
          }),
          jitters(2, { seed: 4, maxMs: 4, drop: 0, add: 0 }),
        ]);
        const dead = Array.fromAsync(relay.deadLetters());
        const out = await readWithin(
          relay,
          relay.results<number>({ input: range(20), ordered: true }),
        );
        assert.deepEqual(out, range(20).filter((x) => x !== 5));
        assert.deepEqual((await dead).map((d) => d.message), [5]);
      }));
  }

  Deno.test(`stream({ ordered: true }) yields in the order written (${mode})`, () =>
    leakChecked(async () => {
      const stage = { seed: 11, maxMs: 5, drop: 0, add: 1 };
      const relay = new Relay({ inline });
      connect(relay, [input<number>(), jitters(3, stage)]);
      const out = ReadableStream.from(range(30)).pipeThrough(
        relay.stream<number, number>({ ordered: true }),
      );
      assert.deepEqual(
        await readWithin(relay, out),
        range(30).map((x) => x + 1),
      );
    }));
}

/**
 * Polls the run's order metrics until `ready` holds (a guard, not a
 * synchronisation: the origin's wait is the event; nothing says when it
 * began but its counter).
 */
async function until(
  relay: Relay,
  ready: (order: OrderMetrics) => boolean,
  ms = 10_000,
): Promise<OrderMetrics> {
  const deadline = performance.now() + ms;
  for (;;) {
    const order = relay.metrics()?.order;
    if (order !== undefined && ready(order)) return order;
    if (performance.now() > deadline) {
      await relay.close({ timeout: 0 });
      throw new Error(
        `the order metrics never got there: ${JSON.stringify(order)}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

Deno.test("results({ ordered: true }) refuses a first group of several sources, naming them and the fix", () => {
  const relay = new Relay({ inline: true });
  const sources = [new Numbers(), new Numbers()];
  connect(relay, [sources, new Jitter()]);
  assert.throws(
    () => relay.results({ ordered: true }),
    TypeError,
    `Cannot read results: ordered results come in the order in which the first group sent, and its 2 actors (${
      sources[0].name
    }, ${
      sources[1].name
    }, group group-0) have no one order; make the first group one source actor, or input(), or read the results unordered`,
  );
});

Deno.test("results({ ordered: true }) called before connect() refuses several sources when it starts", async () => {
  const relay = new Relay({ inline: true });
  const results = relay.results({ ordered: true });
  connect(relay, [[new Numbers(), new Numbers()], new Jitter()]);
  await assert.rejects(
    () => results.next(),
    TypeError,
    "Cannot start relay: ordered results come in the order in which the first group sent",
  );
});

Deno.test("results() and stream() check ordered and window, naming the value and the fix", () => {
  const relay = () => {
    const r = new Relay({ inline: true });
    connect(r, [input<number>(), new Jitter()]);
    return r;
  };
  assert.throws(
    () => relay().results({ ordered: "yes" as unknown as boolean }),
    TypeError,
    'Cannot read results: ordered must be a boolean, received "yes"',
  );
  assert.throws(
    () => relay().results({ window: 8 }),
    TypeError,
    "Cannot read results: window bounds the reorder buffer of ordered results, received 8 without ordered: true; pass ordered: true with it, or leave window out",
  );
  assert.throws(
    () => relay().results({ ordered: true, window: 0 }),
    RangeError,
    "Cannot read results: window must be a whole number of messages from 1 to 1073741824, received 0",
  );
  assert.throws(
    () => relay().stream({ ordered: true, window: 1.5 }),
    RangeError,
    "Cannot make a stream: window must be a whole number",
  );
  assert.throws(
    () => relay().results({ orderd: true } as never),
    TypeError,
    'Cannot read results: unknown option "orderd"',
  );
});

Deno.test("Ordered output is the input mapped and filtered by every stage, in order, for any delays and filters (property, inline)", async () => {
  const stageArb = fc.record({
    seed: fc.nat(1000),
    maxMs: fc.integer({ min: 0, max: 3 }),
    drop: fc.constantFrom(0, 0, 2, 3, 5),
    add: fc.integer({ min: -5, max: 5 }),
  });
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.tuple(stageArb, fc.integer({ min: 1, max: 3 })), {
        minLength: 1,
        maxLength: 3,
      }),
      fc.integer({ min: 0, max: 40 }),
      fc.option(fc.integer({ min: 1, max: 8 }), { nil: undefined }),
      fc.integer({ min: 1, max: 8 }),
      async (stages, count, window, maxsize) => {
        const relay = new Relay({ inline: true, maxsize });
        connect(relay, [
          input<number>(),
          ...stages.map(([s, n]) => jitters(n, s)),
        ]);
        const out = await readWithin(
          relay,
          relay.results({ input: range(count), ordered: true, window }),
        );
        assert.deepEqual(out, expected(range(count), stages.map(([s]) => s)));
        const order = relay.metrics()!.order!;
        assert.ok(order.peakHeld <= order.window);
      },
    ),
    { numRuns: 30 },
  );
});
