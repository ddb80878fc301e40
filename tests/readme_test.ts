/**
 * Every `ts` block of README.md is a program that runs as written and prints
 * what the README shows after it.
 *
 * Each block is written as `main.ts` into a directory of its own under
 * `/tmp/baton-tests`, beside a `deno.json` whose import map sends
 * `@baton/relay`, `@baton/relay/testing` and `@baton/relay/config` to this
 * repository's `mod.ts`, `src/testing.ts` and `config.ts`, plus the
 * repository's own import map entries (and a copy of its lock file, so npm
 * packages resolve to the same versions). It runs in its own process as a
 * user would run it: `deno run --config <that deno.json> -R main.ts`.
 *
 * What the README can say about a block, in HTML comments (invisible once
 * rendered) on the lines just before it:
 *
 * - `<!-- run: <flags> -->`: the permission flags of `deno run`; default
 *   `-R` (which covers both the block's directory and this repository).
 * - `<!-- fragment -->`: a block that is not a whole program by design; it
 *   is not run (`deno check --doc-only README.md` still type-checks it).
 * - `<!-- redis -->`: a block that needs a Redis: it runs with the one of
 *   `BATON_REDIS_URL` (it reads the variable), and is ignored like the
 *   Redis tests without it (`tests/_redis.ts`; failed under `CI=true`).
 *
 * A block's output is the ```` ```text ```` block that follows it, before
 * the next code block: the block must exit with code 0 and its standard
 * output must match that text line by line, where `…` stands for any run of
 * characters (times, process ids, durations: what changes between runs).
 * Trailing spaces and trailing empty lines are ignored. With
 * `<!-- stderr -->` just before the text block, standard error is compared
 * instead. A block without a text block must print nothing on standard
 * output, and a text block must follow a `ts` block. Other blocks (`sh`,
 * `yaml`) are not run here; the commands of "Run it" are run by `.ci/run`.
 *
 * The Permissions table is checked too: its row for each example gives the
 * flags of the command in the example's header.
 *
 * @module
 */

import assert from "node:assert/strict";
import { redisTest } from "./_redis.ts";

const ROOT = new URL("../", import.meta.url);
const SCRATCH = "/tmp/baton-tests";
/** How long one block may run before the test fails it. */
const TIMEOUT_MS = 30_000;

/** A `ts` block of the README and what the README says about it. */
interface Block {
  /** The 1-based line of its opening fence. */
  readonly line: number;
  readonly code: string;
  readonly flags: readonly string[];
  readonly fragment: boolean;
  /** It needs a Redis (`BATON_REDIS_URL`). */
  readonly redis: boolean;
  /** Its output block, if it has one. */
  readonly output?: {
    readonly line: number;
    readonly text: string;
    readonly stream: "stdout" | "stderr";
  };
}

/** The HTML comments on the lines just before line `at` (0-based). */
function markersBefore(lines: readonly string[], at: number): string[] {
  const found: string[] = [];
  for (let i = at - 1; i >= 0; i--) {
    const line = lines[i].trim();
    if (line === "") continue;
    const comment = /^<!--\s*(.*?)\s*-->$/.exec(line);
    if (comment === null) break;
    found.push(comment[1]);
  }
  return found;
}

/** The README's `ts` blocks, each with its markers and output. */
function readmeBlocks(markdown: string): Block[] {
  const lines = markdown.split("\n");
  const blocks: Block[] = [];
  let last: { block: Block; open: boolean } | undefined;
  for (let i = 0; i < lines.length; i++) {
    const fence = /^(`{3,})\s*(\S*)(.*)$/.exec(lines[i]);
    if (fence === null) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && lines[i] !== fence[1]; i++) {
      body.push(lines[i]);
    }
    assert.ok(i < lines.length, `README.md:${start + 1}: unclosed code block`);
    const lang = fence[2];
    const markers = markersBefore(lines, start);
    if (lang === "ts") {
      const run = markers.find((m) => m.startsWith("run:"));
      const block: Block = {
        line: start + 1,
        code: body.join("\n") + "\n",
        flags: run === undefined
          ? ["-R"]
          : run.slice("run:".length).trim().split(/\s+/),
        fragment: markers.includes("fragment"),
        redis: markers.includes("redis"),
      };
      blocks.push(block);
      last = { block, open: true };
    } else if (lang === "text") {
      assert.ok(
        last?.open,
        `README.md:${
          start + 1
        }: a text block shows a ts block's output, but no ts block comes right before it`,
      );
      const output = {
        line: start + 1,
        text: body.join("\n"),
        stream: markers.includes("stderr")
          ? "stderr" as const
          : "stdout" as const,
      };
      blocks[blocks.length - 1] = { ...last.block, output };
      last.open = false;
    } else if (last !== undefined) {
      last.open = false;
    }
  }
  return blocks;
}

