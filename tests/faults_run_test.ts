/**
 * Faults while a relay runs (docs/faults.md F1–F7, F10, F16, F17, F19–F22):
 * every test runs under the watchdog and the thread-count leak check, and
 * checks the exact error, the actor it names, and the time it took.
 *
 * @module
 */

import assert from "node:assert/strict";
import { group, Relay, RelayError } from "../mod.ts";
import { workersOf } from "../src/relay.ts";
import { Tally } from "./fixtures/actors.ts";
import {
  barrier,
  Chatter,
  Counter,
  Faulty,
  PointSource,
  ShapeSink,
  Sink,
} from "./fixtures/faults.ts";
import { BadImport } from "./fixtures/faults_bad_import.ts";
import { BadSyntax } from "./fixtures/faults_bad_syntax.ts";
import { leakChecked, startWithin, threads } from "./_harness.ts";
import {
  assertRelayError,
  make,
  rejectionOf,
  settledAfterFault,
  watchLogs,
} from "./_faults.ts";

Deno.test("F1: start() rejects with phase recv when a proxy throws on message 517 of 1000", () =>
  leakChecked(async () => {
    await using logs = await watchLogs();
    const proxies = Array.from(
      { length: 3 },
      () =>
        make(Faulty, { forward: true, phase: "recv", kind: "throw", seq: 516 }),
    );
    const relay = new Relay({ logger: "test", maxsize: 16 });
    relay.connect(make(Counter, { count: 1000 }), proxies, new Sink());
    const { error, at } = await rejectionOf(relay);
    const e = assertRelayError(error, {
      actor: proxies.map((p) => p.name),
      group: "group-1",
      phase: "recv",
      cause: "FaultError",
      message:
        /^Faulty-\d+ \(Faulty\) in group-1 failed in recv\(\) on message \{ from: "Counter-\d+", seq: 516 \}: FaultError: throw in recv at seq 516$/,
    });
    assert.equal(e.actorClass, "Faulty");
    assert.match(e.summary!, /seq: 516/);
    const cause = e.cause as Error;
    assert.match(cause.stack!, /FaultError: throw in recv at seq 516/);
    assert.match(cause.stack!, /fixtures\/faults\.ts/, "the worker's stack");
    assert.deepEqual(e.errors, [e]);
    const ms = await settledAfterFault(logs, at);
    assert.ok(ms < 1000, `settled ${ms} ms after the throw`);
  }));

Deno.test("F2: start() rejects with phase startup when one of three receivers throws there, and the source stops early", () =>
  leakChecked(async () => {
    await using logs = await watchLogs();
    const faulty = make(Faulty, { phase: "startup", kind: "throw" });
    const source = make(Counter, { count: 1_000_000 });
    const relay = new Relay({ logger: "test", maxsize: 16 });
    relay.connect(source, [new Sink(), faulty, new Sink()]);
    const { error } = await rejectionOf(relay);
    assertRelayError(error, {
      actor: faulty.name,
      group: "group-1",
      phase: "startup",
      cause: "FaultError",
    });
    const [sent] = logs.props("sent", source.name);
    assert.ok(sent !== undefined, "the source's pending send settled");
    assert.ok((sent.sent as number) < 1_000_000, `stopped early: ${sent.sent}`);
    const startups = logs.records.filter((r) => r.message[0] === "starting up");
    const names = startups.map((r) => r.properties.actor);
    assert.equal(new Set(names).size, names.length, "nothing respawned");
  }));

Deno.test("F3: start() rejects with phase shutdown after all data arrived; the other actors' shutdown ran", () =>
  leakChecked(async () => {
    await using logs = await watchLogs();
    const done = barrier();
    const faulty = make(Faulty, {
      phase: "shutdown",
      kind: "throw",
      waitFor: done,
      parties: 1,
    });
    const sibling = make(Sink, { arrive: done });
    const source = make(Counter, { count: 500 });
    const relay = new Relay({ logger: "test", maxsize: 16 });
    relay.connect(source, [faulty, sibling]);
    const { error } = await rejectionOf(relay);
    assertRelayError(error, {
      actor: faulty.name,
      phase: "shutdown",
      cause: "FaultError",
    });
    const [ran] = logs.props("shutdown ran", faulty.name);
    const [got] = logs.props("received", sibling.name);
    assert.equal(got.when, "shutdown", "the sibling's shutdown ran");
    assert.equal(
      (ran.received as number) + (got.count as number),
      500,
      "every message was handled before the failure",
    );
    const complete = logs.records.filter((r) =>
      r.message[0] === "shut down complete"
    ).map((r) => r.properties.actor);
    assert.ok(complete.includes(source.name), "the source's shutdown ran");
    assert.ok(complete.includes(sibling.name));
  }));

