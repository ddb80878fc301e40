import assert from "node:assert/strict";
import { relative } from "node:path";
import { fileURLToPath } from "node:url";
import { ConfigFileError, loadPipeline } from "../../config.ts";
import { group, Relay } from "../../mod.ts";
import { describePipeline } from "../../src/config/pipeline.ts";
import { Numbers, Total } from "../fixtures/pipeline/actors.ts";
import { captureLogs, leakChecked, startWithin } from "../_harness.ts";

const fixtures = new URL("../fixtures/pipeline/", import.meta.url);
const fixture = (name: string) =>
  relative(Deno.cwd(), fileURLToPath(new URL(name, fixtures)));

/** The problems of a rejected `loadPipeline()` as `line:column path: message`. */
async function problems(name: string): Promise<string[]> {
  const error = await loadPipeline(fixture(name)).then(
    () => assert.fail(`${name} loaded without error`),
    (e) => e,
  );
  assert.ok(error instanceof ConfigFileError, String(error));
  assert.equal(error.file, fixture(name));
  return error.problems.map((p) =>
    `${p.line}:${p.column} ${p.path}: ${p.message}`
  );
}

Deno.test("loadPipeline() builds the groups of a file in order and connects them, starting nothing", async () => {
  const pipeline = await loadPipeline(fixture("ok.yaml"));
  assert.equal(pipeline.file, fixture("ok.yaml"));
  assert.deepEqual(pipeline.options, {
    maxsize: 4,
    logger: ["test", "pipeline"],
    shutdownTimeout: 1000,
  });
  assert.equal(pipeline.logging, undefined);
  assert.deepEqual(
    pipeline.groups.map((
      g,
    ) => [g.name, g.className, g.count, g.maxsize, g.with]),
    [
      ["numbers", "Numbers", 2, undefined, { count: 10 }],
      ["double", "Double", 3, 2, {}],
      ["total", "Total", 1, undefined, { label: "sum" }],
    ],
  );
  assert.deepEqual(pipeline.relay.groups, ["numbers", "double", "total"]);
  const [numbers, , [total]] = pipeline.groups.map((g) => g.actors);
  assert.ok(numbers.every((a) => a instanceof Numbers));
  assert.deepEqual(numbers.map((a) => (a as Numbers).count), [10, 10]);
  assert.ok(total instanceof Total);
  assert.equal(total.label, "sum");
  // Actors are numbered in the order of the file.
  const names = pipeline.groups.flatMap((g) => g.actors.map((a) => a.name));
  const numbersOf = names.map((n) => Number(n.split("-")[1]));
  assert.deepEqual(numbersOf, [...numbersOf].sort((a, b) => a - b));
  assert.equal(pipeline.relay.snapshot(), undefined, "nothing started");
});

Deno.test("A pipeline loaded from a file runs with the fields it assigns", () =>
  leakChecked(async () => {
    await using logs = await captureLogs(["test"]);
    const pipeline = await loadPipeline(fixture("ok.yaml"));
    await startWithin(pipeline.relay, 20_000);
    // 2 sources × 0…9, doubled: 2 × 2 × 45.
    assert.deepEqual(
      logs.lines("test").filter((l) => l.includes("numbers, total")),
      [`[total] (${
        pipeline.groups[2].actors[0].name
      }) sum: 20 numbers, total 180`],
    );
  }));

Deno.test("loadPipeline() reports every problem of a file with its line and key path", async () => {
  assert.deepEqual(await problems("bad_keys.yaml"), [
    "1:10 maxsize: maxsize must be an integer from 1 to 1073741824, received 0; give a whole number of messages, such as 1024 (the default)",
    '2:9 logger: logger must be a dotted name or a non-empty list of names, none of them empty, received "ktz..ipynb"; name a LogTape category, such as app.pipeline or [app, pipeline]',
    "3:18 shutdownTimeout: shutdownTimeout must be a number of milliseconds from 0 to 2147483647, received -1; 0 terminates at once",
    '4:1 : unknown key "colour"; use one of maxsize, logger, shutdownTimeout, logging, input, transport, workers, groups',
    "8:12 groups.numbers.count: count must be a positive integer, received 0; give the number of actors of the group, such as 2",
    "11:12 groups.double.count: count must be a positive integer, received 2.5; give the number of actors of the group, such as 2",
    '12:5 groups.double: unknown key "cuont"; did you mean "count"? use one of actor, count, with, maxsize, permissions, place, retries, backoffMs, onError, restarts, recvTimeoutMs, concurrency',
    '13:14 groups.double.maxsize: maxsize must be an integer from 1 to 1073741824, received "many"; give a whole number of messages, such as 1024 (the default)',
    '14:18 groups.double.permissions: permissions must be "inherit", "none" or an object such as { read: ["./data"], net: false }, received "some"; name each permission the workers need, every other one is denied',
    '18:7 groups.total.with.labl: Total has no field "labl"; its fields are label, n, total',
    '19:7 groups.total.with.total: Total.total is a number (0), received "lots"',
  ]);
});

