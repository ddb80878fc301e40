/**
 * The examples of real work run as their headers say, each in its own
 * process with the permissions of the command its header shows (the same
 * flags `.ci/run` reads), exit 0, and print the line of their own check.
 *
 * @module
 */

import assert from "node:assert/strict";

const ROOT = new URL("../", import.meta.url);

/**
 * The flags of the command an example's header shows: the first line
 * ` *     deno run <flags> examples/<file> ...`.
 */
async function headerFlags(file: string): Promise<string[]> {
  const text = await Deno.readTextFile(new URL(file, ROOT));
  for (const line of text.split("\n")) {
    const words = /^ \* +deno run (.*)$/.exec(line)?.[1].split(/\s+/) ?? [];
    const at = words.indexOf(file);
    if (at > 0) return words.slice(0, at);
  }
  throw new Error(`${file} shows no "deno run <flags> ${file}" line`);
}

/** Runs an example as its header says; resolves with its standard output. */
async function runExample(file: string, ...args: string[]): Promise<string> {
  const flags = await headerFlags(file);
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", ...flags, file, ...args],
    cwd: ROOT.pathname,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(30_000),
  }).output();
  const out = new TextDecoder().decode(stdout);
  const err = new TextDecoder().decode(stderr);
  assert.equal(
    code,
    0,
    `deno run ${flags.join(" ")} ${file} exited with ${code}:\n${out}${err}`,
  );
  return out;
}

async function sha256(path: URL): Promise<string> {
  const bytes = await Deno.readFile(path);
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

Deno.test("examples/jsonl_aggregate.ts matches its one-thread aggregate", async () => {
  const out = await runExample("examples/jsonl_aggregate.ts");
  assert.match(out, /^3000 records, 15 products, \d+ ms$/m);
  assert.match(out, /^partial sums: GroupBy-\d+ \d+ records, GroupBy-\d+/m);
  assert.match(out, /^matches the single-thread result$/m);
});

Deno.test("examples/hash_files.ts hashes src/ as the main thread does", async () => {
  const out = await runExample("examples/hash_files.ts");
  assert.match(out, /^all \d+ hashes match the main thread's$/m);
  const files = Number(/^all (\d+) hashes/m.exec(out)?.[1]);
  const lines = out.split("\n").filter((l) => /^[0-9a-f]{64} {2}\S/.test(l));
  assert.equal(lines.length, files, "one `<hex>  <path>` line per file");
  const paths = lines.map((l) => l.slice(66));
  assert.deepEqual(paths, paths.toSorted(), "sorted by path");
  assert.ok(paths.includes("relay.ts"), "paths relative to the folder");
});

Deno.test("examples/hash_files.ts hashes a folder given as argument", async () => {
  const out = await runExample("examples/hash_files.ts", "examples/data");
  const data = new URL("examples/data/", ROOT);
  const lines = await Promise.all(
    ["make_sales.ts", "sales.jsonl"].map(async (name) =>
      `${await sha256(new URL(name, data))}  ${name}`
    ),
  );
  assert.equal(
    out.split("\n").slice(0, 2).join("\n"),
    lines.join("\n"),
    "sorted `<hex>  <path>` lines, as sha256sum prints them",
  );
  assert.match(out, /^all 2 hashes match the main thread's$/m);
});

Deno.test("examples/fetch_stage.ts fetches in parallel from a local server", async () => {
  const out = await runExample("examples/fetch_stage.ts");
  assert.match(out, /^8 fetchers: +80 requests in \d+ ms/m);
  assert.match(out, /^1 fetcher: +80 requests in \d+ ms/m);
  assert.match(out, /^speed-up with 8 fetchers: \d+\.\dx while fetching/m);
  assert.match(out, /^all 160 answers correct$/m);
});
