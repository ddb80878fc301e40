/**
 * What a hostile actor, input or abort reason does to a run: the main
 * process survives, the run settles with a clear error, nothing is taken
 * for success that was not (docs/faults.md, "Hostile actors").
 *
 * @module
 */

import assert from "node:assert/strict";
import { group, input, Relay, RelayAbortError, RelayError } from "../mod.ts";
import { Proxy as Pass, Source, Tally } from "./fixtures/actors.ts";
import { barrier, Counter, Sink } from "./fixtures/faults.ts";
import {
  BadGetter,
  Fails,
  Flood,
  Named,
  Poster,
  RejectsInStartup,
  StaticPrivate,
  Strings,
  Tagged,
  Thrower,
  Witness,
} from "./fixtures/hostile.ts";
import {
  captureLogs,
  leakChecked,
  startWithin,
  threads,
  until,
} from "./_harness.ts";
import { assertRelayError, make, rejectionOf } from "./_faults.ts";

for (
  const [forgery, what] of [
    ["null", "postMessage(null)"],
    ["error-null", 'a forged { kind: "error", error: null }'],
    ["done", 'a forged { kind: "done" }'],
    ["stopped", 'a forged { kind: "stopped" }'],
  ] as const
) {
  Deno.test(`An actor that posts ${what} on its worker's global port fails the run, not the process`, () =>
    leakChecked(async () => {
      const relay = new Relay();
      const poster = make(Poster, { forgery, count: 100_000, after: 10 });
      relay.connect(poster, new Tally());
      const { error } = await rejectionOf(relay);
      // The global port and the control channel are two channels: the
      // phase the main thread knew of may lag behind.
      const failure = assertRelayError(error, {
        actor: poster.name,
        group: "group-0",
        phase: (error as RelayError).phase,
        message: /global port \(self\.postMessage\)/,
      });
      assert.ok(["load", "startup", "loop"].includes(failure.phase));
      assert.equal(failure.actorClass, "Poster");
    }));
}

Deno.test("results() of a run an actor forged done for rejects instead of hanging", () =>
  leakChecked(async () => {
    const relay = new Relay();
    relay.connect(
      make(Poster, { forgery: "done", count: 100_000, after: 10 }),
      new Pass(),
    );
    let read = 0;
    await assert.rejects(
      (async () => {
        for await (const _ of relay.results()) read++;
      })(),
      RelayError,
    );
    assert.ok(read < 100_000, `read ${read} of 100000`);
  }));

for (const hostility of ["revoked", "prototype"] as const) {
  Deno.test(`recv() throwing a ${hostility === "revoked" ? "revoked Proxy" : "Proxy whose getPrototypeOf throws"} fails the run instead of hanging it`, () =>
    leakChecked(async () => {
      const relay = new Relay();
      const thrower = make(Thrower, { hostility });
      relay.connect(make(Source, { count: 5 }), thrower);
      const { error } = await rejectionOf(relay, 5000);
      assertRelayError(error, { actor: thrower.name, phase: "recv" });
    }));
}

Deno.test("A 20 MB error message is cut in the RelayError's message and kept whole in its cause", () =>
  leakChecked(async () => {
    const relay = new Relay();
    relay.connect(
      make(Source, { count: 1 }),
      make(Thrower, { hostility: "huge" }),
    );
    const { error } = await rejectionOf(relay);
    assert.ok(error instanceof RelayError);
    assert.ok(error.message.length < 4000, `${error.message.length} chars`);
    assert.match(error.message, /cut; the whole error is the cause/);
    assert.equal((error.cause as Error).message.length, 20 * 1024 * 1024);
  }));

/** Reasons that neither clone nor print. */
function hostileReasons(): [string, unknown][] {
  const fn = Object.assign(Object.create(null), { run: () => {} });
  const throwing = {
    toString() {
      throw new Error("no string");
    },
    fn: () => {},
  };
  const { proxy, revoke } = Proxy.revocable({}, {});
  revoke();
  return [
    ["a null-prototype object holding a function", fn],
    ["an object whose toString() throws", throwing],
    ["a revoked Proxy", proxy],
  ];
}

