import assert from "node:assert/strict";
import { CONFIG_LIMITS } from "../config.ts";
import { DEFAULT_MAXSIZE, DEFAULT_SHUTDOWN_TIMEOUT } from "../src/relay.ts";
import { tempDir } from "./fixtures/pipeline/temp.ts";
import {
  fixture,
  fixtures,
  root,
  run,
  spawn,
} from "./fixtures/pipeline/cli.ts";

const USAGE =
  "Usage: baton [--check] [--no-progress] [--allow-remote-actors] <pipeline.yaml>";

const plainLine = (name: string, message: string) =>
  new RegExp(
    String.raw`^\[\d\d:\d\d:\d\d\] \[\d+\] ${name.replaceAll(".", "\\.")} - ${
      message.replace(/[[\]()]/g, "\\$&")
    }$`,
    "m",
  );

Deno.test("baton --help prints the usage and exits 0", async () => {
  const out = await run(["-R"], ["--help"]);
  assert.equal(out.code, 0);
  assert.equal(out.stdout.split("\n")[0], USAGE);
  assert.match(out.stdout, /^Exit codes: 0 the run succeeded; 1 it failed/m);
  assert.equal(out.stderr, "");
});

Deno.test("baton --help takes its defaults from the code and names the flag and the limits", async () => {
  const out = await run(["-R"], ["--help"]);
  assert.match(out.stdout, new RegExp(`\\(default ${DEFAULT_MAXSIZE}\\)`));
  assert.match(
    out.stdout,
    new RegExp(`\\(default ${DEFAULT_SHUTDOWN_TIMEOUT}\\)`),
  );
  assert.doesNotMatch(out.stdout, /default 256/);
  assert.match(out.stdout, /^ {2}--allow-remote-actors$/m);
  assert.match(
    out.stdout,
    /^once, from a clone: deno install -g -R -n baton --config deno\.json \.\/cli\.ts$/m,
  );
  const limits = out.stdout.slice(out.stdout.indexOf("Limits:"))
    .replaceAll(/\s+/g, " ");
  for (
    const text of [
      `a pipeline file has at most ${CONFIG_LIMITS.pipelineFileBytes} bytes (1 MiB)`,
      `a logging file at most ${CONFIG_LIMITS.loggingFileBytes} bytes (1 MiB)`,
      `a mapping at most ${CONFIG_LIMITS.mappingKeys} keys`,
      `aliases add at most ${CONFIG_LIMITS.aliasNodes} nodes`,
      `a pipeline at most ${CONFIG_LIMITS.actors} actors`,
    ]
  ) assert.ok(limits.includes(text), `${text} in ${limits}`);
});

Deno.test("baton --check refuses a data: actor module without running it, and imports it with --allow-remote-actors", async () => {
  const file = fixture("data_actor.yaml");
  const out = await run(["-R"], ["--check", file]);
  assert.equal(out.code, 2);
  assert.equal(out.stdout, "");
  assert.doesNotMatch(out.stderr, /carried-module-ran/);
  assert.match(
    out.stderr,
    new RegExp(
      `^${file}:5:12: groups\\.carried\\.actor: the module data:text/javascript,.* \\(data:\\) is not a local file; .* run baton with --allow-remote-actors, .*\n$`,
    ),
  );
  const allowed = await run(["-R"], ["--check", "--allow-remote-actors", file]);
  assert.equal(allowed.code, 2);
  assert.match(allowed.stderr, /^carried-module-ran$/m);
  assert.match(
    allowed.stderr,
    /Carried exported by data:.* does not extend Actor$/m,
  );
});

