/**
 * Hashing every file of a folder with SHA-256 in parallel: the main thread
 * lists the files and feeds their paths to four hashers through `input()`;
 * each hasher reads a file and digests it with Web Crypto
 * (`crypto.subtle.digest`), and the main thread collects `{ path, hex }`
 * from `relay.results()`. With standard error a terminal, progress bars
 * show how far each group has come (`progress: { total }` gives the first
 * bar its end). Prints `<hex>  <path>` lines sorted by path (paths relative
 * to the folder, as `sha256sum` prints them), then checks every hash
 * against one computed in the main thread: "all N hashes match the main
 * thread's", or exit code 1. The folder is the repository's `src/` unless
 * one is given. About half a second.
 *
 *     deno run -R=. examples/hash_files.ts [folder]
 *
 * (A folder outside the repository needs read access to it too, e.g. `-R`.)
 *
 * @module
 */

import { relative } from "node:path";
import { Actor, input, Relay } from "../mod.ts";

/** A file's hash. */
export interface Hashed {
  path: string;
  hex: string;
}

/** The SHA-256 of some bytes, in lower-case hex. */
export async function sha256(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Reads a file and sends its hash. */
export class Hasher extends Actor<string, Hashed> {
  override async recv(path: string): Promise<void> {
    await this.send({ path, hex: await sha256(await Deno.readFile(path)) });
  }
}

/** The paths of the files under `folder`, recursively, sorted. */
async function list(folder: string): Promise<string[]> {
  const files: string[] = [];
  for await (const entry of Deno.readDir(folder)) {
    const path = `${folder}/${entry.name}`;
    if (entry.isDirectory) files.push(...await list(path));
    else if (entry.isFile) files.push(path);
  }
  return files.sort();
}

if (import.meta.main) {
  const folder = (Deno.args[0] ?? new URL("../src", import.meta.url).pathname)
    .replace(/\/+$/, "");
  const files = await list(folder);
  const started = performance.now();
  const relay = new Relay();
  relay.connect({
    paths: input<string>(),
    hashers: Array.from({ length: 4 }, () => new Hasher()),
  });
  const hashes: Hashed[] = [];
  // Reading the results starts the relay, with these start() options.
  const progress = { total: files.length };
  for await (
    const hashed of relay.results<Hashed>({ input: files, progress })
  ) {
    hashes.push(hashed);
  }
  const ms = performance.now() - started;

  hashes.sort((a, b) => a.path < b.path ? -1 : a.path > b.path ? 1 : 0);
  for (const { hex, path } of hashes) {
    console.log(`${hex}  ${relative(folder, path)}`);
  }
  console.log(`${hashes.length} files of ${folder} in ${ms.toFixed(0)} ms`);

  // The same hashes in the main thread.
  let wrong = hashes.length === files.length ? 0 : 1;
  for (const [i, path] of files.entries()) {
    const hex = await sha256(await Deno.readFile(path));
    if (hashes[i]?.path !== path || hashes[i].hex !== hex) {
      console.error(`mismatch: ${path}`);
      wrong++;
    }
  }
  if (wrong > 0) Deno.exit(1);
  console.log(`all ${hashes.length} hashes match the main thread's`);
}
