import assert from "node:assert/strict";
import { Actor, group, Relay } from "../mod.ts";
import { Proxy, Source, Tally } from "./fixtures/actors.ts";
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

Deno.test("new Relay() rejects a maxsize that is not a positive integer", () => {
  for (
    const [value, shown] of [[0, "0"], [-1, "-1"], [1.5, "1.5"], [NaN, "NaN"], [
      "10",
      '"10"',
    ]]
  ) {
    throwsRangeError(
      () => new Relay({ maxsize: value as number }),
      `Cannot create relay: maxsize must be a positive integer, received ${shown}`,
    );
  }
});

Deno.test("new Relay() rejects a bad logger and a bad shutdownTimeout", () => {
  throwsTypeError(
    () => new Relay({ logger: "" }),
    'Cannot create relay: logger must be a non-empty string or array of strings, received ""',
  );
  throwsRangeError(
    () => new Relay({ shutdownTimeout: -5 }),
    "Cannot create relay: shutdownTimeout must be a non-negative number of milliseconds, received -5",
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
    `Cannot connect groups: ${noLoop.name} is in the first group (group-0) but has no loop(); a source must override loop()`,
  );
  const noRecv = new NoRecv();
  throwsTypeError(
    // @ts-expect-error: NoRecv receives numbers, Source sends items
    () => new Relay().connect(new Source(), noRecv),
    `Cannot connect groups: ${noRecv.name} in group group-1 has no recv(); every actor after the first group must override recv()`,
  );
  throwsRangeError(
    () => new Relay().connect(new Source(), group(new Tally(), { maxsize: 0 })),
    "Cannot connect groups: group group-1: maxsize must be a positive integer, received 0",
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