Deno.test("baton exits 2 naming the key for with: fields that are members of Actor, and for an alias bomb", async () => {
  const members = await run(["-R"], ["--check", fixture("actor_members.yaml")]);
  assert.equal(members.code, 2, members.stderr);
  const lines = members.stderr.trimEnd().split("\n");
  assert.equal(lines.length, 6, members.stderr);
  assert.equal(
    lines[0],
    `${
      fixture("actor_members.yaml")
    }:3:50: groups.numbers.with.name: "name" is a member of Actor (the actor's name, which the relay gives it), not a field of Numbers; declare a field of another name in the class, for example name_ = …, and set that`,
  );
  const bomb = await run(["-R"], ["--check", fixture("alias_bomb.yaml")]);
  assert.equal(bomb.code, 2, bomb.stderr);
  assert.equal(
    bomb.stderr,
    `${
      fixture("alias_bomb.yaml")
    }:15:14: the aliases up to here stand for 141148 nodes, more than the 100000 a file may add through aliases (CONFIG_LIMITS.aliasNodes); nested aliases multiply, write the values out or alias less\n`,
  );
});

Deno.test("baton exits 2 with the usage on bad usage", async (t) => {
  for (
    const [args, problem] of [
      [[], "baton: no pipeline file given"],
      [["a.yaml", "b.yaml"], "baton: one pipeline file at a time, received 2"],
      [["--bogus", "a.yaml"], "baton: Unknown option '--bogus'."],
    ] as const
  ) {
    await t.step(args.join(" ") || "(no arguments)", async () => {
      const out = await run(["-R"], [...args]);
      assert.equal(out.code, 2);
      assert.equal(out.stdout, "");
      const lines = out.stderr.split("\n");
      assert.ok(lines[0].startsWith(problem), lines[0]);
      assert.deepEqual(lines.slice(1), [
        USAGE,
        "Run with --help for more.",
        "",
      ]);
    });
  }
});

Deno.test("baton exits 2 with the file's problems when it is invalid", async () => {
  const out = await run(["-R"], [fixture("no_loop.yaml")]);
  assert.equal(out.code, 2);
  assert.equal(out.stdout, "");
  assert.equal(
    out.stderr,
    `${
      fixture("no_loop.yaml")
    }:2:19: groups.first.actor: Total has no loop(); the first group's actors are sources and must override loop()\n`,
  );
});

Deno.test("baton exits 2 and names --allow-read when it may not read the file or a module", async () => {
  const file = fixture("ok.yaml");
  const none = await run([], [file]);
  assert.equal(none.code, 2);
  assert.equal(
    none.stderr,
    `${file}: cannot read the pipeline file: no read permission; run with --allow-read (-R), or at least --allow-read=${root}${file}\n`,
  );
  // The fixtures may be read, not the mod.ts their actors import.
  const some = await run([`--allow-read=${fixture("")}`], [file]);
  assert.equal(some.code, 2);
  const denied = (line: number, group: string) =>
    `${file}:${line}:12: groups.${group}.actor: cannot import ./actors.ts: no read permission for ${root}mod.ts; run with --allow-read (-R), or at least --allow-read=${root}mod.ts`;
  assert.equal(
    some.stderr,
    [denied(7, "numbers"), denied(11, "double"), denied(15, "total"), ""]
      .join("\n"),
  );
});

Deno.test("baton --check prints the topology and starts nothing", async () => {
  const out = await run(["-R"], ["--check", fixture("ok.yaml")]);
  assert.equal(out.stderr, "");
  assert.equal(
    out.stdout,
    [
      `${fixture("ok.yaml")}: 3 groups, 6 actors`,
      "  numbers  2 × Numbers  ./actors.ts#Numbers  with { count: 10 }",
      "           ↓ maxsize 2",
      "  double   3 × Double   ./actors.ts#Double",
      "           ↓ maxsize 4",
      '  total    1 × Total    ./actors.ts#Total    with { label: "sum" }',
      "logger: test.pipeline",
      "shutdown timeout: 1000 ms",
      "ok: nothing started (--check)",
      "",
    ].join("\n"),
  );
  assert.equal(out.code, 0);
});

Deno.test("baton runs a pipeline file to the end and exits 0", async () => {
  const out = await run(["-R"], [fixture("ok.yaml")]);
  assert.equal(out.code, 0, out.stderr);
  assert.match(
    out.stdout,
    plainLine("test.pipeline", "[total] (Total-6) sum: 20 numbers, total 180"),
  );
  assert.match(out.stdout, plainLine("baton", "relay: finished"));
  assert.match(
    out.stderr,
    /^baton: finished in \d+\.\d\d s \(received\/sent: numbers 0\/20, double 20\/20, total 20\/0\)$/m,
  );
});

