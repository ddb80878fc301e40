/**
 * Least privilege: a group's workers run with permissions narrower than the
 * main program's (`group(actors, { permissions })`), and a missing
 * `--unstable-worker-options` flag is a clear error, not a dead process.
 * Also the faults that need a process of their own (docs/faults.md F8, R12,
 * F21).
 *
 * @module
 */

import assert from "node:assert/strict";
import { group, Relay } from "../mod.ts";
import { Counter, Reader } from "./fixtures/faults.ts";
import { Count, Double, Sum } from "./fixtures/lean_actors.ts";
import { leakChecked, startWithin } from "./_harness.ts";
import { assertRelayError, make, rejectionOf, watchLogs } from "./_faults.ts";

const root = new URL("../", import.meta.url);
const RUN_MAIN = new URL("./fixtures/run_main.ts", import.meta.url).pathname;

/** What a sandboxed group needs to load the fixtures: their modules. */
const MODULES = ["tests/fixtures/", "mod.ts", "src/"].map((p) =>
  new URL(p, root)
);

Deno.test("an actor in a sandboxed group fails with a RelayError when it reads what it was not granted; its neighbour reads it", () =>
  leakChecked(async () => {
    await using logs = await watchLogs();
    const target = new URL("deno.json", root).pathname;
    const trusted = make(Reader, { path: target });
    const sandboxed = make(Reader, { path: target });
    const relay = new Relay({ logger: "test" });
    relay.connect(
      make(Counter, { count: 1 }),
      trusted,
      group([sandboxed], { name: "sandbox", permissions: { read: MODULES } }),
    );
    const { error } = await rejectionOf(relay);
    const e = assertRelayError(error, {
      actor: sandboxed.name,
      group: "sandbox",
      phase: "recv",
      cause: "NotCapable",
    });
    assert.match(
      e.message,
      /failed in recv\(\) on message \{ from: "Counter-\d+", seq: 0 \}: NotCapable: Requires read access to ".*deno\.json".*; group sandbox runs with its own permissions: grant it there, in group\(actors, \{ permissions \}\)$/,
    );
    const [read] = logs.props("read", trusted.name);
    assert.equal(
      read?.isFile,
      true,
      "the neighbour with the permission read it",
    );
  }));

Deno.test("a sandboxed group whose actors import @baton/relay/actor is told to grant baton's entry, and runs once it is granted", () =>
  leakChecked(async () => {
    await using _logs = await watchLogs();
    const entry = new URL("actor.ts", root).pathname;
    // The actors' folder and baton's src/, not the entry their module imports.
    const narrow = [new URL("tests/fixtures/", root), new URL("src/", root)];
    const refused = new Relay({ logger: "test" });
    const double = new Double();
    refused.connect(
      Object.assign(new Count(), { count: 10 }),
      group([double], { name: "sandbox", permissions: { read: narrow } }),
      new Sum(),
    );
    const { error } = await rejectionOf(refused);
    const e = assertRelayError(error, {
      actor: double.name,
      group: "sandbox",
      phase: "load",
    });
    assert.ok(
      e.message.includes(`(${entry} was denied)`),
      `the denied entry is named: ${e.message}`,
    );
    assert.ok(
      e.message.includes(
        `read: [new URL("./", import.meta.url), ${
          JSON.stringify(root.pathname)
        }]`,
      ),
      `baton's folder is in the example: ${e.message}`,
    );
    const granted = new Relay({ logger: "test" });
    granted.connect(
      Object.assign(new Count(), { count: 10 }),
      group([new Double()], {
        name: "sandbox",
        permissions: { read: [...narrow, new URL("actor.ts", root)] },
      }),
      new Sum(),
    );
    const reports = Array.fromAsync(granted.reports<number>());
    await startWithin(granted, 20_000);
    assert.deepEqual((await reports).map((r) => r.value), [2 * 45]);
  }));

