import assert from "node:assert/strict";
import { configure, getConsoleSink, reset } from "@logtape/logtape";
import { plainFormatter, Relay } from "../mod.ts";
import { Chatty, Echo } from "./fixtures/chatty.ts";
import { Source, Tally } from "./fixtures/actors.ts";
import { captureLogs, leakChecked, startWithin } from "./_harness.ts";

Deno.test("Relay logs its lifecycle and each actor's phases like the original", () =>
  leakChecked(async () => {
    await using logs = await captureLogs(["test", "baton"], "info");
    const sources = [new Source(), new Source(), new Source()];
    const sink = new Tally();
    const relay = new Relay({ logger: "test" });
    relay.connect(sources, sink);
    await startWithin(relay, 10_000);
    const baton = logs.lines("baton");
    assert.deepEqual(baton, [
      "relay: maintaining 2 groups",
      "relay: starting workers",
      "relay: waiting for 4 workers to finish",
      "relay: finished",
    ]);
    const sinkLines = logs.lines("test").filter((l) =>
      l.startsWith(`[group-1] (${sink.name})`)
    );
    assert.deepEqual(sinkLines, [
      `[group-1] (${sink.name}) starting up`,
      `[group-1] (${sink.name}) running loop`,
      `[group-1] (${sink.name}) received 1/3 poison pills`,
      `[group-1] (${sink.name}) received 2/3 poison pills`,
      `[group-1] (${sink.name}) received 3/3 poison pills`,
      `[group-1] (${sink.name}) leaving loop`,
      `[group-1] (${sink.name}) shutting down`,
      `[group-1] (${sink.name}) tally`,
      `[group-1] (${sink.name}) shut down complete`,
    ]);
    for (const source of sources) {
      assert.deepEqual(
        logs.lines("test").filter((l) => l.includes(`(${source.name})`)),
        [
          "starting up",
          "running loop",
          "leaving loop",
          "shutting down",
          "shut down complete",
        ]
          .map((m) => `[group-0] (${source.name}) ${m}`),
      );
    }
  }));

Deno.test("Relay emits every actor's records in the main thread, in order per actor, before start() settles", () =>
  leakChecked(async () => {
    await using logs = await captureLogs(["test"], "debug");
    const count = 2000;
    const sources = [
      Object.assign(new Chatty(), { count }),
      Object.assign(new Chatty(), { count }),
    ];
    const sinks = [new Echo(), new Echo(), new Echo()];
    const relay = new Relay({ logger: "test" });
    relay.connect(sources, sinks);
    await startWithin(relay, 20_000);
    const settledWith = logs.records.length;
    for (const source of sources) {
      const sent = logs.records
        .filter((r) =>
          r.properties.actor === source.name &&
          String(r.message[0]).startsWith("sent ")
        )
        .map((r) => Number(String(r.message[0]).slice(5)));
      assert.deepEqual(
        sent,
        Array.from({ length: count }, (_, i) => i),
        `${source.name} in order`,
      );
    }
    const got = logs.records.filter((r) =>
      String(r.message[0]).startsWith("got ")
    ).length;
    assert.equal(got, 2 * count, "every record of every sink");
    for (const r of logs.records) {
      if (typeof r.properties.actor === "string") {
        assert.deepEqual(r.category, [
          "test",
          r.properties.group,
          r.properties.actor,
        ]);
      }
    }
    assert.equal(
      logs.records.length,
      settledWith,
      "nothing arrived after start() settled",
    );
  }));

Deno.test("plainFormatter prints the notebook's plain format", async () => {
  const lines: string[] = [];
  const original = console.info;
  await configure({
    reset: true,
    sinks: { console: getConsoleSink({ formatter: plainFormatter }) },
    loggers: [
      { category: "test", sinks: ["console"], lowestLevel: "info" },
      { category: ["logtape", "meta"], sinks: [], lowestLevel: "warning" },
    ],
  });
  console.info = (line: string) => lines.push(line);
  try {
    const { getLogger } = await import("@logtape/logtape");
    getLogger(["test", "group-0", "Producer-1"]).with({
      group: "group-0",
      actor: "Producer-1",
    }).info("starting up");
    getLogger(["test"]).info("hello {who}!", { who: "world" });
  } finally {
    console.info = original;
    await reset();
  }
  assert.match(
    lines[0],
    new RegExp(
      `^\\[\\d\\d:\\d\\d:\\d\\d\\] \\[${Deno.pid}\\] test - \\[group-0\\] \\(Producer-1\\) starting up$`,
    ),
  );
  assert.match(
    lines[1],
    new RegExp(
      `^\\[\\d\\d:\\d\\d:\\d\\d\\] \\[${Deno.pid}\\] test - hello world!$`,
    ),
  );
});