Deno.test("baton exits 1 with the failure on stderr when an actor throws", async () => {
  const out = await run(["-R"], [fixture("fails.yaml")]);
  assert.equal(out.code, 1);
  const failed = out.stderr.split("\n").filter((l) =>
    l.startsWith("baton: the run failed: ")
  );
  assert.equal(failed.length, 1, out.stderr);
  assert.match(failed[0], /Fail-2 \(Fail\) in fail .*Error: cannot take 3$/);
  assert.match(out.stderr, /^ +at Fail\.recv \(.*actors\.ts:\d+:\d+\)$/m);
  assert.doesNotMatch(out.stdout, /sum: .* numbers/);
});

Deno.test("baton writes the log file its pipeline's logging file names", async () => {
  await using dir = await tempDir("cli-");
  const actors = new URL("actors.ts", fixtures).href;
  await Deno.writeTextFile(
    `${dir.path}/logging.yaml`,
    [
      "formatters:",
      "  plain:",
      '    format: "[%(asctime)s] [%(process)d] %(name)s - %(message)s"',
      '    datefmt: "%H:%M:%S"',
      "handlers:",
      "  file: { class: file, filename: run.log, formatter: plain }",
      "root: { level: INFO, handlers: [file] }",
    ].join("\n"),
  );
  await Deno.writeTextFile(
    `${dir.path}/pipeline.yaml`,
    [
      "logger: ktz.ipynb",
      "logging: logging.yaml",
      "groups:",
      `  prod: { actor: "${actors}#Numbers", with: { count: 4 } }`,
      `  cons: { actor: "${actors}#Total" }`,
    ].join("\n"),
  );
  const pipeline = `${dir.path}/pipeline.yaml`;

  const denied = await run(["-R"], [pipeline]);
  assert.equal(denied.code, 2);
  assert.equal(
    denied.stderr,
    `${dir.path}/logging.yaml:6:34: handlers.file.filename: cannot open ${dir.path}/run.log for writing: no write permission; run deno with --allow-write=${dir.path}/run.log\n`,
  );

  const out = await run(["-R", `--allow-write=${dir.path}`], [pipeline]);
  assert.equal(out.code, 0, out.stderr);
  assert.equal(out.stdout, "", "everything goes to the file");
  const log = await Deno.readTextFile(`${dir.path}/run.log`);
  assert.match(log, plainLine("ktz.ipynb", "[prod] (Numbers-1) starting up"));
  assert.match(
    log,
    plainLine("ktz.ipynb", "[cons] (Total-2) total: 4 numbers, total 6"),
  );
  assert.match(log, plainLine("baton", "relay: finished"));
});

Deno.test("baton drains the pipeline on Ctrl-C and exits 130", async () => {
  const child = spawn(["-R"], [fixture("endless.yaml")]);
  const guard = setTimeout(() => child.kill("SIGKILL"), 60_000);
  const stderr = new Response(child.stderr).text();
  let stdout = "";
  try {
    const reader = child.stdout.pipeThrough(new TextDecoderStream())
      .getReader();
    // Interrupt once the source is looping: its signal handler is in place.
    while (!stdout.includes("(Ticker-1) running loop")) {
      const { value, done } = await reader.read();
      if (done) {
        assert.fail(`the run ended before it was interrupted: ${stdout}`);
      }
      stdout += value;
    }
    child.kill("SIGINT");
    for (let r = await reader.read(); !r.done; r = await reader.read()) {
      stdout += r.value;
    }
    const status = await child.status;
    assert.equal(status.code, 130);
    // One line: the abort, which names any actor that had to be terminated.
    assert.match(await stderr, /^baton: Relay aborted\b[^\n]*\n$/);
    // The pipeline drained: the sink shut down and reported.
    assert.match(stdout, /\(Total-2\) total: \d+ numbers, total \d+$/m);
  } finally {
    clearTimeout(guard);
  }
});
