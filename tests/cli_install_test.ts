import assert from "node:assert/strict";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { tempDir } from "./fixtures/pipeline/temp.ts";

const root = fileURLToPath(new URL("..", import.meta.url));

/** Runs deno with `args` from the repository's root; a guard kills it after 120 s. */
async function deno(args: string[]): Promise<Deno.CommandOutput> {
  const child = new Deno.Command(Deno.execPath(), {
    args,
    cwd: root,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  const guard = setTimeout(() => child.kill("SIGKILL"), 120_000);
  try {
    return await child.output();
  } finally {
    clearTimeout(guard);
  }
}

Deno.test("deno install makes a baton command that prints its help", async () => {
  await using dir = await tempDir("install-");
  // As the README says, from a clone: the config carries the npm imports.
  const install = await deno([
    "install",
    "-g",
    "-R",
    "-n",
    "baton",
    "--config",
    "deno.json",
    "--root",
    dir.path,
    "cli.ts",
  ]);
  const text = new TextDecoder();
  assert.equal(install.code, 0, text.decode(install.stderr));
  const baton = `${dir.path}/bin/baton`;
  // The command is a shell script that runs deno: run it from a deno that
  // may run it, with deno on its PATH (the test itself may run deno only).
  const run = await deno([
    "eval",
    `--allow-run=${baton}`,
    `const out = await new Deno.Command(${JSON.stringify(baton)}, {
      args: ["--help"],
      cwd: "/",
      env: { PATH: ${
      JSON.stringify(`${dirname(Deno.execPath())}:/usr/bin:/bin`)
    } },
    }).output();
    await Deno.stdout.write(out.stdout);
    await Deno.stderr.write(out.stderr);
    Deno.exit(out.code);`,
  ]);
  assert.equal(run.code, 0, text.decode(run.stderr));
  const help = text.decode(run.stdout);
  assert.match(help, /^Usage: baton \[--check\]/);
  assert.match(help, /^Exit codes: 0 the run succeeded/m);
});