Deno.test("F4: start() rejects with phase loop when a source throws; downstream does not wait for its pill", () =>
  leakChecked(async () => {
    await using logs = await watchLogs();
    const faulty = make(Faulty, {
      phase: "loop",
      kind: "throw",
      count: 50,
      at: 51,
    });
    const relay = new Relay({ logger: "test", maxsize: 16 });
    relay.connect([faulty, make(Counter, { count: Infinity })], new Sink());
    const { error, at } = await rejectionOf(relay);
    assertRelayError(error, {
      actor: faulty.name,
      group: "group-0",
      phase: "loop",
      cause: "FaultError",
      message: /failed in loop\(\): FaultError: throw in loop$/,
    });
    const ms = await settledAfterFault(logs, at);
    assert.ok(ms < 1000, `settled ${ms} ms after the throw`);
  }));

Deno.test("F5: async failures reject start() naming the actor", async (t) => {
  // With the default maxsize, the sink gets every message and the pills in
  // one batch: it would finish in one task, before the failure is noticed.
  // (Not for a timer: the worker does not wait for timers after its hooks.)
  const cases = [
    { maxsize: 4, count: 100, at: 10, when: "" },
    { maxsize: undefined, count: 1000, at: 100, when: ", as the actor ends" },
  ];
  for (const kind of ["reject", "unhandled", "timer"] as const) {
    for (const { maxsize, count, at, when } of cases) {
      if (kind === "timer" && when !== "") continue;
      await t.step(`${kind} in recv()${when}`, () =>
        leakChecked(async () => {
          await using _logs = await watchLogs();
          const faulty = make(Faulty, { kind, at });
          const relay = new Relay({ logger: "test", maxsize });
          relay.connect(make(Counter, { count }), faulty);
          const { error } = await rejectionOf(relay);
          const e = assertRelayError(error, {
            actor: faulty.name,
            phase: "recv",
            cause: "FaultError",
          });
          assert.match(e.message, new RegExp(`FaultError: ${kind} in recv`));
        }));
    }
  }
});

Deno.test("F6: an actor that exits its worker in recv() fails the run within 1 s", async (t) => {
  for (
    const [kind, how] of [
      ["exit0", "Deno.exit(0)"],
      ["exit3", "Deno.exit(3)"],
      ["close", "self.close()"],
    ] as const
  ) {
    await t.step(how, () =>
      leakChecked(async () => {
        await using logs = await watchLogs();
        const faulty = make(Faulty, { kind, at: 20 });
        const relay = new Relay({ logger: "test", maxsize: 4 });
        relay.connect(make(Counter, { count: Infinity }), faulty);
        const { error, at } = await rejectionOf(relay);
        const e = assertRelayError(error, {
          actor: faulty.name,
          phase: "exit",
        });
        assert.equal(
          e.message,
          `${faulty.name} (Faulty) in group-1 closed its worker with ${how} before it sent its poison pills`,
        );
        const ms = await settledAfterFault(logs, at);
        assert.ok(ms < 1000, `settled ${ms} ms after the exit`);
      }));
  }
});

Deno.test("F7: a worker terminated from outside mid-stream fails the run within 1 s; pending sends settle", () =>
  leakChecked(async () => {
    await using logs = await watchLogs();
    const source = make(Counter, { count: Infinity });
    const proxies = [
      make(Faulty, { forward: true, kind: "none" }),
      make(Faulty, { forward: true, kind: "none" }),
    ];
    const sink = make(Sink, { mark: 200 });
    const relay = new Relay({ logger: "test", maxsize: 8 });
    relay.connect(source, proxies, sink);
    const started = rejectionOf(relay);
    await logs.when("reached", sink.name);
    const victim = proxies[0].name;
    const killedAt = Date.now();
    workersOf(relay).get(victim)!.terminate();
    const { error, at } = await started;
    assertRelayError(error, {
      actor: victim,
      phase: "exit",
      message: new RegExp(
        `^${victim} \\(Faulty\\) in group-1 was terminated from outside the relay before it sent its poison pills$`,
      ),
    });
    assert.ok(at - killedAt < 1000, `settled ${at - killedAt} ms after`);
    const [sent] = logs.props("sent", source.name);
    assert.ok(sent !== undefined, "the source's pending send settled");
  }));

