import assert from "node:assert/strict";
import { relative } from "node:path";
import { fileURLToPath } from "node:url";
import { getLogger, type LogRecord, reset } from "@logtape/logtape";
import {
  ConfigFileError,
  configureLogging,
  configureLoggingFrom,
} from "../../config.ts";
import { plainFormatter, Relay } from "../../mod.ts";
import { formatting } from "../../src/config/log_format.ts";
import { Numbers, Total } from "../fixtures/pipeline/actors.ts";
import { tempDir } from "../fixtures/pipeline/temp.ts";
import { leakChecked, startWithin } from "../_harness.ts";

const fixtures = new URL("../fixtures/pipeline/", import.meta.url);
const fixture = (name: string) =>
  relative(Deno.cwd(), fileURLToPath(new URL(name, fixtures)));

const lines = async (path: string) =>
  (await Deno.readTextFile(path)).split("\n").filter((l) => l !== "");

/** The problems of a `ConfigFileError` as `line:column path: message`. */
async function problems(promise: Promise<unknown>): Promise<string[]> {
  const error = await promise.then(
    () => assert.fail("expected a ConfigFileError"),
    (e) => e,
  );
  assert.ok(error instanceof ConfigFileError, String(error));
  return error.problems.map((p) =>
    `${p.line ?? "-"}:${p.column ?? "-"} ${p.path}: ${p.message}`
  );
}

function record(
  category: string[],
  message: string,
  level: LogRecord["level"] = "info",
  properties: Record<string, unknown> = {},
  timestamp = new Date(2024, 0, 2, 3, 4, 5, 67).getTime(),
): LogRecord {
  return {
    category,
    level,
    message: [message],
    rawMessage: message,
    timestamp,
    properties,
  };
}

Deno.test("configureLogging() writes a relay's records to a log file in the configured format", async () => {
  await using dir = await tempDir("log-");
  const conf = `${dir.path}/logging.yaml`;
  await Deno.writeTextFile(
    conf,
    [
      "formatters:",
      "  notebook:",
      '    format: "[%(asctime)s] [%(process)d] %(name)s - %(message)s"',
      '    datefmt: "%H:%M:%S"',
      "handlers:",
      "  file: { class: file, filename: relay.log, formatter: notebook }",
      "loggers:",
      "  ktz.ipynb: { level: INFO }",
      "  baton: { level: INFO }",
      "root: { level: WARNING, handlers: [file] }",
    ].join("\n"),
  );
  const source = Object.assign(new Numbers(), { count: 3 });
  const sink = new Total();
  // File I/O starts runtime threads of its own: it stays outside the leak check.
  await configureLogging(conf);
  try {
    await leakChecked(async () => {
      const relay = new Relay({ logger: ["ktz", "ipynb"], maxsize: 2 });
      relay.connect({ prod: source, cons: sink });
      await startWithin(relay, 20_000);
    });
  } finally {
    await reset(); // flushes and closes the file
  }
  const written = await lines(`${dir.path}/relay.log`);
  const line = new RegExp(
    String
      .raw`^\[\d\d:\d\d:\d\d\] \[${Deno.pid}\] (ktz\.ipynb|baton) - (.*)$`,
  );
  for (const l of written) assert.match(l, line);
  const messages = (name: string) =>
    written.map((l) => line.exec(l)!).filter((m) => m[1] === name).map((
      m,
    ) => m[2]);
  const of = (actor: string) =>
    messages("ktz.ipynb").filter((m) => m.includes(`(${actor})`));
  assert.deepEqual(of(source.name), [
    `[prod] (${source.name}) starting up`,
    `[prod] (${source.name}) running loop`,
    `[prod] (${source.name}) leaving loop`,
    `[prod] (${source.name}) shutting down`,
    `[prod] (${source.name}) shut down complete`,
  ]);
  assert.deepEqual(of(sink.name), [
    `[cons] (${sink.name}) starting up`,
    `[cons] (${sink.name}) running loop`,
    `[cons] (${sink.name}) received 1/1 poison pills`,
    `[cons] (${sink.name}) leaving loop`,
    `[cons] (${sink.name}) shutting down`,
    `[cons] (${sink.name}) total: 3 numbers, total 3`,
    `[cons] (${sink.name}) shut down complete`,
  ]);
  const relayLines = messages("baton");
  assert.equal(relayLines[0], "relay: maintaining 2 groups");
  assert.equal(relayLines.at(-1), "relay: finished");
  // "relay: <actor> finished" is a debug record: below INFO, not written.
  assert.deepEqual(relayLines.filter((m) => /-\d+ finished/.test(m)), []);
});

