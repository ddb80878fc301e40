import assert from "node:assert/strict";
import {
  configure,
  getConsoleSink,
  type LogRecord,
  reset,
} from "@logtape/logtape";
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
        const text = r.message.join("");
        const lifecycle = /^(sent|got) /.test(text) ? [] : ["lifecycle"];
        assert.deepEqual(r.category, [
          "test",
          ...lifecycle,
          r.properties.group,
          r.properties.actor,
        ], text);
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

Deno.test("The lifecycle lines have a category of their own: a configuration keeps the actor's records and drops them, or the other way round", () =>
  leakChecked(async () => {
    const records: LogRecord[] = [];
    for (const keep of ["actor", "lifecycle"] as const) {
      records.length = 0;
      await configure({
        reset: true,
        sinks: { memory: (record) => records.push(record) },
        loggers: [
          { category: ["test"], sinks: ["memory"], lowestLevel: "debug" },
          {
            category: ["test", "lifecycle"],
            sinks: keep === "lifecycle" ? ["memory"] : [],
            parentSinks: "override",
            lowestLevel: keep === "lifecycle" ? "info" : "warning",
          },
          { category: ["logtape", "meta"], sinks: [], lowestLevel: "warning" },
        ],
      });
      try {
        const relay = new Relay({ logger: "test" });
        relay.connect(Object.assign(new Chatty(), { count: 3 }), new Echo());
        await startWithin(relay, 10_000);
      } finally {
        await reset();
      }
      const texts = records.map((r) => r.message.join(""));
      const lifecycle = texts.filter((t) =>
        /^(starting up|running loop|received \d+\/\d+ poison pills|leaving loop|shutting down|shut down complete)$/
          .test(t)
      );
      const own = texts.filter((t) => /^(sent|got) /.test(t));
      assert.equal(own.length, 6, `${keep}: the actors' own records`);
      if (keep === "actor") {
        assert.deepEqual(lifecycle, [], "no lifecycle line");
      } else {
        assert.equal(lifecycle.length, 11, texts.join("; "));
      }
    }
  }));

Deno.test("A program whose import map pins LogTape 1.x gets a clear error naming the version to use", async () => {
  const dir = `/tmp/baton-tests/logtape1-${Deno.pid}`;
  await Deno.mkdir(dir, { recursive: true });
  try {
    const root = JSON.parse(
      await Deno.readTextFile(new URL("../deno.json", import.meta.url)),
    ) as { imports: Record<string, string> };
    await Deno.writeTextFile(
      `${dir}/deno.json`,
      JSON.stringify({
        imports: {
          ...root.imports,
          "@logtape/logtape": "npm:@logtape/logtape@1.3.11",
        },
      }),
    );
    const mod = new URL("../mod.ts", import.meta.url).href;
    await Deno.writeTextFile(
      `${dir}/main.ts`,
      `import { Relay } from "${mod}";\nconsole.log(typeof Relay);\n`,
    );
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--config", `${dir}/deno.json`, "-R", `${dir}/main.ts`],
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).output();
    const stderr = new TextDecoder().decode(out.stderr);
    assert.notEqual(out.code, 0, "the program does not run on LogTape 1.x");
    assert.match(
      stderr,
      /baton needs LogTape 2\.4 or later \(@logtape\/logtape@\^2\.4\.2\), but this program loads one without .*isEnabledFor/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
