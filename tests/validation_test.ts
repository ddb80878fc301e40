import assert from "node:assert/strict";
import { Actor, group, input, Relay, RelayAbortError } from "../mod.ts";
import { type Item, Proxy, Source, Tally } from "./fixtures/actors.ts";
import { threads } from "./_harness.ts";

class NoLoop extends Actor<never, number> {}
class NoRecv extends Actor<number> {
  override loop(): void {}
}

function throwsTypeError(fn: () => unknown, message: string): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof TypeError, `expected a TypeError, got ${error}`);
    assert.equal(error.message, message);
    return true;
  });
}

function throwsRangeError(fn: () => unknown, message: string): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(
      error instanceof RangeError,
      `expected a RangeError, got ${error}`,
    );
    assert.equal(error.message, message);
    return true;
  });
}

const MAXSIZE =
  "maxsize must be an integer from 1 to 1073741824, received {}; give a whole number of messages, such as 1024 (the default)";

Deno.test("new Relay() rejects a maxsize that is not a positive integer", () => {
  for (
    const [value, shown] of [[0, "0"], [-1, "-1"], [1.5, "1.5"], [NaN, "NaN"], [
      2 ** 30 + 1,
      "1073741825",
    ]] as const
  ) {
    throwsRangeError(
      () => new Relay({ maxsize: value }),
      `Cannot create relay: ${MAXSIZE.replace("{}", shown)}`,
    );
  }
  throwsTypeError(
    () => new Relay({ maxsize: "10" as unknown as number }),
    `Cannot create relay: ${MAXSIZE.replace("{}", '"10"')}`,
  );
});

Deno.test("new Relay() rejects a bad logger and a bad shutdownTimeout", () => {
  for (
    const [value, shown] of [["", '""'], [[], "[]"], [
      ["app", ""],
      '[ "app", "" ]',
    ]] as const
  ) {
    throwsTypeError(
      () => new Relay({ logger: value }),
      `Cannot create relay: logger must be a name or a non-empty list of names, none of them empty, received ${shown}; name a LogTape category, such as "app" or ["app", "pipeline"]`,
    );
  }
  throwsRangeError(
    () => new Relay({ shutdownTimeout: -5 }),
    "Cannot create relay: shutdownTimeout must be a number of milliseconds from 0 to 2147483647, received -5; 0 terminates at once",
  );
  throwsTypeError(
    () => new Relay({ shutdownTimeout: "5s" as unknown as number }),
    'Cannot create relay: shutdownTimeout must be a number of milliseconds from 0 to 2147483647, received "5s"; write it as a number, such as 5000',
  );
});

Deno.test("Relay.connect() rejects bad topologies synchronously, before any worker exists", async () => {
  const before = await threads();
  const source = new Source();
  const name = source.name;
  throwsTypeError(
    () => new Relay().connect(source),
    "Cannot connect groups: a relay needs at least 2 groups (a source and a receiver), received 1",
  );
  throwsTypeError(
    // @ts-expect-error: an empty group receives nothing
    () => new Relay().connect(new Source(), []),
    "Cannot connect groups: group group-1 is empty; give it at least one actor",
  );
  throwsTypeError(
    // @ts-expect-error: a class is not an actor
    () => new Relay().connect(new Source(), Tally),
    "Cannot connect groups: group group-1 holds the class Tally, not an instance; use new Tally()",
  );
  throwsTypeError(
    // @ts-expect-error: a number is not an actor
    () => new Relay().connect(new Source(), 42),
    "Cannot connect groups: group group-1 holds 42, which is not an Actor; pass instances of classes that extend Actor",
  );
  const proxy = new Proxy();
  throwsTypeError(
    () => new Relay().connect(new Source(), [proxy, proxy], new Tally()),
    `Cannot connect groups: ${proxy.name} appears twice; each actor runs in one worker, create one instance per place`,
  );
  throwsTypeError(
    () =>
      new Relay().connect(
        new Source(),
        group(new Proxy(), { name: "x" }),
        group(new Tally(), { name: "x" }),
      ),
    'Cannot connect groups: two groups are named "x"; give each group a unique name',
  );
  const noLoop = new NoLoop();
  throwsTypeError(
    // @ts-expect-error: NoLoop sends numbers, Tally receives items
    () => new Relay().connect(noLoop, new Tally()),
    `Cannot connect groups: group group-0: ${noLoop.name} has no loop(); the first group's actors are sources and must override loop()`,
  );
  const noRecv = new NoRecv();
  throwsTypeError(
    // @ts-expect-error: NoRecv receives numbers, Source sends items
    () => new Relay().connect(new Source(), noRecv),
    `Cannot connect groups: group group-1: ${noRecv.name} has no recv(); the actors of every group after the first must override recv()`,
  );
  throwsRangeError(
    () => new Relay().connect(new Source(), group(new Tally(), { maxsize: 0 })),
    `Cannot make a group: ${MAXSIZE.replace("{}", "0")}`,
  );
  // The source of the first failed call was not attached to any relay.
  const tally = new Tally();
  new Relay().connect(source, tally);
  throwsTypeError(
    () => new Relay().connect(source, new Tally()),
    `Cannot connect groups: ${name} already belongs to another relay; create new instances for this one`,
  );
  const relay = new Relay().connect(new Source(), new Tally());
  throwsTypeError(
    () => relay.connect(new Source(), new Tally()),
    "Cannot connect groups: this relay is already connected; create a new Relay for another pipeline",
  );
  assert.equal(await threads(), before, "no worker was spawned");
});

