/**
 * An actor's logger in its worker (`src/worker/forwarding_logger.ts`),
 * driven here over an in-memory port: which calls it forwards, as what data,
 * and the cloneable copies made when a call or record does not clone. No
 * worker runs here; the replay in the main thread is tested with workers.
 *
 * @module
 */

import assert from "node:assert/strict";
import type * as LogTape from "@logtape/logtape";
import { lazy, type LogLevel, type LogRecord } from "@logtape/logtape";
import type { LogCall } from "../../src/common/protocol.ts";
import {
  cloneableCall,
  cloneableProperties,
  cloneableRecord,
  forwardingLogger,
  forwardLogs,
  type LogPort,
} from "../../src/worker/forwarding_logger.ts";

/** A port that keeps what it is given. */
function memoryPort(lowest: LogLevel | null = "info") {
  const calls: LogCall[] = [];
  const records: LogRecord[] = [];
  const port: LogPort = {
    lowest,
    call: (call) => calls.push(call),
    record: (record) => records.push(record),
  };
  return { port, calls, records };
}

/** The calls without their timestamps, after checking those are now. */
function stamped(
  calls: LogCall[],
  since: number,
): Omit<LogCall, "timestamp">[] {
  const until = Date.now();
  return calls.map(({ timestamp, ...rest }) => {
    assert.ok(
      timestamp >= since && timestamp <= until,
      `timestamp ${timestamp} is the time of the call`,
    );
    return rest;
  });
}

const CATEGORY = ["test", "group-0", "Actor-1"];
const CONTEXT = { group: "group-0", actor: "Actor-1" };

Deno.test("isEnabledFor() follows the lowest level the main thread emits", () => {
  const levels: LogLevel[] = [
    "trace",
    "debug",
    "info",
    "warning",
    "error",
    "fatal",
  ];
  const on = (lowest: LogLevel | null) => {
    const log = forwardingLogger(memoryPort(lowest).port, CATEGORY);
    return levels.filter((level) => log.isEnabledFor(level));
  };
  assert.deepEqual(on("trace"), levels);
  assert.deepEqual(on("warning"), ["warning", "error", "fatal"]);
  assert.deepEqual(on("fatal"), ["fatal"]);
  assert.deepEqual(on(null), []);
});

Deno.test("A call below the lowest level forwards nothing", async () => {
  const { port, calls, records } = memoryPort("warning");
  const log = forwardingLogger(port, CATEGORY, CONTEXT);
  let evaluated = false;
  assert.equal(log.info("off"), undefined);
  assert.equal(log.debug`off ${1}`, undefined);
  const lazyCall: unknown = log.info("off {x}", () => {
    evaluated = true;
    return { x: 1 };
  });
  assert.ok(lazyCall instanceof Promise, "LogTape answers lazy properties so");
  assert.equal(await lazyCall, undefined);
  log.info((l) => {
    evaluated = true;
    return l`off`;
  });
  assert.equal(evaluated, false, "no callback runs for a level that is off");
  assert.deepEqual(calls, []);
  assert.deepEqual(records, []);
});

Deno.test("A logger with no level on forwards nothing, even errors", () => {
  const { port, calls } = memoryPort(null);
  const log = forwardingLogger(port, CATEGORY);
  log.fatal("off");
  log.error(new Error("off"));
  assert.deepEqual(calls, []);
});

Deno.test("Message calls are forwarded with their arguments as they are", () => {
  const { port, calls } = memoryPort("info");
  const log = forwardingLogger(port, CATEGORY, CONTEXT);
  const since = Date.now();
  const error = new RangeError("bad range");
  log.info("plain");
  log.info("hello {who}", { who: "world" });
  log.info({ only: "properties" });
  log.error(error);
  log.warn("with an error", error);
  log.warning("warning");
  log.fatal("fatal");
  const base = { category: CATEGORY, properties: CONTEXT, template: false };
  assert.deepEqual(stamped(calls, since), [
    { ...base, level: "info", args: ["plain"] },
    { ...base, level: "info", args: ["hello {who}", { who: "world" }] },
    { ...base, level: "info", args: [{ only: "properties" }] },
    { ...base, level: "error", args: [error] },
    { ...base, level: "warning", args: ["with an error", error] },
    { ...base, level: "warning", args: ["warning"] },
    { ...base, level: "fatal", args: ["fatal"] },
  ]);
  assert.equal(calls[3].args[0], error, "the argument itself, not a copy");
});