for (const [what, reason] of hostileReasons()) {
  Deno.test(`Aborting with ${what} settles start() with a RelayAbortError`, () =>
    leakChecked(async () => {
      for (const how of ["signal", "close"] as const) {
        const relay = new Relay({ shutdownTimeout: 1000 });
        relay.connect(make(Counter, { count: Infinity }), new Sink());
        const controller = new AbortController();
        const started = startWithin(relay, 5000, { signal: controller.signal })
          .then(() => undefined, (error) => error);
        // Aborted mid-run: once both actors are in their loop.
        await until(
          () =>
            relay.snapshot()?.actors.every((a) =>
              a.phase === "loop" || a.phase === "recv" || a.phase === "send"
            ) ?? false,
          "the counter and the sink running",
        );
        if (how === "signal") controller.abort(reason);
        else await relay.close({ reason });
        const error = await started;
        assert.ok(
          error instanceof RelayAbortError,
          `${how}: expected a RelayAbortError, got ${String(error)}`,
        );
        assert.equal(error.cause, reason);
      }
    }));
}

Deno.test("close() stops an endless input before it drains: the main thread pulls no more than the edge takes", () =>
  leakChecked(async () => {
    let pulled = 0;
    async function* endless() {
      for (;;) yield pulled++;
    }
    const relay = new Relay({ maxsize: 16, shutdownTimeout: 5000 });
    relay.connect(input<number>(), new Witness());
    const seen: number[] = [];
    const reports = (async () => {
      for await (const r of relay.reports<number | string>()) {
        if (typeof r.value === "number") seen.push(r.value);
      }
    })();
    const started = relay.start({ input: endless() }).catch((e) => e);
    await until(() => seen.length >= 100, "100 messages seen by the witness");
    const closing = performance.now();
    await relay.close();
    const error = await started;
    const drained = performance.now() - closing;
    await reports;
    assert.ok(error instanceof RelayAbortError);
    assert.deepEqual(error.terminated, [], "the sink drained in time");
    assert.ok(drained < 2000, `close() took ${drained.toFixed(0)} ms`);
    // What the sink got is every item the input pulled, bar the ones the
    // edge still held back when it stopped.
    assert.ok(
      pulled - seen.length <= 16 + 1,
      `${pulled} pulled, ${seen.length} seen`,
    );
  }));

for (const kind of ["iterable", "ReadableStream"] as const) {
  Deno.test(`An input ${kind} that throws fails the run without pills: the sink's shutdown() does not run`, () =>
    leakChecked(async () => {
      await using logs = await captureLogs(["baton"], "info");
      function* fifty() {
        for (let i = 0; i < 50; i++) yield i;
        throw new Error("the input broke");
      }
      const source = kind === "iterable"
        ? fifty()
        : ReadableStream.from(fifty());
      const relay = new Relay();
      relay.connect(input<number>(), new Witness());
      const values: (number | string)[] = [];
      const reports = (async () => {
        for await (const r of relay.reports<number | string>()) {
          values.push(r.value);
        }
      })();
      const error = await relay.start({ input: source }).then(
        () => undefined,
        (e) => e,
      );
      await reports;
      assert.ok(error instanceof RelayError, String(error));
      assert.equal(error.phase, "input");
      assert.match(error.message, /the input broke/);
      assert.ok(!values.includes("shutdown"), "the sink did not shut down");
      const pills = logs.records.filter((r) =>
        /poison pills/.test(r.message.join(""))
      );
      assert.deepEqual(pills, [], "no pill reached the sink");
    }));
}

