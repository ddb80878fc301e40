/**
 * Cancellation (docs/faults.md F9, F15, F18): `start({ signal })` and
 * `close()` stop the sources, drain within the shutdown timeout, then
 * terminate what is left; the rejection is a `RelayAbortError`.
 *
 * @module
 */

import assert from "node:assert/strict";
import { Relay, RelayAbortError, RelayError } from "../mod.ts";
import { workersOf } from "../src/relay.ts";
import { Tally } from "./fixtures/actors.ts";
import { Counter, Faulty, Sink, Watcher } from "./fixtures/faults.ts";
import { leakChecked, startWithin, threads } from "./_harness.ts";
import { make, rejectionOf, watchLogs } from "./_faults.ts";

const RUN_MAIN = new URL("./fixtures/run_main.ts", import.meta.url).pathname;

function assertAbort(
  error: unknown,
  reason: unknown,
  terminated: readonly string[],
): RelayAbortError {
  assert.ok(
    error instanceof RelayAbortError,
    `expected a RelayAbortError, got ${
      error instanceof Error ? error.stack : error
    }`,
  );
  assert.equal(error.name, "AbortError");
  assert.equal(error.cause, reason, "cause is the signal's reason");
  assert.deepEqual([...error.terminated].sort(), [...terminated].sort());
  for (const name of terminated) assert.ok(error.message.includes(name));
  return error;
}

Deno.test("F9: a hung actor is terminated after the shutdown timeout and named on the abort error", async (t) => {
  await t.step("a recv() that never settles", () =>
    leakChecked(async () => {
      await using logs = await watchLogs();
      const hung = make(Faulty, { kind: "hang", at: 5 });
      const source = make(Counter, { count: Infinity });
      const relay = new Relay({
        logger: "test",
        maxsize: 4,
        shutdownTimeout: 300,
      });
      relay.connect(source, hung);
      const controller = new AbortController();
      const started = rejectionOf(relay, 10_000, {
        signal: controller.signal,
        onAbort: "drain",
      });
      await logs.when("fault", hung.name);
      const reason = new Error("enough");
      const abortedAt = Date.now();
      controller.abort(reason);
      const { error, at } = await started;
      // The source's last send waits for credit the hung actor never gives
      // back: it is terminated too.
      assertAbort(error, reason, [source.name, hung.name]);
      const ms = at - abortedAt;
      assert.ok(ms >= 300 && ms < 800, `settled ${ms} ms after the abort`);
    }));

  // Deno cannot stop a worker that spins in a synchronous loop: terminate()
  // does not interrupt it, its thread keeps a core busy, and the process may
  // not exit by itself. So this runs in a process of its own.
  await t.step(
    "a recv() that spins (in a subprocess: a documented limit)",
    async () => {
      const out = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-R", RUN_MAIN, "spin"],
        cwd: new URL("../", import.meta.url).pathname,
        env: { NO_COLOR: "1" },
        stdout: "piped",
        stderr: "piped",
      }).output();
      const stderr = new TextDecoder().decode(out.stderr);
      assert.equal(out.code, 0, stderr);
      const outcome = JSON.parse(new TextDecoder().decode(out.stdout));
      assert.equal(outcome.name, "AbortError");
      assert.deepEqual(outcome.terminated.sort(), ["Counter-2", "Faulty-1"]);
      assert.ok(
        outcome.settledMs >= 300 && outcome.settledMs < 800,
        `settled ${outcome.settledMs} ms after the abort`,
      );
    },
  );
});