Deno.test("loadPipeline() refuses what the code API refuses, with the same text: timer bounds, reserved and empty group names, empty permission values", async () => {
  const found = await problems("bad_values.yaml");
  assert.deepEqual(found, [
    "2:18 shutdownTimeout: shutdownTimeout must be a number of milliseconds from 0 to 2147483647, received 2147483648; Deno runs a timer set for longer at once, give at most 2147483647 (about 24.8 days)",
    "3:10 maxsize: maxsize must be an integer from 1 to 1073741824, received 1073741825; give a whole number of messages, such as 1024 (the default)",
    `5:3 groups.input: a group name must not be "input" or "results" (the main thread's edges in the metrics), received "input"; choose another name, such as "input-stage"`,
    `6:3 groups.results: a group name must not be "input" or "results" (the main thread's edges in the metrics), received "results"; choose another name, such as "results-stage"`,
    '7:3 groups[""]: a group name must be a non-empty string, received ""; name it such as "work", or leave the name out',
    '10:26 groups.total.permissions.read: permissions.read must be "inherit", true, false or a list of allowed values (non-empty strings or URLs), received [ "./data", "" ]; an empty string grants nothing, remove it',
    '10:40 groups.total.permissions: unknown key "reed"; did you mean "read"? use one of env, ffi, import, net, read, run, sys, write',
  ]);
  // The code API's messages are the same, after the place they name.
  const message = (make: () => unknown) => {
    try {
      make();
    } catch (error) {
      return (error as Error).message.replace(/^[^:]+: /, "");
    }
    assert.fail("no error");
  };
  const text = (line: string) => line.replace(/^\S+ \S+: /, "");
  assert.equal(
    message(() => new Relay({ shutdownTimeout: 2 ** 31 })),
    text(found[0]),
  );
  assert.equal(
    message(() => new Relay({ maxsize: 2 ** 30 + 1 })),
    text(found[1]),
  );
  assert.equal(
    message(() => group(new Total(), { name: "input" })),
    text(found[2]),
  );
  assert.equal(message(() => group(new Total(), { name: "" })), text(found[4]));
  assert.equal(
    message(() =>
      group(new Total(), { permissions: { read: ["./data", ""] } })
    ),
    text(found[5]),
  );
});

Deno.test("loadPipeline() takes a group's failure policy, as group() does, and runs with it", () =>
  leakChecked(async () => {
    await using logs = await captureLogs(["test"], "info");
    const pipeline = await loadPipeline(fixture("policy.yaml"));
    assert.deepEqual(pipeline.groups.map((g) => g.policy), [
      {},
      {
        retries: 2,
        backoffMs: 1,
        onError: "skip",
        recvTimeoutMs: 5000,
        concurrency: 4,
      },
      {},
    ]);
    assert.ok(
      describePipeline(pipeline).includes(
        'Fail     ./actors.ts#Fail     retries 2, backoffMs 1, onError "skip", recvTimeoutMs 5000, concurrency 4\n',
      ),
      describePipeline(pipeline),
    );
    const dead = Array.fromAsync(pipeline.relay.deadLetters());
    await startWithin(pipeline.relay, 20_000);
    const letters = await dead;
    assert.deepEqual(letters.map((d) => [d.message, d.attempts]), [[3, 3]]);
    // 0 … 9 but 3, doubled by the sink's own count: the doubler is Fail.
    assert.deepEqual(
      logs.lines("test").filter((l) => l.includes("numbers, total")),
      [`[total] (${
        pipeline.groups[2].actors[0].name
      }) sum: 9 numbers, total 42`],
    );
  }));

Deno.test("loadPipeline() refuses a bad failure policy with the code API's text, each at its line", async () => {
  const found = await problems("bad_policy.yaml");
  assert.deepEqual(found, [
    '5:5 groups.numbers.retries: group numbers is a group of sources, which run loop() and receive no message, so retries (about the calls of recv()) means nothing there; leave retries out, or set it on a later group; a source\'s failures are handled by onError "fail" or "restart"',
    "8:14 groups.work.retries: retries must be a whole number from 0, received -1; such as 2",
    '9:16 groups.work.backoffMs: backoffMs must be a number of milliseconds from 0 to 2147483647, received "soon"; write it as a number, such as 5000',
    '10:14 groups.work.onError: onError must be "fail", "skip" or "restart", received "maybe"; "fail" fails the run, "skip" sends the message to the dead letters, "restart" starts the actor again',
    '11:15 groups.work.restarts: restarts: unknown option "within"; did you mean "withinMs"? use one of max, withinMs',
    "12:20 groups.work.recvTimeoutMs: recvTimeoutMs must be a number of milliseconds above 0, at most 2147483647, received 0; give a positive number, such as 1000",
    "13:18 groups.work.concurrency: concurrency must be a whole number from 1, received 0; such as 8",
    '16:5 groups.total.restarts: group total sets restarts, which counts restarts, but its onError is "fail"; set onError: "restart" too, or leave restarts out',
  ]);
  const message = (make: () => unknown) => {
    try {
      make();
    } catch (error) {
      return (error as Error).message.replace(/^[^:]+: /, "");
    }
    assert.fail("no error");
  };
  const text = (line: string) => line.replace(/^\S+ \S+: /, "");
  assert.equal(
    message(() => group(new Total(), { retries: -1 })),
    text(found[1]),
  );
  assert.equal(
    message(() => group(new Total(), { concurrency: 0 })),
    text(found[6]),
  );
});

