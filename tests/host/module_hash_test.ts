/**
 * The hash a worker process compares with the coordinator's before it runs
 * an actor (docs/faults.md D9, D30): the actor's module and the local
 * modules it imports, wherever the checkout is.
 *
 * @module
 */

import assert from "node:assert/strict";
import { moduleHash } from "../../src/host/redis/protocol.ts";

/** A folder under /tmp/baton-tests with `files` written in it. */
async function folder(files: Record<string, string>): Promise<string> {
  await Deno.mkdir("/tmp/baton-tests", { recursive: true });
  const dir = await Deno.makeTempDir({
    dir: "/tmp/baton-tests",
    prefix: "hash-",
  });
  for (const [name, text] of Object.entries(files)) {
    const at = `${dir}/${name}`;
    await Deno.mkdir(at.slice(0, at.lastIndexOf("/")), { recursive: true });
    await Deno.writeTextFile(at, text);
  }
  return dir;
}

const FILES = {
  "actors.ts": [
    "// A comment naming ./missing.ts is harmless.",
    "import {",
    "  helper,",
    '} from "./helper.ts";',
    "import type { Shape } from './types.ts';",
    'export * from "./sub/more.ts";',
    'import "npm:left-pad@1";',
    'export const later = () => import("./lazy.ts");',
    "export const x: Shape = helper();",
  ].join("\n"),
  "helper.ts": "export const helper = () => ({ n: 1 });\n",
  "types.ts": "export interface Shape { n: number }\n",
  "sub/more.ts": 'export { helper as again } from "../helper.ts";\n',
  "lazy.ts": "export const lazy = 1;\n",
  "unrelated.ts": "export const unrelated = 1;\n",
};

const hashOf = (dir: string) => moduleHash(`file://${dir}/actors.ts`);

Deno.test("the module hash covers what the actor's module imports, statically or by a literal import(), and nothing else", async () => {
  const dir = await folder(FILES);
  try {
    const before = await hashOf(dir);
    for (const name of ["helper.ts", "types.ts", "sub/more.ts", "lazy.ts"]) {
      const text = await Deno.readTextFile(`${dir}/${name}`);
      await Deno.writeTextFile(`${dir}/${name}`, `${text}// changed\n`);
      assert.notEqual(await hashOf(dir), before, `a change to ${name} counts`);
      await Deno.writeTextFile(`${dir}/${name}`, text);
      assert.equal(await hashOf(dir), before, `${name} restored`);
    }
    await Deno.writeTextFile(`${dir}/unrelated.ts`, "// changed\n");
    assert.equal(await hashOf(dir), before, "a file it does not import");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the module hash is the same for two checkouts in different places, and differs when a file moves", async () => {
  const a = await folder(FILES);
  const b = await folder(FILES);
  try {
    assert.equal(await hashOf(a), await hashOf(b));
    // The same bytes under another path are other code.
    await Deno.rename(`${b}/sub`, `${b}/other`);
    await Deno.writeTextFile(
      `${b}/actors.ts`,
      FILES["actors.ts"].replace("./sub/more.ts", "./other/more.ts"),
    );
    assert.notEqual(await hashOf(a), await hashOf(b));
  } finally {
    await Deno.remove(a, { recursive: true });
    await Deno.remove(b, { recursive: true });
  }
});

Deno.test("the module hash of a module that cannot be read fails, naming it", async () => {
  await assert.rejects(
    moduleHash("file:///tmp/baton-tests/no-such-module.ts"),
    (error: Error) =>
      error instanceof Deno.errors.NotFound &&
      error.message.includes("/tmp/baton-tests/no-such-module.ts"),
  );
});
