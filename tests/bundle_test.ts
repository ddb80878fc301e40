/**
 * The bundle an actor's worker runs (`src/worker/bundle/`) is the one its
 * sources build: `tools/build_worker.ts` builds it again into a scratch
 * folder and every file must match the committed one.
 *
 * @module
 */

import assert from "node:assert/strict";
import { buildWorker, BUNDLE_DIR } from "../tools/build_worker.ts";

const ROOT = new URL("../", import.meta.url);
const SCRATCH = "/tmp/baton-tests";

async function readFolder(path: string): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  for await (const entry of Deno.readDir(path)) {
    if (entry.name.endsWith(".js")) {
      files.set(entry.name, await Deno.readTextFile(`${path}/${entry.name}`));
    }
  }
  return files;
}

Deno.test("The committed worker bundle is the one its sources build (else: deno task build)", async () => {
  await Deno.mkdir(SCRATCH, { recursive: true });
  const out = await Deno.makeTempDir({ dir: SCRATCH, prefix: "bundle-" });
  try {
    const built = await buildWorker(out);
    assert.ok(built.has("bootstrap.js"), "the build has an entry");
    const committed = await readFolder(
      decodeURIComponent(new URL(BUNDLE_DIR, ROOT).pathname),
    );
    const stale = [...new Set([...built.keys(), ...committed.keys()])]
      .filter((name) => built.get(name) !== committed.get(name)).sort();
    assert.deepEqual(
      stale,
      [],
      `${BUNDLE_DIR} differs from what its sources build in these files: run \`deno task build\` and commit the result`,
    );
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});