Deno.test("Relay.start() without connect() rejects", async () => {
  await assert.rejects(new Relay().start(), {
    name: "TypeError",
    message: "Cannot start relay: it has no groups; call connect() first",
  });
});

Deno.test("Relay.connect() names groups by position or by key, in order", () => {
  const positional = new Relay().connect(
    new Source(),
    new Proxy(),
    new Tally(),
  );
  assert.deepEqual(positional.groups, ["group-0", "group-1", "group-2"]);
  const named = new Relay().connect({
    prod: new Source(),
    prep: [new Proxy(), new Proxy()],
    cons: new Tally(),
  });
  assert.deepEqual(named.groups, ["prod", "prep", "cons"]);
});

Deno.test("new Relay() refuses an unknown option, naming the closest known one", () => {
  throwsTypeError(
    // @ts-expect-error: the option is maxsize
    () => new Relay({ maxSize: 2 }),
    'Cannot create relay: unknown option "maxSize"; did you mean "maxsize"? use one of maxsize, logger, shutdownTimeout, inline',
  );
  throwsTypeError(
    // @ts-expect-error: no such option
    () => new Relay({ colour: "blue" }),
    'Cannot create relay: unknown option "colour"; use one of maxsize, logger, shutdownTimeout, inline',
  );
  throwsTypeError(
    () => new Relay(null as never),
    "Cannot create relay: options must be an object such as { maxsize: 16 }, received null; pass an object literal, or no options",
  );
});

Deno.test("new Relay() refuses a shutdownTimeout longer than a timer can wait", () => {
  for (const value of [2 ** 31, 1e10, Infinity]) {
    throwsRangeError(
      () => new Relay({ shutdownTimeout: value }),
      `Cannot create relay: shutdownTimeout must be a number of milliseconds from 0 to 2147483647, received ${value}; Deno runs a timer set for longer at once, give at most 2147483647 (about 24.8 days)`,
    );
  }
  new Relay({ shutdownTimeout: 2 ** 31 - 1 });
});