Deno.test("Every log record of a flooding actor arrives although a sibling fails", () =>
  leakChecked(async () => {
    await using logs = await captureLogs(["baton"], "info");
    // The sibling fails once the flood is posted, so the stop finds 500,000
    // records still on their way to the main thread.
    const flooded = barrier();
    const relay = new Relay();
    relay.connect(
      make(Source, { count: 2 }),
      group([
        make(Flood, { records: 500_000, flooded }),
        make(Fails, { after: flooded }),
      ]),
    );
    const { error } = await rejectionOf(relay, 60_000);
    assert.ok(error instanceof RelayError);
    const floods = logs.records.filter((r) => r.rawMessage === "flood {i}");
    const seen = new Set(floods.map((r) => r.properties.i));
    assert.equal(floods.length, 500_000);
    assert.equal(seen.size, 500_000, "each record once");
  }));

Deno.test("A rejection that startup() leaves behind is reported as phase startup", () =>
  leakChecked(async () => {
    const relay = new Relay();
    const source = new RejectsInStartup();
    relay.connect(source, new Tally());
    const { error } = await rejectionOf(relay);
    assertRelayError(error, {
      actor: source.name,
      phase: "startup",
      message: /left behind by startup/,
    });
  }));

Deno.test("A class with /#tag/ in a method and one with a static #private member run", () =>
  leakChecked(async () => {
    const relay = new Relay();
    relay.connect(group([new Tagged(), new StaticPrivate()]), new Strings());
    const got: string[] = [];
    const reports = (async () => {
      for await (const r of relay.reports<string>()) got.push(r.value);
    })();
    await startWithin(relay, 10_000);
    await reports;
    assert.deepEqual(got.sort(), ["a tag here", "hello"]);
  }));

Deno.test("An actor made while a custom Error.prepareStackTrace is installed still finds its module", () =>
  leakChecked(async () => {
    const saved = (Error as { prepareStackTrace?: unknown }).prepareStackTrace;
    (Error as { prepareStackTrace?: unknown }).prepareStackTrace = () =>
      "a stack rewritten by a source-map library";
    let actors;
    try {
      actors = [make(Source, { count: 3 }), new Tally()] as const;
    } finally {
      (Error as { prepareStackTrace?: unknown }).prepareStackTrace = saved;
    }
    const relay = new Relay();
    relay.connect(actors[0], actors[1]);
    await startWithin(relay, 10_000);
  }));

Deno.test("A field whose getter throws, and a field named like an Actor member, are refused by name before anything starts", async () => {
  const before = await threads();
  for (
    const [actor, pattern] of [
      [
        new BadGetter(),
        /reading field "secret" of BadGetter-\d+ \(class BadGetter\) throws \(no reading\)/,
      ],
      [
        new Named(),
        /has a field named "name", which is a member of Actor; rename the field/,
      ],
    ] as const
  ) {
    const relay = new Relay();
    relay.connect(actor, new Witness());
    await assert.rejects(relay.start(), (error: Error) => {
      assert.ok(error instanceof TypeError, String(error));
      assert.match(error.message, pattern);
      return true;
    });
  }
  assert.equal(await threads(), before, "no worker was spawned");
});

Deno.test("A group asking for a permission the program lacks is refused by name before any worker exists", async () => {
  const before = await threads();
  const relay = new Relay();
  relay.connect(
    make(Source, { count: 1 }),
    group(new Tally(), { name: "fetchers", permissions: { net: true } }),
  );
  await assert.rejects(relay.start(), (error: Error) => {
    assert.ok(error instanceof TypeError, String(error));
    assert.match(
      error.message,
      /group fetchers asks for all net access, which this program was not granted; run it with --allow-net/,
    );
    return true;
  });
  assert.equal(await threads(), before, "no worker was spawned");
});

Deno.test("A script that starts a relay without the import.meta.main guard fails at once instead of forking workers", async () => {
  const script = new URL("./fixtures/unguarded.ts", import.meta.url);
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-R", script.href],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
  const output = await child.output();
  clearTimeout(timer);
  const stderr = new TextDecoder().decode(output.stderr);
  assert.notEqual(output.code, 0, "the script fails");
  assert.notEqual(output.signal, "SIGKILL", `it hung: ${stderr}`);
  assert.match(stderr, /if \(import\.meta\.main\)/);
  assert.match(stderr, /unguarded\.ts/);
  assert.doesNotMatch(new TextDecoder().decode(output.stdout), /finished/);
});