Deno.test("Template calls and callbacks are forwarded as templates", () => {
  const { port, calls } = memoryPort("info");
  const log = forwardingLogger(port, CATEGORY, CONTEXT);
  const since = Date.now();
  log.info`template ${42} and ${"text"}`;
  let made: unknown;
  log.info((l) => (made = l`callback ${1} of ${2}`));
  const base = {
    category: CATEGORY,
    level: "info",
    properties: CONTEXT,
    template: true,
  };
  assert.deepEqual(stamped(calls, since), [
    { ...base, args: [["template ", " and ", ""], 42, "text"] },
    { ...base, args: [["callback ", " of ", ""], 1, 2] },
  ]);
  assert.ok(Array.isArray(calls[0].args[0]) && !("raw" in calls[0].args[0]));
  assert.deepEqual(made, ["callback ", 1, " of ", 2, ""]);
});

Deno.test("A callback that does not call its prefix throws", () => {
  const { port, calls } = memoryPort("info");
  const log = forwardingLogger(port, CATEGORY);
  assert.throws(
    () => log.info(() => []),
    {
      name: "TypeError",
      message: "No log record was made: the callback did not call its prefix",
    },
  );
  assert.deepEqual(calls, []);
});

Deno.test("Lazy properties are evaluated in the worker, once per call", async () => {
  const { port, calls } = memoryPort("info");
  const log = forwardingLogger(port, CATEGORY, CONTEXT);
  const since = Date.now();
  let n = 0;
  assert.equal(log.info("lazy {n}", () => ({ n: ++n })), undefined);
  const pending = log.info("async {n}", () => Promise.resolve({ n: ++n }));
  assert.ok(pending instanceof Promise);
  assert.equal(calls.length, 1, "an async callback posts once it resolves");
  await pending;
  const counted = log.with({ n: lazy(() => ++n) });
  counted.info("context {n}");
  counted.info("context {n}");
  const base = {
    category: CATEGORY,
    level: "info",
    template: false,
  };
  assert.deepEqual(stamped(calls, since), [
    { ...base, properties: CONTEXT, args: ["lazy {n}", { n: 1 }] },
    { ...base, properties: CONTEXT, args: ["async {n}", { n: 2 }] },
    { ...base, properties: { ...CONTEXT, n: 3 }, args: ["context {n}"] },
    { ...base, properties: { ...CONTEXT, n: 4 }, args: ["context {n}"] },
  ]);
});

Deno.test("with() adds properties to a new logger of the same category", () => {
  const { port, calls } = memoryPort("info");
  const log = forwardingLogger(port, CATEGORY, CONTEXT);
  const extra = log.with({ extra: 1 }).with({ more: "x", extra: 2 });
  extra.info("context");
  log.info("original");
  assert.deepEqual(calls.map((c) => [c.category, c.properties]), [
    [CATEGORY, { ...CONTEXT, extra: 2, more: "x" }],
    [CATEGORY, CONTEXT],
  ]);
});

Deno.test("getChild() extends the category and keeps the properties; parent shortens it", () => {
  const { port, calls } = memoryPort("info");
  const log = forwardingLogger(port, CATEGORY, CONTEXT);
  log.getChild("sub").info("one");
  log.getChild(["a", "b"]).info("two");
  log.getChild("sub").getChild("leaf").info("three");
  assert.deepEqual(calls.map((c) => [c.category, c.properties]), [
    [[...CATEGORY, "sub"], CONTEXT],
    [[...CATEGORY, "a", "b"], CONTEXT],
    [[...CATEGORY, "sub", "leaf"], CONTEXT],
  ]);
  const parent = log.parent!;
  parent.info("parent");
  assert.deepEqual(calls[3].category, ["test", "group-0"]);
  assert.deepEqual(calls[3].properties, {}, "a parent has no properties");
  assert.equal(forwardingLogger(port, []).parent, null);
  assert.equal(log.getChild("sub").isEnabledFor("debug"), false);
});