Deno.test("F10: a message that cannot be cloned fails with phase send, naming the sender and the key path", async (t) => {
  const cases = [
    ["uncloneable-function", "message.fn"],
    ["uncloneable-symbol", "message"],
    ["uncloneable-deep", "message.deep.list[2].fn"],
  ] as const;
  for (const [kind, path] of cases) {
    await t.step(`${kind} → ${path}`, () =>
      leakChecked(async () => {
        await using _logs = await watchLogs();
        const faulty = make(Faulty, { kind, at: 3, forward: true });
        const relay = new Relay({ logger: "test", maxsize: 4 });
        relay.connect(make(Counter, { count: 100 }), faulty, new Sink());
        const { error } = await rejectionOf(relay);
        const e = assertRelayError(error, {
          actor: faulty.name,
          phase: "send",
          cause: "DataCloneError",
        });
        assert.equal(e.path, path);
        assert.match(
          e.message,
          new RegExp(
            `failed in send\\(\\) at ${
              path.replace(/[.[\]]/g, "\\$&")
            }: DataCloneError`,
          ),
        );
        assert.ok(
          e.cause instanceof DOMException,
          "cause is the DataCloneError",
        );
      }));
  }
  await t.step(
    "class instances arrive as plain objects (documented)",
    () =>
      leakChecked(async () => {
        await using logs = await watchLogs();
        const relay = new Relay({ logger: "test" });
        relay.connect(new PointSource(), new ShapeSink());
        await startWithin(relay, 10_000);
        const [shape] = logs.props("shape");
        assert.deepEqual(
          { ...shape, actor: undefined, group: undefined },
          {
            plain: true,
            hasNorm: false,
            x: 3,
            y: 4,
            actor: undefined,
            group: undefined,
          },
        );
      }),
  );
});

Deno.test("F16: invalid input throws synchronously and spawns no worker", async () => {
  const before = await threads();
  const relay = new Relay();
  assert.throws(() => relay.connect(new Counter()), TypeError);
  assert.throws(
    () => relay.connect(new Counter(), [] as unknown as Sink[]),
    TypeError,
  );
  assert.throws(() => new Relay({ maxsize: 0 }), RangeError);
  assert.throws(() => new Relay({ shutdownTimeout: -1 }), RangeError);
  assert.throws(
    () =>
      relay.connect(
        new Counter(),
        group([new Sink()], {
          permissions: { read: 3 } as unknown as Deno.PermissionOptions,
        }),
      ),
    /permissions\.read must be "inherit", true, false or a list of allowed values \(non-empty strings or URLs\), received 3;/,
  );
  assert.throws(
    () =>
      relay.connect(
        new Counter(),
        group([new Sink()], {
          permissions: { disk: true } as unknown as Deno.PermissionOptions,
        }),
      ),
    /unknown permission "disk"/,
  );
  assert.equal(await threads(), before, "no worker was spawned");
  assert.equal(workersOf(relay).size, 0);
});

Deno.test("F17: every record of a log flood arrives in order before start() settles", () =>
  leakChecked(async () => {
    await using logs = await watchLogs();
    const all = barrier();
    const lines = 10_000;
    const chatters = Array.from(
      { length: 10 },
      (_, i) =>
        make(Chatter, { lines, waitFor: all, parties: 10, fail: i === 9 }),
    );
    const relay = new Relay({ logger: "test" });
    relay.connect(chatters, new Sink());
    const { error } = await rejectionOf(relay, 30_000);
    assertRelayError(error, { actor: chatters[9].name, phase: "loop" });
    for (const c of chatters) {
      const seen = logs.records.filter((r) =>
        r.message[0] === "line " && r.properties.actor === c.name
      ).map((r) => r.properties.i as number);
      assert.equal(seen.length, lines, `${c.name} logged ${seen.length}`);
      assert.ok(seen.every((v, i) => v === i), `${c.name} in order`);
    }
  }));

Deno.test("F19: failures at once settle once, carrying every error", async (t) => {
  await t.step(
    "eight actors fail in startup together",
    () =>
      leakChecked(async () => {
        await using _logs = await watchLogs();
        const all = barrier();
        const faulty = Array.from({ length: 8 }, () =>
          make(Faulty, {
            phase: "startup",
            kind: "throw",
            waitFor: all,
            parties: 8,
            join: true,
          }));
        const relay = new Relay({ logger: "test" });
        relay.connect(make(Counter, { count: 10 }), faulty);
        const { error } = await rejectionOf(relay);
        const e = assertRelayError(error, {
          actor: faulty.map((f) => f.name),
          phase: "startup",
        });
        assert.deepEqual(
          e.errors.map((x) => x.actor).sort(),
          faulty.map((f) => f.name).sort(),
          "every failure is on the error, once",
        );
        assert.ok(
          e.errors.every((x) =>
            x instanceof RelayError && x.phase === "startup"
          ),
        );
      }),
  );
});