Deno.test("loadPipeline() keeps group keys that are numbers in the order of the file", async () => {
  const pipeline = await loadPipeline(fixture("numbered.yaml"));
  assert.deepEqual(pipeline.groups.map((g) => g.name), ["10", "2"]);
  assert.deepEqual(pipeline.relay.groups, ["10", "2"]);
});

Deno.test("loadPipeline() reports actor modules, exports and classes it cannot use", async () => {
  const missing = new URL("nowhere.ts", fixtures).href;
  assert.deepEqual(await problems("bad_actors.yaml"), [
    `2:21 groups.missing.actor: cannot import ./nowhere.ts: no such module (${missing})`,
    '3:24 groups.unexported.actor: ./actors.ts has no export "Doubler"; its actor classes are Broken, Double, Fail, Idle, Numbers, Ticker, Total',
    "4:19 groups.plain.actor: Plain exported by ./actors.ts does not extend Actor",
    "5:20 groups.answer.actor: answer exported by ./actors.ts is a number, not a class that extends Actor",
    '6:20 groups.nohash.actor: actor must be a module and an export, as ./actors.ts#Producer; received "./actors.ts"',
    "7:18 groups.idle.actor: Idle has no recv(); the actors of every group after the first must override recv()",
  ]);
});

Deno.test("loadPipeline() refuses a first group whose actor has no loop(), naming file, line and key", async () => {
  const error = await loadPipeline(fixture("no_loop.yaml")).catch((e) => e);
  assert.ok(error instanceof ConfigFileError);
  assert.equal(
    error.message,
    `${
      fixture("no_loop.yaml")
    }:2:19: groups.first.actor: Total has no loop(); the first group's actors are sources and must override loop()`,
  );
});

Deno.test("loadPipeline() reports a constructor that throws, YAML syntax and too few groups", async () => {
  assert.deepEqual(await problems("broken.yaml"), [
    "2:20 groups.broken.actor: new Broken() throws: no resources",
  ]);
  assert.deepEqual(await problems("syntax_error.txt"), [
    "3:3 : invalid YAML: Flow map in block collection must be sufficiently indented and end with a }",
  ]);
  assert.deepEqual(await problems("one_group.yaml"), [
    "2:3 groups: a pipeline needs at least 2 groups (a source and a receiver), received 1",
  ]);
});

Deno.test("loadPipeline() reports a missing logging file at its key, and a bad one as its own", async () => {
  assert.deepEqual(await problems("missing_logging.yaml"), [
    `1:10 logging: ${
      fixture("nowhere.yaml")
    }: cannot read the logging file: no such file`,
  ]);
  const error = await loadPipeline(fixture("uses_bad_logging.yaml")).catch((
    e,
  ) => e);
  assert.ok(error instanceof ConfigFileError);
  assert.equal(error.file, fixture("bad_logging.yaml"));
  assert.equal(error.problems.length, 10);
});

Deno.test("loadPipeline() resolves worker permissions against the file", async () => {
  const pipeline = await loadPipeline(fixture("permissions.yaml"));
  const [source, sink] = pipeline.groups.map((g) => g.permissions);
  assert.equal(source, "none");
  assert.deepEqual(sink, {
    read: [fileURLToPath(new URL("data", fixtures))],
    net: false,
    env: "inherit",
  });
});

Deno.test("describePipeline() prints groups, counts, edges and options", async () => {
  const pipeline = await loadPipeline(fixture("ok.yaml"));
  assert.equal(
    await describePipeline(pipeline),
    [
      `${fixture("ok.yaml")}: 3 groups, 6 actors`,
      "  numbers  2 × Numbers  ./actors.ts#Numbers  with { count: 10 }",
      "           ↓ maxsize 2",
      "  double   3 × Double   ./actors.ts#Double",
      "           ↓ maxsize 4",
      '  total    1 × Total    ./actors.ts#Total    with { label: "sum" }',
      "logger: test.pipeline",
      "shutdown timeout: 1000 ms",
    ].join("\n"),
  );
});