Deno.test("F15: aborting a relay", async (t) => {
  await t.step(
    "drain mode delivers every message a send() accepted",
    () =>
      leakChecked(async () => {
        await using logs = await watchLogs();
        const source = make(Counter, { count: Infinity });
        const proxy = make(Faulty, { kind: "none", forward: true });
        const sink = make(Sink, { mark: 1000 });
        const relay = new Relay({ logger: "test", maxsize: 16 });
        relay.connect(source, proxy, sink);
        const controller = new AbortController();
        const started = rejectionOf(relay, 10_000, {
          signal: controller.signal,
          onAbort: "drain",
        });
        await logs.when("reached", sink.name);
        controller.abort("drain");
        const { error } = await started;
        assertAbort(error, "drain", []);
        assert.match(
          (error as Error).message,
          /^Relay aborted \(drain\): no actor had to be terminated$/,
        );
        const [sent] = logs.props("sent", source.name);
        const got = logs.props("received", sink.name).find((p) =>
          p.when === "shutdown"
        );
        assert.ok(got !== undefined, "the sink drained and shut down");
        assert.equal(sent.aborted, true);
        assert.equal(got.count, sent.sent, "received == accepted");
      }),
  );

  await t.step(
    "cancel mode (close with timeout 0) settles within 0.5 s",
    () =>
      leakChecked(async () => {
        await using logs = await watchLogs();
        const source = make(Counter, { count: Infinity });
        const sink = make(Sink, { mark: 1000, busyMicros: 50 });
        const relay = new Relay({ logger: "test", maxsize: 16 });
        relay.connect(source, sink);
        const started = rejectionOf(relay);
        await logs.when("reached", sink.name);
        const closing = Date.now();
        await relay.close({ timeout: 0, reason: "cancel" });
        const { error, at } = await started;
        assertAbort(error, "cancel", [source.name, sink.name]);
        assert.ok(
          at - closing < 500,
          `settled ${at - closing} ms after close()`,
        );
      }),
  );

  await t.step(
    "an aborted signal cancels at once by default, however slow the sink",
    () =>
      leakChecked(async () => {
        await using logs = await watchLogs();
        const source = make(Counter, { count: Infinity });
        // 20 ms a message with 1024 in flight: a drain would take 20 s.
        const sink = make(Sink, { mark: 5, delayMs: 20 });
        const relay = new Relay({ logger: "test", shutdownTimeout: 10_000 });
        relay.connect(source, sink);
        const controller = new AbortController();
        const started = rejectionOf(relay, 10_000, {
          signal: controller.signal,
        });
        await logs.when("reached", sink.name);
        const abortedAt = Date.now();
        controller.abort("cancel");
        const { error, at } = await started;
        assertAbort(error, "cancel", [source.name, sink.name]);
        assert.ok(at - abortedAt < 500, `settled ${at - abortedAt} ms after`);
      }),
  );

  await t.step(
    "a signal aborted already spawns nothing",
    () =>
      leakChecked(async () => {
        const before = await threads();
        const relay = new Relay({ logger: "test" });
        relay.connect(make(Counter, { count: 10 }), new Sink());
        const reason = new Error("too late");
        const { error } = await rejectionOf(relay, 1000, {
          signal: AbortSignal.abort(reason),
        });
        assertAbort(error, reason, []);
        assert.equal(workersOf(relay).size, 0);
        assert.equal(await threads(), before, "no worker was spawned");
      }),
  );

  await t.step(
    "an abort after completion does nothing",
    () =>
      leakChecked(async () => {
        await using logs = await watchLogs();
        const relay = new Relay({ logger: "test" });
        relay.connect(make(Counter, { count: 10 }), new Tally());
        const controller = new AbortController();
        await startWithin(relay, 10_000, { signal: controller.signal });
        controller.abort();
        await relay.close();
        assert.ok(
          !logs.records.some((r) => r.message.join("").includes("aborting")),
        );
      }),
  );

  await t.step(
    "an actor ignoring the abort is terminated after the timeout",
    () =>
      leakChecked(async () => {
        await using logs = await watchLogs();
        const stubborn = make(Faulty, { kind: "hang", at: 3 });
        const relay = new Relay({ logger: "test", shutdownTimeout: 200 });
        relay.connect(make(Counter, { count: 3 }), stubborn);
        const started = rejectionOf(relay);
        await logs.when("fault", stubborn.name);
        await relay.close({ reason: "stop" });
        const { error } = await started;
        assertAbort(error, "stop", [stubborn.name]);
      }),
  );

  await t.step(
    "actors see the abort and its reason on this.signal",
    () =>
      leakChecked(async () => {
        await using logs = await watchLogs();
        const watcher = new Watcher();
        const relay = new Relay({ logger: "test" });
        relay.connect(watcher, new Sink());
        const controller = new AbortController();
        const started = rejectionOf(relay, 10_000, {
          signal: controller.signal,
          onAbort: "drain",
        });
        await logs.when("watching", watcher.name);
        controller.abort("because");
        const { error } = await started;
        assertAbort(error, "because", []);
        const [saw] = logs.props("saw abort", watcher.name);
        assert.equal(saw.reason, "because");
      }),
  );

  await t.step(
    "await using closes a running relay",
    () =>
      leakChecked(async () => {
        await using logs = await watchLogs();
        let started: Promise<unknown>;
        {
          await using relay = new Relay({ logger: "test" });
          const sink = make(Sink, { mark: 100 });
          relay.connect(make(Counter, { count: Infinity }), sink);
          started = relay.start().catch((e) => e);
          await logs.when("reached", sink.name);
        }
        const error = await started;
        assert.ok(error instanceof RelayAbortError, String(error));
        assert.match(
          error.message,
          /^Relay aborted \(The relay was closed\): terminated /,
        );
      }),
  );

  await t.step(
    "a failure while draining is carried on the abort error",
    () =>
      leakChecked(async () => {
        await using logs = await watchLogs();
        const faulty = make(Faulty, {
          phase: "shutdown",
          kind: "throw",
          mark: 50,
        });
        const relay = new Relay({ logger: "test", maxsize: 8 });
        relay.connect(make(Counter, { count: Infinity }), faulty);
        const controller = new AbortController();
        const started = rejectionOf(relay, 10_000, {
          signal: controller.signal,
          onAbort: "drain",
        });
        await logs.when("reached", faulty.name);
        controller.abort("drain");
        const { error } = await started;
        const e = assertAbort(error, "drain", []);
        assert.equal(e.errors.length, 1);
        assert.ok(e.errors[0] instanceof RelayError);
        assert.equal(e.errors[0].actor, faulty.name);
        assert.equal(e.errors[0].phase, "shutdown");
        assert.match(
          e.message,
          new RegExp(`1 actor failed while it drained: ${faulty.name}$`),
        );
      }),
  );
});

