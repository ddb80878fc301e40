import assert from "node:assert/strict";
import { configure, type LogRecord, reset } from "@logtape/logtape";
import { Relay } from "../mod.ts";
import { Direct, InStartup } from "./fixtures/log_direct.ts";
import { LateLogTape } from "./fixtures/log_late.ts";
import { Drain, Forms, Nesting } from "./fixtures/log_forms.ts";
import { captureLogs, leakChecked, startWithin } from "./_harness.ts";

function text(record: LogRecord): string {
  return record.message.map((part) => String(part)).join("");
}

Deno.test("this.log in a worker takes every form of LogTape's Logger; the main thread emits the records", () =>
  leakChecked(async () => {
    await using logs = await captureLogs(["test"], "info");
    const source = new Forms();
    const relay = new Relay({ logger: "test" });
    relay.connect(source, new Drain());
    await startWithin(relay, 10_000);
    const own = logs.records.filter((r) => r.properties.actor === source.name);
    const byText = new Map(own.map((r) => [text(r), r]));
    const expected = [
      "plain",
      "hello world",
      "template 42 and text",
      "lazy 7",
      "async 8",
      "bad range",
      "with an error",
      "callback 1",
      "child",
      "context 1",
      "enabled: debug false, info true",
      "emitted",
      "at a fixed time",
    ];
    for (const line of expected) assert.ok(byText.has(line), `"${line}"`);
    assert.ok(
      !own.some((r) => text(r) === "below the level"),
      "a level the main thread does not emit is not forwarded",
    );

    const category = ["test", "group-0", source.name];
    assert.deepEqual(byText.get("hello world")!.category, category);
    assert.deepEqual(byText.get("hello world")!.properties, {
      group: "group-0",
      actor: source.name,
      who: "world",
    });
    assert.deepEqual(byText.get("child")!.category, [...category, "sub"]);
    assert.equal(byText.get("context 1")!.properties.extra, 1);
    assert.equal(byText.get("emitted")!.timestamp, 0);
    assert.equal(
      byText.get("at a fixed time")!.timestamp,
      1_000_000,
      "a record has the time of the call in the worker",
    );
    const plain = byText.get("plain")!.timestamp;
    assert.ok(
      Math.abs(plain - Date.now()) < 60_000,
      `the worker's clock, not a fixed one: ${plain}`,
    );
    assert.equal(byText.get("emitted")!.properties.emitted, true);

    const error = byText.get("bad range")!;
    assert.equal(error.level, "error");
    assert.ok(error.properties.error instanceof RangeError);
    const warning = byText.get("with an error")!;
    assert.equal(warning.level, "warning");
    assert.equal((warning.properties.error as Error).message, "bad type");

    const only = own.find((r) => r.properties.only === "properties");
    assert.ok(only, "a call with properties only");
    const uncloneable = own.find((r) => text(r).startsWith("uncloneable "));
    assert.ok(uncloneable, "a call with a value that does not clone");
    assert.match(String(uncloneable.properties.f), /answer/);
  }));

Deno.test("An actor's module that uses LogTape itself has its records forwarded", () =>
  leakChecked(async () => {
    await using logs = await captureLogs(["test"], "info");
    const relay = new Relay({ logger: "test" });
    relay.connect(
      [new Direct(), new InStartup(), new LateLogTape()],
      new Drain(),
    );
    await startWithin(relay, 10_000);
    const direct = logs.records.find((r) => r.category[1] === "direct");
    assert.ok(direct, "the record of a module-level logger");
    assert.equal(text(direct), "from a module-level logger, n = 1");
    assert.ok(
      logs.records.some((r) =>
        r.category[1] === "startup" &&
        text(r) === "from a logger created in startup()"
      ),
      "the record of a logger created in startup()",
    );
    const warning = logs.records.find((r) =>
      r.level === "warning" &&
      text(r).startsWith("LogTape was loaded in loop()")
    );
    assert.ok(warning, "LogTape loaded in loop() is named");
    assert.equal(warning.properties.phase, "loop");
  }));

Deno.test("A relay started by an actor logs through the main thread too", () =>
  leakChecked(async () => {
    await using logs = await captureLogs(["test", "nested", "baton"], "info");
    const relay = new Relay({ logger: "test" });
    relay.connect(new Nesting(), new Drain());
    await startWithin(relay, 20_000);
    const inner = logs.records
      .filter((r) => r.category[0] === "nested" && r.properties.n !== undefined)
      .map((r) => text(r));
    assert.deepEqual(inner.sort(), [
      "inner got 0",
      "inner got 1",
      "inner got 2",
    ]);
    const maintaining = logs.records.filter((r) =>
      r.category[0] === "baton" && text(r) === "relay: maintaining 2 groups"
    );
    assert.equal(maintaining.length, 2, "the outer relay's and the inner's");
    assert.ok(logs.records.some((r) => text(r) === "nested relay done"));
    assert.ok(
      !logs.records.some((r) => text(r).startsWith("LogTape was loaded")),
      "no warning: the relay loaded LogTape, set up before it logged",
    );
  }));

Deno.test("A library's LogTape records in a worker arrive for its own category, with only that category configured", () =>
  leakChecked(async () => {
    const { UsesLibrary, Quiet } = await import("./fixtures/log_library.ts");
    const records: LogRecord[] = [];
    await configure({
      reset: true,
      sinks: { memory: (record) => records.push(record) },
      loggers: [
        { category: ["app"], sinks: ["memory"], lowestLevel: "info" },
        { category: ["logtape", "meta"], sinks: [], lowestLevel: "warning" },
      ],
    });
    try {
      const relay = new Relay();
      relay.connect(new UsesLibrary(), new Quiet());
      await startWithin(relay, 10_000);
    } finally {
      await reset();
    }
    assert.deepEqual(
      records.map((r) => [r.category, r.message.join("")]),
      [[["app", "library"], "the library says hello"]],
    );
  }));
