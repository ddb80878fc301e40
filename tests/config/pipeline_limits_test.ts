import assert from "node:assert/strict";
import { relative } from "node:path";
import { fileURLToPath } from "node:url";
import {
  CONFIG_LIMITS,
  ConfigFileError,
  configureLogging,
  loadPipeline,
} from "../../config.ts";
import { tempDir } from "../fixtures/pipeline/temp.ts";

const fixtures = new URL("../fixtures/pipeline/", import.meta.url);
const fixture = (name: string) =>
  relative(Deno.cwd(), fileURLToPath(new URL(name, fixtures)));
const actors = new URL("actors.ts", fixtures).href;

/** The problems of a rejected promise as `line:column path: message`. */
async function problems(loading: Promise<unknown>): Promise<string[]> {
  const error = await loading.then(
    () => assert.fail("loaded without error"),
    (e) => e,
  );
  assert.ok(error instanceof ConfigFileError, String(error));
  return error.problems.map((p) =>
    `${p.line}:${p.column} ${p.path}: ${p.message}`
  );
}

/** A pipeline of two groups, then `extra` (YAML text) at the top level. */
const pipeline = (extra: string) =>
  [
    "groups:",
    `  numbers: { actor: "${actors}#Numbers" }`,
    `  total: { actor: "${actors}#Total" }`,
    extra,
  ].join("\n");

Deno.test("The limits of files are exported, in one place", () => {
  assert.deepEqual({ ...CONFIG_LIMITS }, {
    pipelineFileBytes: 1048576,
    loggingFileBytes: 1048576,
    mappingKeys: 1024,
    aliasNodes: 100000,
    actors: 1024,
  });
  assert.ok(Object.isFrozen(CONFIG_LIMITS));
});

Deno.test("loadPipeline() refuses a file larger than 1 MiB, unread, naming the limit and the size", async () => {
  await using dir = await tempDir("limits-");
  const path = `${dir.path}/big.yaml`;
  const padding = `# ${"x".repeat(98)}\n`.repeat(10_486); // 1048600 bytes
  await Deno.writeTextFile(path, pipeline(padding));
  const size = (await Deno.stat(path)).size;
  assert.deepEqual(await problems(loadPipeline(path)), [
    `undefined:undefined : cannot read the pipeline file: it has ${size} bytes, more than the 1048576 bytes (1 MiB) a pipeline file may have (CONFIG_LIMITS.pipelineFileBytes); keep the data actors read in files of their own`,
  ]);
});

Deno.test("configureLogging() refuses a file larger than 1 MiB, naming the limit and the size", async () => {
  await using dir = await tempDir("limits-");
  const path = `${dir.path}/logging.yaml`;
  await Deno.writeTextFile(path, `# ${"x".repeat(1024 * 1024)}\nversion: 1\n`);
  const size = (await Deno.stat(path)).size;
  assert.deepEqual(await problems(configureLogging(path)), [
    `undefined:undefined : cannot read the logging file: it has ${size} bytes, more than the 1048576 bytes (1 MiB) a logging file may have (CONFIG_LIMITS.loggingFileBytes); keep the data actors read in files of their own`,
  ]);
});

Deno.test("loadPipeline() refuses a mapping of more than 1024 keys once, at the key past the limit", async () => {
  await using dir = await tempDir("limits-");
  const path = `${dir.path}/keys.yaml`;
  const keys = Array.from({ length: 40_000 }, (_, i) => `k${i}: ${i}`);
  await Deno.writeTextFile(path, pipeline(keys.join("\n")));
  assert.deepEqual(await problems(loadPipeline(path)), [
    "1027:1 : a mapping may have at most 1024 keys (CONFIG_LIMITS.mappingKeys), this one has 40001; key 1025 is here",
  ]);
});

Deno.test("loadPipeline() refuses an alias bomb at the alias that passes the limit", async () => {
  assert.deepEqual(await problems(loadPipeline(fixture("alias_bomb.yaml"))), [
    "15:14 : the aliases up to here stand for 141148 nodes, more than the 100000 a file may add through aliases (CONFIG_LIMITS.aliasNodes); nested aliases multiply, write the values out or alias less",
  ]);
});

Deno.test("loadPipeline() takes one anchor used by many aliases, each the same value", async () => {
  await using dir = await tempDir("limits-");
  const path = `${dir.path}/aliases.yaml`;
  // The yaml library's toJS() refuses more than 100 uses of one anchor.
  const tags = ["&t x", ...Array(149).fill("*t")].join(", ");
  await Deno.writeTextFile(
    path,
    [
      "input: lines",
      "groups:",
      `  tag: { actor: "${
        new URL("line_actors.ts", fixtures).href
      }#Tagger", with: { tags: [${tags}] } }`,
    ].join("\n"),
  );
  const loaded = await loadPipeline(path);
  assert.deepEqual(loaded.groups[0].with, { tags: Array(150).fill("x") });
});

Deno.test("loadPipeline() reports duplicate keys with their place", async () => {
  assert.deepEqual(
    await problems(loadPipeline(fixture("duplicate_keys.yaml"))),
    [
      '3:52 : invalid YAML: Map keys must be unique; "count" is a key before this one in the same mapping',
      '5:1 : invalid YAML: Map keys must be unique; "maxsize" is a key before this one in the same mapping',
    ],
  );
});

Deno.test("loadPipeline() refuses counts past 1024 actors in the pipeline before building them", async () => {
  assert.deepEqual(await problems(loadPipeline(fixture("huge_count.yaml"))), [
    "2:49 groups.numbers.count: count must be at most 1024, the actors a pipeline may have (CONFIG_LIMITS.actors), received 1073741824; each actor is a Web Worker, a thread of its own",
  ]);
  assert.deepEqual(
    await problems(loadPipeline(fixture("too_many_actors.yaml"))),
    [
      "4:47 groups.double.count: count 25 makes 1025 actors in the pipeline, more than the 1024 it may have (CONFIG_LIMITS.actors); each actor is a Web Worker, a thread of its own: give this group at most 24",
    ],
  );
  await using dir = await tempDir("limits-");
  const path = `${dir.path}/full.yaml`;
  await Deno.writeTextFile(
    path,
    [
      "groups:",
      `  numbers: { actor: "${actors}#Numbers", count: 1024 }`,
      `  total: { actor: "${actors}#Total" }`,
    ].join("\n"),
  );
  assert.deepEqual(await problems(loadPipeline(path)), [
    "3:3 groups.total: this group's actor makes 1025 actors in the pipeline, more than the 1024 it may have (CONFIG_LIMITS.actors); each actor is a Web Worker, a thread of its own: give the groups before fewer",
  ]);
});
