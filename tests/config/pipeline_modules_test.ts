import assert from "node:assert/strict";
import { relative } from "node:path";
import { fileURLToPath } from "node:url";
import { ConfigFileError, loadPipeline } from "../../config.ts";
import { describePipeline } from "../../src/config/pipeline.ts";
import { tempDir } from "../fixtures/pipeline/temp.ts";

const fixtures = new URL("../fixtures/pipeline/", import.meta.url);
const fixture = (name: string) =>
  relative(Deno.cwd(), fileURLToPath(new URL(name, fixtures)));

/** The problems of a rejected `loadPipeline()` as `line:column path: message`. */
async function problems(
  path: string,
  options?: { allowRemoteActors?: boolean },
): Promise<string[]> {
  const error = await loadPipeline(path, options).then(
    () => assert.fail(`${path} loaded without error`),
    (e) => e,
  );
  assert.ok(error instanceof ConfigFileError, String(error));
  return error.problems.map((p) =>
    `${p.line}:${p.column} ${p.path}: ${p.message}`
  );
}

const refused = (module: string, scheme: string) =>
  `the module ${module} (${scheme}:) is not a local file; importing it would run its code (with --check too), so actor modules are local files unless allowed: run baton with --allow-remote-actors, or loadPipeline(path, { allowRemoteActors: true }), if you trust it`;

Deno.test("loadPipeline() refuses actor modules that are not local files, without importing them", async () => {
  const ran = () => (globalThis as Record<string, unknown>).carriedModuleRan;
  assert.deepEqual(await problems(fixture("remote_actors.yaml")), [
    `4:12 groups.carried.actor: ${
      refused(
        "data:text/javascript,globalThis.carriedModuleRan=true;consol…(113)",
        "data",
      )
    }`,
    `6:18 groups.blob.actor: ${
      refused("blob:null/5f0c7f0e-0000-4000-8000-000000000000", "blob")
    }`,
    `7:19 groups.plain.actor: ${
      refused("http://example.invalid/actors.ts", "http")
    }`,
    `8:17 groups.tls.actor: ${
      refused("https://example.invalid/actors.ts", "https")
    }`,
    `9:17 groups.jsr.actor: ${refused("jsr:@example/actors", "jsr")}`,
    `10:17 groups.npm.actor: ${refused("npm:example-actors", "npm")}`,
  ]);
  assert.equal(ran(), undefined, "the data: module's code did not run");
  // Allowed, the data: module is imported (and its class refused).
  const allowed = await problems(fixture("remote_actors.yaml"), {
    allowRemoteActors: true,
  });
  assert.equal(ran(), true);
  assert.match(
    allowed[0],
    /^4:12 groups\.carried\.actor: Carried exported by data:.* does not extend Actor$/,
  );
});

Deno.test("loadPipeline() takes file: URLs and paths relative to the file as actor modules", async () => {
  await using dir = await tempDir("modules-");
  const actors = new URL("actors.ts", fixtures);
  const path = `${dir.path}/pipeline.yaml`;
  await Deno.writeTextFile(
    path,
    [
      "groups:",
      `  numbers: { actor: "${actors.href}#Numbers" }`,
      `  total: { actor: "${
        relative(dir.path, fileURLToPath(actors))
      }#Total" }`,
    ].join("\n"),
  );
  const loaded = await loadPipeline(path);
  assert.deepEqual(loaded.groups.map((g) => g.className), ["Numbers", "Total"]);
});

Deno.test("loadPipeline() refuses unknown options and a non-boolean allowRemoteActors with a TypeError", async () => {
  await assert.rejects(
    loadPipeline(fixture("ok.yaml"), { allowRemote: true } as never),
    {
      name: "TypeError",
      message:
        'Cannot load pipeline: unknown option "allowRemote"; use one of allowRemoteActors',
    },
  );
  await assert.rejects(
    loadPipeline(fixture("ok.yaml"), { allowRemoteActors: "yes" } as never),
    {
      name: "TypeError",
      message:
        'Cannot load pipeline: allowRemoteActors must be true or false, received "yes"',
    },
  );
});

Deno.test("loadPipeline() refuses with: fields named as members of Actor, naming the key and the fix", async () => {
  const fix = (key: string, what: string, cls: string) =>
    `"${key}" is a member of Actor (${what}), not a field of ${cls}; declare a field of another name in the class, for example ${key}_ = …, and set that`;
  assert.deepEqual(await problems(fixture("actor_members.yaml")), [
    `3:50 groups.numbers.with.name: ${
      fix("name", "the actor's name, which the relay gives it", "Numbers")
    }`,
    `3:63 groups.numbers.with.signal: ${
      fix("signal", "aborted when the relay is asked to stop", "Numbers")
    }`,
    `4:48 groups.double.with.log: ${fix("log", "its logger", "Double")}`,
    `4:56 groups.double.with.group: ${
      fix("group", "the name of its group, which the relay gives it", "Double")
    }`,
    `5:46 groups.total.with.send: ${
      fix("send", "a method the relay calls", "Total")
    }`,
    `5:55 groups.total.with.report: ${
      fix("report", "a method the relay calls", "Total")
    }`,
  ]);
});

Deno.test("loadPipeline() tells a missing actor module from a missing module it imports", async () => {
  await using dir = await tempDir("modules-");
  const mod = new URL("../../mod.ts", import.meta.url).href;
  await Deno.writeTextFile(
    `${dir.path}/stage.ts`,
    [
      `import { Actor } from "${mod}";`,
      'import { helper } from "./helpers/missing.ts";',
      "export class Stage extends Actor<number, number> {",
      "  override recv(x: number) { return this.send(helper(x)); }",
      "}",
    ].join("\n"),
  );
  const path = `${dir.path}/pipeline.yaml`;
  await Deno.writeTextFile(
    path,
    [
      "groups:",
      `  numbers: { actor: "${new URL("actors.ts", fixtures).href}#Numbers" }`,
      "  stage: { actor: ./stage.ts#Stage }",
      "  gone: { actor: ./gone.ts#Gone }",
    ].join("\n"),
  );
  // Outside the working directory, paths are shown whole.
  const shown = (name: string) => `${dir.path}/${name}`;
  assert.deepEqual(await problems(path), [
    `3:19 groups.stage.actor: cannot import ./stage.ts: the module ${
      shown("helpers/missing.ts")
    } does not exist; it is imported by ${shown("stage.ts")}:2:24`,
    `4:18 groups.gone.actor: cannot import ./gone.ts: no such module (file://${dir.path}/gone.ts)`,
  ]);
});

Deno.test("loadPipeline() reads input: lines, feeding the first group from the main thread", async () => {
  const loaded = await loadPipeline(fixture("lines.yaml"));
  assert.equal(loaded.input, "lines");
  assert.deepEqual(loaded.relay.groups, ["upper", "measure"]);
  assert.equal(
    describePipeline(loaded),
    [
      `${fixture("lines.yaml")}: 2 groups, 2 actors`,
      "  upper    1 × Upper    ./line_actors.ts#Upper",
      "           ↓ maxsize 1024",
      "  measure  1 × Measure  ./line_actors.ts#Measure",
      "logger: baton",
      "shutdown timeout: 5000 ms",
      "input: lines of standard input, one per message to upper",
      "output: what measure sends, one line each on standard output",
    ].join("\n"),
  );
  assert.deepEqual(await problems(fixture("bad_input.yaml")), [
    '1:8 input: input must be lines (one line of standard input per message to the first group), received "words"; or leave input out, for a first group of sources',
  ]);
});