/** The lines of an output, without trailing spaces and trailing empty lines. */
function outputLines(text: string): string[] {
  const lines = text.split("\n").map((l) => l.trimEnd());
  while (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
  return lines;
}

/** Whether `line` matches `pattern`, in which `…` stands for any run of characters. */
function matches(line: string, pattern: string): boolean {
  const source = pattern.split("…").map((part) =>
    part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")
  ).join(".*");
  return new RegExp(`^${source}$`).test(line);
}

/** Asserts that `actual` matches the README's `expected`, line by line. */
function assertOutput(actual: string, expected: string, where: string): void {
  const got = outputLines(actual);
  const want = outputLines(expected);
  const shown = `${where}: the README shows\n${
    want.join("\n")
  }\nand the block printed\n${got.join("\n")}`;
  assert.equal(
    got.length,
    want.length,
    `${shown}\n(a different number of lines)`,
  );
  want.forEach((pattern, i) => {
    assert.ok(matches(got[i], pattern), `${shown}\n(line ${i + 1} differs)`);
  });
}

/**
 * The `deno.json` of a block's directory: the repository's import map, with
 * baton's own entries pointing into the repository.
 */
async function blockConfig(): Promise<string> {
  const repo = JSON.parse(
    await Deno.readTextFile(new URL("deno.json", ROOT)),
  ) as { imports?: Record<string, string> };
  return JSON.stringify(
    {
      imports: {
        ...repo.imports,
        "@baton/relay": new URL("mod.ts", ROOT).href,
        "@baton/relay/testing": new URL("src/testing.ts", ROOT).href,
        "@baton/relay/config": new URL("config.ts", ROOT).href,
        "@baton/relay/redis": new URL("redis.ts", ROOT).href,
      },
    },
    null,
    2,
  );
}

const decoder = new TextDecoder();
const blocks = readmeBlocks(
  await Deno.readTextFile(new URL("README.md", ROOT)),
);

Deno.test("README.md has ts blocks, and the first one shows what it prints", () => {
  assert.ok(blocks.length > 0, "README.md has no ts block");
  assert.ok(
    blocks[0].output !== undefined,
    `README.md:${
      blocks[0].line
    }: the first block has no text block after it showing its output`,
  );
});

for (const block of blocks) {
  const where = `README.md:${block.line}`;
  const name = block.fragment
    ? `${where}: the block is a fragment, type-checked only`
    : `${where}: the block runs with ${
      block.flags.join(" ")
    } and prints what the README shows${
      block.redis ? ", on the Redis of BATON_REDIS_URL" : ""
    }`;
  if (block.redis && !block.fragment) {
    // The block's process inherits BATON_REDIS_URL.
    redisTest(name, () => runBlock(block, where));
  } else {
    Deno.test({
      name,
      ignore: block.fragment,
      fn: () => runBlock(block, where),
    });
  }
}

/** Runs `block` as a user would, and checks its exit and its output. */
async function runBlock(block: Block, where: string): Promise<void> {
  const dir = `${SCRATCH}/readme-${Deno.pid}-${block.line}`;
  await Deno.mkdir(dir, { recursive: true });
  try {
    await Deno.writeTextFile(`${dir}/main.ts`, block.code);
    await Deno.writeTextFile(`${dir}/deno.json`, await blockConfig());
    await Deno.copyFile(new URL("deno.lock", ROOT), `${dir}/deno.lock`);
    const started = performance.now();
    const { code, stdout, stderr } = await new Deno.Command(
      Deno.execPath(),
      {
        args: [
          "run",
          "--config",
          `${dir}/deno.json`,
          ...block.flags,
          "main.ts",
        ],
        cwd: dir,
        env: { NO_COLOR: "1" },
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
        signal: AbortSignal.timeout(TIMEOUT_MS),
      },
    ).output();
    const out = decoder.decode(stdout);
    const err = decoder.decode(stderr);
    const took = performance.now() - started;
    assert.ok(
      took < TIMEOUT_MS,
      `${where}: the block ran for more than ${
        TIMEOUT_MS / 1000
      } s and was stopped:\n${out}${err}`,
    );
    assert.equal(
      code,
      0,
      `${where}: the block exited with code ${code}:\n${out}${err}`,
    );
    if (block.output === undefined) {
      assert.equal(
        out,
        "",
        `${where}: the block printed this, but no text block after it shows it:\n${out}`,
      );
    } else {
      const actual = block.output.stream === "stdout" ? out : err;
      assertOutput(
        actual,
        block.output.text,
        `${where} (${block.output.stream}, against README.md:${block.output.line})${
          block.output.stream === "stdout" && err !== ""
            ? `\nstandard error:\n${err}`
            : ""
        }`,
      );
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/**
 * The flags of the command an example's header shows, as `.ci/run` reads
 * them: the first line ` *     deno run <flags> examples/<file> ...`.
 */
async function headerFlags(file: string): Promise<string | undefined> {
  const text = await Deno.readTextFile(new URL(`examples/${file}`, ROOT));
  const line = new RegExp(`^ \\* +deno run (.*) examples/${file}( .*)?$`, "m");
  return line.exec(text)?.[1];
}

Deno.test("README.md's permissions table gives every example the flags of its header", async () => {
  const markdown = await Deno.readTextFile(new URL("README.md", ROOT));
  const section = markdown.split(/^## /m).find((s) =>
    s.startsWith("Permissions\n")
  );
  assert.ok(section !== undefined, "README.md has a Permissions section");
  const rows = section.split("\n").filter((l) => l.startsWith("|"));
  const examples: string[] = [];
  for await (const entry of Deno.readDir(new URL("examples/", ROOT))) {
    const name = entry.name;
    if (!entry.isFile || !name.endsWith(".ts")) continue;
    if (name.startsWith("_") || name === "actors.ts") continue;
    if (name.endsWith("_actors.ts")) continue;
    examples.push(name);
  }
  assert.ok(examples.length > 0, "examples/ has examples");
  for (const name of examples.sort()) {
    const flags = await headerFlags(name);
    assert.ok(flags !== undefined, `examples/${name} shows no deno run line`);
    const row = rows.find((r) =>
      r.includes(`\`${name}\``) || r.includes(`\`examples/${name}\``)
    );
    assert.ok(
      row !== undefined,
      `the permissions table has no row for ${name}`,
    );
    const cells = row.split("|");
    assert.ok(
      cells[2].includes(`\`${flags}\``),
      `the permissions table gives ${name} ${
        cells[2].trim()
      }, its header \`${flags}\``,
    );
  }
});