Deno.test("F18: a relay runs once; actors belong to one relay", async (t) => {
  await t.step(
    "start() while running and after finishing rejects, spawning nothing more",
    () =>
      leakChecked(async () => {
        await using logs = await watchLogs();
        const sink = make(Sink, { mark: 10 });
        const relay = new Relay({ logger: "test" });
        relay.connect(make(Counter, { count: 100 }), sink);
        const first = startWithin(relay, 10_000);
        await logs.when("reached", sink.name);
        const workers = workersOf(relay);
        await assert.rejects(relay.start(), {
          name: "TypeError",
          message:
            "Cannot start relay: it was already started; create a new Relay (with new actors) to run again",
        });
        assert.deepEqual([...workersOf(relay).keys()], [...workers.keys()]);
        await first;
        await assert.rejects(relay.start(), TypeError);
      }),
  );

  await t.step("actors of one relay cannot join another", () => {
    const source = make(Counter, { count: 1 });
    const sink = new Sink();
    new Relay().connect(source, sink);
    assert.throws(() => new Relay().connect(source, new Sink()), {
      name: "TypeError",
      message:
        `Cannot connect groups: ${source.name} already belongs to another relay; create new instances for this one`,
    });
  });

  await t.step(
    "close() right after start() spawns nothing and leaves no port open",
    () =>
      leakChecked(async () => {
        const relay = new Relay();
        relay.connect(make(Counter, { count: 10 }), new Sink());
        const started = relay.start();
        await relay.close({ reason: "early" });
        const error = await started.catch((e) => e);
        assertAbort(error, "early", []);
        assert.equal(workersOf(relay).size, 0);
      }),
  );

  await t.step("a relay closed before it started does not start", async () => {
    const relay = new Relay();
    relay.connect(make(Counter, { count: 1 }), new Sink());
    await relay.close();
    await assert.rejects(relay.start(), {
      name: "TypeError",
      message:
        "Cannot start relay: it was already closed; create a new Relay (with new actors) to run again",
    });
    assert.equal(workersOf(relay).size, 0);
  });
});