Deno.test("group() refuses unknown options, no options object, bad names and empty permission values", () => {
  const where = "Cannot make a group";
  throwsTypeError(
    // @ts-expect-error: the option is name
    () => group(new Tally(), { nmae: "sink" }),
    `${where}: unknown option "nmae"; did you mean "name"? use one of name, maxsize, permissions, retries, backoffMs, onError, restarts, recvTimeoutMs, concurrency`,
  );
  throwsTypeError(
    () => group(new Tally(), null as never),
    `${where}: options must be an object such as { name: "work", maxsize: 4 }, received null; pass an object literal, or no options`,
  );
  for (const [name, shown] of [["", '""'], [123, "123"]] as const) {
    throwsTypeError(
      () => group(new Tally(), { name: name as string }),
      `${where}: a group name must be a non-empty string, received ${shown}; name it such as "work", or leave the name out`,
    );
  }
  for (const name of ["input", "results"]) {
    throwsTypeError(
      () => group(new Tally(), { name }),
      `${where}: a group name must not be "input" or "results" (the main thread's edges in the metrics), received "${name}"; choose another name, such as "${name}-stage"`,
    );
  }
  throwsTypeError(
    () => group(new Tally(), { permissions: { read: ["./data", ""] } }),
    `${where}: permissions.read must be "inherit", true, false or a list of allowed values (non-empty strings or URLs), received [ "./data", "" ]; an empty string grants nothing, remove it`,
  );
  throwsTypeError(
    () => group(new Tally(), { permissions: { reed: true } as never }),
    `${where}: unknown permission "reed"; did you mean "read"? use one of env, ffi, import, net, read, run, sys, write`,
  );
});

Deno.test("group() checks the failure policy's options and names the fix", () => {
  const where = "Cannot make a group";
  const cases: [Record<string, unknown>, string][] = [
    [
      { retries: -1 },
      "retries must be a whole number from 0, received -1; such as 2",
    ],
    [
      { retries: 1.5 },
      "retries must be a whole number from 0, received 1.5; such as 2",
    ],
    [
      { concurrency: 0 },
      "concurrency must be a whole number from 1, received 0; such as 8",
    ],
    [
      { onError: "retry" },
      'onError must be "fail", "skip" or "restart", received "retry"; "fail" fails the run, "skip" sends the message to the dead letters, "restart" starts the actor again',
    ],
    [
      { restarts: { max: 1, within: 5 } },
      'restarts: unknown option "within"; did you mean "withinMs"? use one of max, withinMs',
    ],
    [
      { restarts: { max: -2 } },
      "restarts.max must be a whole number from 0, received -2; such as 3",
    ],
  ];
  for (const [options, message] of cases) {
    assert.throws(
      () => group(new Tally(), options as never),
      (error: Error) => {
        assert.equal(error.message, `${where}: ${message}`);
        return true;
      },
    );
  }
  assert.throws(
    () => group(new Tally(), { recvTimeoutMs: 0 }),
    /recvTimeoutMs must be a number of milliseconds above 0/,
  );
  assert.throws(
    () => group(new Tally(), { backoffMs: "1s" as never }),
    /backoffMs must be a number of milliseconds from 0/,
  );
  const g = group(new Tally(), { retries: 2, onError: "skip", concurrency: 4 });
  assert.deepEqual(g.options, { retries: 2, onError: "skip", concurrency: 4 });
});

Deno.test("Relay.connect() refuses integer keys, which JavaScript reorders, and reserved or empty keys", async () => {
  const before = await threads();
  // Written 10 then 2; JavaScript lists them 2, 10.
  throwsTypeError(
    () => new Relay().connect({ "10": new Source(), "2": new Tally() }),
    'Cannot connect groups: a group key must not be an integer, received "2"; JavaScript puts integer keys first, in numeric order, whatever the order written: use a name that is not a number, such as "stage-2"',
  );
  throwsTypeError(
    () => new Relay().connect({ input: new Source(), sink: new Tally() }),
    'Cannot connect groups: a group name must not be "input" or "results" (the main thread\'s edges in the metrics), received "input"; choose another name, such as "input-stage"',
  );
  throwsTypeError(
    () => new Relay().connect({ "": new Source(), sink: new Tally() }),
    'Cannot connect groups: a group name must be a non-empty string, received ""; name it such as "work", or leave the name out',
  );
  // A key that is not an array index keeps its place.
  const relay = new Relay().connect({ "01": new Source(), "-1": new Tally() });
  assert.deepEqual(relay.groups, ["01", "-1"]);
  assert.equal(await threads(), before, "no worker was spawned");
});

