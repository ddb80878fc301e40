import assert from "node:assert/strict";
import { Actor, Relay, RelayError } from "../mod.ts";
import { Bookends, Collect, Drop, Fields } from "./fixtures/chatty.ts";
import { makeHidden } from "./fixtures/hidden.ts";
import { captureLogs, leakChecked, startWithin, threads } from "./_harness.ts";

// Not exported on purpose: a worker cannot import it.
class Hidden extends Actor<never, number> {
  override loop(): void {}
}

export class WithPrivate extends Actor<never, number> {
  #count = 0;
  override loop(): void {
    this.#count++;
  }
}

export class WithFunction extends Actor<never, number> {
  callback = () => 1;
  override loop(): void {}
}

Deno.test("Relay copies an actor's fields into its worker, without running the constructor again", () =>
  leakChecked(async () => {
    await using logs = await captureLogs(["test"], "info");
    const fields = Object.assign(new Fields(), {
      label: "custom",
      weights: [4, 5],
    });
    const relay = new Relay({ logger: "test" });
    relay.connect(fields, new Drop());
    await startWithin(relay, 30_000);
    const record = logs.records.find((r) => r.message[0] === "fields");
    assert.ok(record, "the actor logged its fields");
    assert.deepEqual(
      { ...record.properties, actor: undefined, group: undefined },
      {
        label: "custom",
        weights: [4, 5],
        when: "1970-01-01T00:00:00.000Z",
        tags: [["a", 1]],
        isFields: true,
        actor: undefined,
        group: undefined,
      },
    );
  }));

Deno.test("Relay.start() rejects a class its module does not export, and says how to fix it", () =>
  leakChecked(async () => {
    // This test module is the main module, which is still evaluating while
    // tests run, so the worker finds the class missing, in phase load.
    const hidden = new Hidden();
    const relay = new Relay().connect(hidden, new Drop());
    await assert.rejects(relay.start(), (error: RelayError) => {
      assert.ok(error instanceof RelayError);
      assert.equal(error.phase, "load");
      assert.equal(error.actor, hidden.name);
      assert.equal(
        error.message,
        `${hidden.name} (Hidden) in group-0 failed in load(): TypeError: class Hidden is not exported by ${import.meta.url}; workers import the class from its module: add \`export\` to its declaration, and if it is declared inside a function or a block, move it to the top level of the module (or run the relay with { inline: true })`,
      );
      return true;
    });
  }));

Deno.test("Relay.start() rejects a class with #private members, naming them", async () => {
  const relay = new Relay().connect(new WithPrivate(), new Drop());
  await assert.rejects(relay.start(), {
    name: "TypeError",
    message:
      "Cannot start relay: class WithPrivate declares #count; #private members cannot be copied into an actor's worker, use ordinary fields (for example _count) instead",
  });
});

Deno.test("Relay.start() rejects a field that cannot be cloned, naming class and field", async () => {
  const actor = new WithFunction();
  const relay = new Relay().connect(actor, new Drop());
  await assert.rejects(relay.start(), (error: Error) => {
    assert.equal(error.name, "TypeError");
    assert.match(
      error.message,
      new RegExp(
        `^Cannot start relay: field "callback" of ${actor.name} \\(class WithFunction\\) cannot be copied into its worker \\(.+\\); keep fields to cloneable data and open resources in startup\\(\\)$`,
      ),
    );
    assert.equal((error.cause as Error).name, "DataCloneError");
    return true;
  });
});

Deno.test("Actor.send() outside a worker rejects with a clear error", async () => {
  const actor = new Fields();
  await assert.rejects(
    (actor as unknown as Actor<never, number>).send(1),
    {
      message:
        `Cannot send from ${actor.name}: send() works only in the actor's worker, from startup(), loop(), recv() or shutdown()`,
    },
  );
});

Deno.test("Actors are named <Class>-<n> with one counter for the process", () => {
  const a = new Fields();
  const b = new Drop();
  const n = Number(a.name.split("-")[1]);
  assert.match(a.name, /^Fields-\d+$/);
  assert.equal(b.name, `Drop-${n + 1}`);
});

Deno.test("Relay.start() rejects, before spawning, a class that another module does not export", async () => {
  const before = await threads();
  const relay = new Relay().connect(makeHidden(), new Drop());
  await assert.rejects(relay.start(), {
    name: "TypeError",
    message: `class Hidden is not exported by ${new URL(
      "./fixtures/hidden.ts",
      import.meta.url,
    )}; workers import the class from its module: add \`export\` to its declaration, and if it is declared inside a function or a block, move it to the top level of the module (or run the relay with { inline: true })`,
  });
  assert.equal(await threads(), before, "no worker was spawned");
});

Deno.test("Actors send from startup() and shutdown() as well as from loop()", () =>
  leakChecked(async () => {
    await using logs = await captureLogs(["test"], "info");
    const relay = new Relay({ logger: "test" });
    relay.connect(new Bookends(), new Collect());
    await startWithin(relay, 30_000);
    const record = logs.records.find((r) => r.message[0] === "collected");
    assert.deepEqual(record?.properties.got, ["startup", 0, 1, 2, "shutdown"]);
  }));

Deno.test("A class can name its module with static module = import.meta.url, and a bad one is refused by name", () =>
  leakChecked(async () => {
    const { Declared, BadlyDeclared } = await import(
      "./fixtures/declared.ts"
    );
    const relay = new Relay().connect(new Declared(), new Drop());
    await startWithin(relay, 30_000);
    const bad = new Relay().connect(new BadlyDeclared(), new Drop());
    await assert.rejects(bad.start(), {
      name: "TypeError",
      message:
        "Cannot start relay: class BadlyDeclared has a static module field, but it holds 42; set it to the URL of the module that exports the class: static readonly module = import.meta.url",
    });
  }));