Deno.test("emit() forwards a record with the logger's category and properties", () => {
  const { port, calls, records } = memoryPort("info");
  const log = forwardingLogger(port, CATEGORY, CONTEXT)
    .with({ n: lazy(() => 5) });
  log.emit({
    level: "debug",
    message: ["emitted"],
    rawMessage: "emitted",
    timestamp: 0,
    properties: { emitted: true, n: 6 },
  });
  assert.deepEqual(calls, []);
  assert.deepEqual(records, [{
    category: CATEGORY,
    level: "debug",
    message: ["emitted"],
    rawMessage: "emitted",
    timestamp: 0,
    properties: { ...CONTEXT, n: 6, emitted: true },
  }], "emitted whatever the level; the record's own properties win");
});

Deno.test("cloneableCall() renders what does not clone, key by key in property objects", () => {
  const call: LogCall = {
    category: ["a"],
    level: "info",
    timestamp: 1,
    properties: { f() {}, ok: 1 },
    template: false,
    args: [
      "m {f}",
      { f: () => 1, g: 2 },
      Symbol("s"),
      function named() {},
      [() => 4],
      7,
    ],
  };
  assert.deepEqual(cloneableCall(call), {
    category: ["a"],
    level: "info",
    timestamp: 1,
    properties: { f: "[Function: f]", ok: 1 },
    template: false,
    args: [
      "m {f}",
      { f: "[Function: f]", g: 2 },
      "Symbol(s)",
      "[Function: named]",
      "[ [Function (anonymous)] ]",
      7,
    ],
  });
  const copy = cloneableCall(call);
  assert.deepEqual(structuredClone(copy), copy, "the copy clones");
});

Deno.test("cloneableCall() keeps a template's strings", () => {
  const strings = ["value ", ""];
  const copy = cloneableCall({
    category: ["a"],
    level: "info",
    timestamp: 1,
    properties: {},
    template: true,
    args: [strings, () => 1],
  });
  assert.equal(copy.args[0], strings);
  assert.deepEqual(copy.args, [strings, "[Function (anonymous)]"]);
});

Deno.test("cloneableProperties() copies the properties, rendering what does not clone", () => {
  const data = { list: [1] };
  const copy = cloneableProperties({ data, s: Symbol("x"), n: null });
  assert.deepEqual(copy, { data: { list: [1] }, s: "Symbol(x)", n: null });
  assert.equal(copy.data, data, "a value that clones is kept as it is");
});

Deno.test("cloneableRecord() renders the values of the message and the properties", () => {
  const record: LogRecord = {
    category: ["a"],
    level: "info",
    message: ["x ", () => 1, " y ", 2, ""],
    rawMessage: ["x ", " y ", ""] as unknown as TemplateStringsArray,
    timestamp: 3,
    properties: { f: () => 1, ok: true },
  };
  assert.deepEqual(cloneableRecord(record), {
    category: ["a"],
    level: "info",
    message: ["x ", "[Function (anonymous)]", " y ", "2", ""],
    rawMessage: "x {} y {}",
    timestamp: 3,
    properties: { f: "[Function: f]", ok: true },
  });
  assert.equal(
    cloneableRecord({ ...record, rawMessage: "as {text}" }).rawMessage,
    "as {text}",
  );
});

Deno.test("forwardLogs() sets LogTape up to send every record from the lowest level to the port", () => {
  const configs: LogTape.Config<string, string>[] = [];
  const module = {
    configureSync: (config: LogTape.Config<string, string>) =>
      void configs.push(config),
  } as unknown as typeof LogTape;
  const posted: LogRecord[] = [];
  forwardLogs(module, (record) => posted.push(record), "debug");
  forwardLogs(module, () => {}, null);
  const [config, silent] = configs;
  assert.equal(config.reset, true);
  assert.deepEqual(Object.keys(config.sinks), ["relay"]);
  assert.deepEqual(config.loggers, [
    { category: [], sinks: ["relay"], lowestLevel: "debug" },
    { category: ["logtape", "meta"], sinks: ["relay"], lowestLevel: "warning" },
  ]);
  assert.equal(silent.loggers[0].lowestLevel, "warning", "none on: warning");
  const record = {
    category: ["x"],
    level: "info",
    message: ["m"],
    rawMessage: "m",
    timestamp: 0,
    properties: {},
  } as LogRecord;
  config.sinks.relay(record);
  assert.deepEqual(posted, [record]);
  assert.equal(posted[0], record);
});