Deno.test("The shipped conf/logging.yaml prints the notebook's plain format and opens no file", async () => {
  const printed: string[] = [];
  const info = console.info;
  console.info = (text: string) => printed.push(text);
  try {
    await configureLogging(new URL("../../conf/logging.yaml", import.meta.url));
    getLogger(["baton"]).info("relay: maintaining 2 groups");
    getLogger(["example", "group-0", "Producer-1"])
      .with({ group: "group-0", actor: "Producer-1" })
      .info("starting up");
    getLogger(["baton"]).debug("relay: Producer-1 finished");
    getLogger(["elsewhere"]).info("below the root's WARNING");
  } finally {
    console.info = info;
    await reset();
  }
  const time = String.raw`\[\d\d:\d\d:\d\d\]`;
  assert.equal(printed.length, 2, printed.join("\n"));
  assert.match(
    printed[0],
    new RegExp(
      `^${time} \\[${Deno.pid}\\] baton - relay: maintaining 2 groups$`,
    ),
  );
  assert.match(
    printed[1],
    new RegExp(
      `^${time} \\[${Deno.pid}\\] example - \\[group-0\\] \\(Producer-1\\) starting up$`,
    ),
  );
  const log = new URL("../../baton.log", import.meta.url);
  assert.equal(
    await Deno.stat(log).then(() => true, () => false),
    false,
    "the file handler is defined but used by no logger: never opened",
  );
});

Deno.test("A Python format string renders attributes, widths and date codes", () => {
  const { formatter } = formatting();
  const actor = record(
    ["ktz", "ipynb", "group-0", "Producer-1"],
    "starting up",
    "warning",
    { group: "group-0", actor: "Producer-1" },
  );
  assert.equal(
    formatter(
      "%(asctime)s|%(levelname)-8s|%(levelno)d|%(msecs)03d|%(name)s|%(message)s|%(process)d|%%",
      "%Y-%m-%d %H:%M:%S",
    )(actor),
    `2024-01-02 03:04:05|WARNING |30|067|ktz.ipynb|[group-0] (Producer-1) starting up|${Deno.pid}|%\n`,
  );
  assert.equal(
    formatter("%(asctime)s %(levelname)s %(created).3f")(
      record(["baton"], "x", "fatal"),
    ),
    `2024-01-02 03:04:05,067 CRITICAL ${(actor.timestamp / 1000).toFixed(3)}\n`,
  );
  assert.equal(
    formatter("%(name)s: %(message)s", "%d/%m/%y %I %p")(record(["a"], "m")),
    "a: m\n",
  );
  assert.equal(
    formatter("%(asctime)s", "%d/%m/%y %I%p %j %a %b")(record(["a"], "m")),
    "02/01/24 03AM 002 Tue Jan\n",
  );
});

Deno.test("The notebook's format string renders exactly as plainFormatter", () => {
  const { formatter } = formatting();
  const notebook = formatter(
    "[%(asctime)s] [%(process)d] %(name)s - %(message)s",
    "%H:%M:%S",
  );
  for (
    const r of [
      record(
        ["ktz", "ipynb", "group-1", "Consumer-2"],
        "received 1/1 poison pills",
        "info",
        {
          group: "group-1",
          actor: "Consumer-2",
        },
      ),
      record(["baton"], "relay: finished"),
    ]
  ) {
    assert.equal(notebook(r), plainFormatter(r));
  }
});