Deno.test("a sandboxed group with the permission it needs runs to completion", () =>
  leakChecked(async () => {
    await using logs = await watchLogs();
    const target = new URL("deno.json", root);
    const reader = make(Reader, { path: target.pathname });
    const relay = new Relay({ logger: "test" });
    relay.connect(
      make(Counter, { count: 3 }),
      group([reader], {
        name: "sandbox",
        permissions: { read: [...MODULES, target] },
      }),
    );
    await startWithin(relay, 10_000);
    assert.equal(logs.props("read", reader.name).length, 3);
  }));

/** Runs `tests/fixtures/run_main.ts <scenario>` with Deno `flags`. */
async function subprocess(
  flags: string[],
  scenario: string,
): Promise<{ code: number; stdout: string; stderr: string; ms: number }> {
  const started = performance.now();
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", ...flags, RUN_MAIN, scenario],
    cwd: root.pathname,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder();
  return {
    code: out.code,
    stdout: text.decode(out.stdout),
    stderr: text.decode(out.stderr),
    ms: performance.now() - started,
  };
}

Deno.test("per-group permissions without --unstable-worker-options", async (t) => {
  await t.step(
    "are a clear error when the relay can read its command line",
    async () => {
      const run = await subprocess(["-A"], "sandbox");
      assert.equal(run.code, 0, run.stderr);
      const outcome = JSON.parse(run.stdout);
      assert.equal(outcome.name, "TypeError");
      assert.equal(
        outcome.message,
        'Cannot start relay: group group-1 has its own permissions, which Deno grants workers only with the --unstable-worker-options flag; run with deno run --unstable-worker-options … (or add "unstable": ["worker-options"] to deno.json)',
      );
    },
  );
  await t.step(
    "end the process with Deno's message naming the flag when it cannot (documented limit)",
    async () => {
      const run = await subprocess(["-R"], "sandbox");
      assert.equal(run.code, 70);
      assert.match(
        run.stderr,
        /The `--unstable-worker-options` flag must be provided/,
      );
    },
  );
  await t.step("run with the flag", async () => {
    const run = await subprocess(
      ["-R", "--unstable-worker-options"],
      "sandbox",
    );
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(JSON.parse(run.stdout), { ok: true });
  });
});

Deno.test("F21: a worker without read access to its actor's module fails with phase load, naming the flag", async () => {
  const src = new URL("src/", root).pathname;
  const run = await subprocess([`--allow-read=${src}`], "plain");
  assert.equal(run.code, 0, run.stderr);
  const outcome = JSON.parse(run.stdout);
  assert.equal(outcome.phase, "load");
  assert.match(
    outcome.message,
    /^(Counter|Sink)-\d+ \((Counter|Sink)\) in group-[01] failed in load\(\) of file:\/\/\/.*\/tests\/fixtures\/faults\.ts: TypeError: Requires read access to ".*\/tests\/fixtures\/faults\.ts", run again with the --allow-read flag; the worker of (Counter|Sink)-\d+ needs read access to its modules: run with --allow-read \(-R\), or at least --allow-read=.*\/tests\/fixtures\/faults\.ts$/,
  );
});

Deno.test("F8: an actor that runs out of memory ends the process within 5 s with V8's message (documented limit)", async () => {
  const run = await subprocess(
    ["-R", "--v8-flags=--max-old-space-size=64"],
    "oom",
  );
  assert.notEqual(run.code, 0);
  assert.equal(run.stdout, "", "start() never settled: the process died");
  assert.match(
    run.stderr,
    /Fatal JavaScript out of memory: Reached heap limit/,
  );
  assert.ok(run.ms < 5000, `ended in ${run.ms} ms`);
});

Deno.test('R12: under onError "restart", an actor that runs out of memory still ends the process within 5 s (documented limit: no heap limit per worker)', async () => {
  const run = await subprocess(
    ["-R", "--v8-flags=--max-old-space-size=64"],
    "oom-restart",
  );
  assert.notEqual(run.code, 0);
  assert.equal(run.stdout, "", "start() never settled: the process died");
  assert.match(
    run.stderr,
    /Fatal JavaScript out of memory: Reached heap limit/,
  );
  assert.ok(run.ms < 5000, `ended in ${run.ms} ms`);
});