Deno.test("Relay.start() rejects bad options before any worker exists, and can start after", async () => {
  const before = await threads();
  const relay = new Relay().connect(input<Item>(), new Tally());
  const rejects = async (options: unknown, message: string) => {
    const started = relay.start(options as never);
    assert.ok(started instanceof Promise, "start() returns a promise");
    await assert.rejects(started, { name: "TypeError", message });
  };
  const where = "Cannot start relay";
  await rejects(
    null,
    `${where}: options must be an object such as { signal: AbortSignal.timeout(1000) }, received null; pass an object literal, or no options`,
  );
  await rejects(
    { inptu: [1] },
    `${where}: unknown option "inptu"; did you mean "input"? use one of signal, onAbort, input, progress`,
  );
  for (
    const [value, shown] of [[5, "5"], [null, "null"], [
      { length: 1 },
      "{ length: 1 }",
    ]]
  ) {
    await rejects(
      { input: value },
      `${where}: input must be an iterable, an async iterable or a ReadableStream, received ${shown}; pass an array, a generator or a stream of what the first group receives`,
    );
  }
  await rejects(
    { input: [1], progress: "yes" },
    `${where}: progress must be true, false or { total }, received "yes"`,
  );
  await rejects(
    { input: [1], signal: "stop" },
    `${where}: signal must be an AbortSignal, received "stop"; pass one from an AbortController or AbortSignal.timeout()`,
  );
  assert.equal(await threads(), before, "no worker was spawned");
  // The relay did not start: an aborted signal is its first refusal to run.
  await assert.rejects(
    relay.start({ input: [1], signal: AbortSignal.abort() }),
    RelayAbortError,
  );
});

Deno.test("Relay.close() rejects bad options and then closes nothing", async () => {
  const relay = new Relay().connect(new Source(), new Tally());
  const where = "Cannot close relay";
  await assert.rejects(relay.close(null as never), {
    name: "TypeError",
    message:
      `${where}: options must be an object such as { timeout: 1000 }, received null; pass an object literal, or no options`,
  });
  await assert.rejects(relay.close({ timeot: 0 } as never), {
    name: "TypeError",
    message:
      `${where}: unknown option "timeot"; did you mean "timeout"? use one of timeout, reason`,
  });
  for (
    const [value, fix] of [[-1, "0 terminates at once"], [
      2 ** 31,
      "Deno runs a timer set for longer at once, give at most 2147483647 (about 24.8 days)",
    ]] as const
  ) {
    await assert.rejects(relay.close({ timeout: value }), {
      name: "RangeError",
      message:
        `${where}: timeout must be a number of milliseconds from 0 to 2147483647, received ${value}; ${fix}`,
    });
  }
  // Not closed: it still starts (and an aborted signal stops it at once).
  await assert.rejects(
    relay.start({ signal: AbortSignal.abort() }),
    RelayAbortError,
  );
});

Deno.test("Relay.watch() refuses an interval that is not a positive number of milliseconds, at once", () => {
  const relay = new Relay();
  for (const value of [NaN, -5, 0]) {
    throwsRangeError(
      () => relay.watch(value),
      `Cannot watch the relay: intervalMs must be a number of milliseconds above 0, at most 2147483647, received ${value}; give a positive number, such as 1000`,
    );
  }
  throwsRangeError(
    () => relay.watch(2 ** 31),
    "Cannot watch the relay: intervalMs must be a number of milliseconds above 0, at most 2147483647, received 2147483648; Deno runs a timer set for longer at once, give at most 2147483647 (about 24.8 days)",
  );
});

Deno.test("Relay.results() rejects with start()'s reason when the relay cannot start, and refuses bad options at once", async () => {
  await assert.rejects(new Relay().results().next(), {
    name: "TypeError",
    message: "Cannot start relay: it has no groups; call connect() first",
  });
  const relay = new Relay().connect(new Source(), new Tally());
  throwsTypeError(
    () => relay.results({ progres: true } as never),
    'Cannot read results: unknown option "progres"; did you mean "progress"? use one of signal, onAbort, input, progress, ordered, window',
  );
  const fed = new Relay().connect(input<Item>(), new Tally());
  throwsTypeError(
    () => fed.stream({ input: [1] } as never),
    'Cannot make a stream: unknown option "input"; use one of signal, onAbort, progress, ordered, window',
  );
});