Deno.test("Logging follows Python's levels: inherited levels, handler levels, propagate", async () => {
  await using dir = await tempDir("log-");
  const file = (name: string) => ({
    class: "file",
    filename: name,
    formatter: "short",
  });
  await configureLoggingFrom({
    formatters: { short: { format: "%(levelname)s %(name)s %(message)s" } },
    handlers: {
      all: file("all.log"),
      errors: { ...file("errors.log"), level: "ERROR" },
      own: file("own.log"),
    },
    loggers: {
      app: { level: "DEBUG", handlers: ["errors"] },
      "app.quiet": { level: "WARNING" },
      private: { level: "INFO", handlers: ["own"], propagate: false },
    },
    root: { level: "INFO", handlers: ["all"] },
  }, { base: dir.path });
  try {
    getLogger(["app", "sub"]).debug("a"); // app's DEBUG, inherited
    getLogger(["app", "quiet"]).info("b"); // below app.quiet's WARNING
    getLogger(["app", "quiet"]).error("c"); // to errors and all
    getLogger(["private"]).info("d"); // own only: it does not propagate
    getLogger(["other"]).debug("e"); // below the root's INFO
    getLogger(["other"]).warn("f");
  } finally {
    await reset();
  }
  assert.deepEqual(await lines(`${dir.path}/all.log`), [
    "DEBUG app.sub a",
    "ERROR app.quiet c",
    "WARNING other f",
  ]);
  assert.deepEqual(await lines(`${dir.path}/errors.log`), [
    "ERROR app.quiet c",
  ]);
  assert.deepEqual(await lines(`${dir.path}/own.log`), ["INFO private d"]);
});

Deno.test("configureLogging() reports every problem of a file with its line and key", async () => {
  const file = fixture("bad_logging.yaml");
  const error = await configureLogging(file).catch((e) => e);
  assert.ok(error instanceof ConfigFileError);
  assert.equal(error.file, file);
  assert.deepEqual(
    error.problems.map((p) => `${p.line}:${p.column} ${p.path}: ${p.message}`),
    [
      '4:13 formatters.plain.format: unknown attribute "%(nme)"; use one of asctime, created, levelname, levelno, message, msecs, name, process, relativeCreated',
      '5:14 formatters.plain.datefmt: unknown date code "%Q"; use one of %a %A %b %B %d %f %H %I %j %m %M %p %S %U %w %W %y %Y %z %%',
      '8:5 formatters.short: unknown key "style"; use one of format, datefmt',
      '12:16 handlers.console.formatter: unknown formatter "fancy"; use one of plain, short',
      '13:13 handlers.console.stream: unknown stream "ext://sys.stdnowhere"; use ext://sys.stdout or ext://sys.stderr',
      "14:3 handlers.file: a file handler needs a filename (relative to this file)",
      '18:12 handlers.sock.class: unknown handler class "socket"; use one of console, file, logging.StreamHandler, logging.FileHandler',
      '21:12 loggers.ktz.level: unknown level "LOUD"; use one of NOTSET, TRACE, DEBUG, INFO, WARNING, ERROR, CRITICAL',
      '22:25 loggers.ktz.handlers[1]: unknown handler "nowhere"; use one of console, file, sock',
      '23:16 loggers.ktz.propagate: expected true or false, received "maybe"',
    ],
  );
  assert.equal(
    error.message.split("\n")[7],
    `${file}:21:12: loggers.ktz.level: unknown level "LOUD"; use one of NOTSET, TRACE, DEBUG, INFO, WARNING, ERROR, CRITICAL`,
  );
});

Deno.test("configureLogging() reports YAML syntax errors, missing files and unwritable logs", async () => {
  assert.deepEqual(
    await problems(configureLogging(fixture("syntax_error_logging.txt"))),
    [
      "4:1 : invalid YAML: Flow sequence in block collection must be sufficiently indented and end with a ]",
    ],
  );
  const missing = fixture("nowhere.yaml");
  const error = await configureLogging(missing).catch((e) => e);
  assert.equal(
    error.message,
    `${missing}: cannot read the logging file: no such file`,
  );
  const denied = fileURLToPath(new URL("denied.log", fixtures));
  assert.deepEqual(
    await problems(configureLogging(fixture("unwritable_logging.yaml"))),
    [
      `3:34 handlers.file.filename: cannot open ${denied} for writing: no write permission; run deno with --allow-write=${denied}`,
    ],
  );
});

Deno.test("configureLoggingFrom() checks an object and names the key path", async () => {
  const error = await configureLoggingFrom({
    version: 2,
    root: { level: "LOUD", handlers: ["console"] },
    filters: {},
  }).catch((e) => e);
  assert.ok(error instanceof ConfigFileError);
  assert.equal(
    error.message,
    [
      'logging configuration: unknown key "filters"; use one of version, formatters, handlers, loggers, root',
      "logging configuration: version: only version 1 exists, received 2",
      'logging configuration: root.level: unknown level "LOUD"; use one of NOTSET, TRACE, DEBUG, INFO, WARNING, ERROR, CRITICAL',
      'logging configuration: root.handlers[0]: unknown handler "console"; define it under handlers',
    ].join("\n"),
  );
});