Deno.test("F20: receivers end exactly once after every pill; a sender dying before its pill fails the run", async (t) => {
  await t.step(
    "senders of 0, 1 and 10 000 messages",
    () =>
      leakChecked(async () => {
        await using logs = await watchLogs();
        const sinks = [new Tally(), new Tally()];
        const relay = new Relay({ logger: "test", maxsize: 32 });
        relay.connect(
          [0, 1, 10_000].map((count) => make(Counter, { count })),
          sinks,
        );
        await startWithin(relay, 20_000);
        let total = 0;
        for (const s of sinks) {
          const pills = logs.records.filter((r) =>
            r.properties.actor === s.name &&
            String(r.message[0]).startsWith("received ")
          ).map((r) => r.message.join(""));
          assert.deepEqual(pills, [
            "received 1/3 poison pills",
            "received 2/3 poison pills",
            "received 3/3 poison pills",
          ]);
          const complete = logs.records.filter((r) =>
            r.properties.actor === s.name &&
            r.message[0] === "shut down complete"
          );
          assert.equal(complete.length, 1, "ends exactly once");
          total += logs.props("tally", s.name)[0].count as number;
        }
        assert.equal(total, 10_001);
      }),
  );
  await t.step(
    "a sender exits in shutdown, before its pill",
    () =>
      leakChecked(async () => {
        await using _logs = await watchLogs();
        const faulty = make(Faulty, {
          phase: "shutdown",
          kind: "exit3",
          count: 100,
        });
        const relay = new Relay({ logger: "test", maxsize: 32 });
        relay.connect([faulty, make(Counter, { count: 100 })], new Tally());
        const { error } = await rejectionOf(relay);
        assertRelayError(error, {
          actor: faulty.name,
          phase: "exit",
          message:
            /closed its worker with Deno\.exit\(3\) before it sent its poison pills/,
        });
      }),
  );
});

Deno.test("F21: an actor module that fails to load fails with phase load, once, within 2 s", async (t) => {
  const cases = [
    [
      "syntax error",
      () => new BadSyntax(),
      /failed in load\(\) of file:\/\/\/.*\/faults_bad_syntax\.ts: TypeError: SyntaxError: Expression expected/,
      "TypeError",
    ],
    [
      "bad import",
      () => new BadImport(),
      /failed in load\(\) of file:\/\/\/.*\/faults_bad_import\.ts: TypeError: Module not found ".*\/this_module_does_not_exist\.ts"/,
      "TypeError",
    ],
  ] as const;
  for (const [name, actor, message, cause] of cases) {
    await t.step(name, () =>
      leakChecked(async () => {
        await using logs = await watchLogs();
        const bad = actor();
        const relay = new Relay({ logger: "test" });
        relay.connect(make(Counter, { count: 10 }), bad);
        const started = Date.now();
        const { error, at } = await rejectionOf(relay);
        assertRelayError(error, {
          actor: bad.name,
          phase: "load",
          message,
          cause,
        });
        assert.ok(at - started < 2000, `settled in ${at - started} ms`);
        const starts = logs.records.filter((r) =>
          r.properties.actor === bad.name && r.message[0] === "starting up"
        );
        assert.equal(starts.length, 0, "never started, never retried");
      }));
  }
  await t.step(
    "a group whose permissions cannot read the module",
    () =>
      leakChecked(async () => {
        await using _logs = await watchLogs();
        const sink = new Sink();
        const relay = new Relay({ logger: "test" });
        relay.connect(
          make(Counter, { count: 10 }),
          group([sink], { name: "sandbox", permissions: { read: false } }),
        );
        const { error } = await rejectionOf(relay);
        assertRelayError(error, {
          actor: sink.name,
          group: "sandbox",
          phase: "load",
          cause: "TypeError",
          message:
            /failed in load\(\) of file:\/\/\/.*\/faults\.ts: TypeError: Requires read access to ".*\/faults\.ts", run again with the --allow-read flag; group sandbox runs with its own permissions: add the actor's modules to them/,
        });
      }),
  );
});

Deno.test("F22: n-m edges end with every pill counted, repeated", async (t) => {
  for (const shape of [[2, 2], [3, 5]]) {
    await t.step(shape.join("→"), () =>
      leakChecked(async () => {
        for (let run = 0; run < 3; run++) {
          await using logs = await watchLogs();
          const sinks = Array.from({ length: shape[1] }, () => new Tally());
          const relay = new Relay({ logger: "test", maxsize: 8 });
          relay.connect(
            Array.from(
              { length: shape[0] },
              () => make(Counter, { count: 200 }),
            ),
            sinks,
          );
          await startWithin(relay, 20_000);
          const total = sinks.reduce(
            (n, s) => n + (logs.props("tally", s.name)[0].count as number),
            0,
          );
          assert.equal(total, shape[0] * 200);
        }
      }));
  }
});
