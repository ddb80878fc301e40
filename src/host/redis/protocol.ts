/**
 * The control plane of a run across processes: what the coordinator (the
 * process that called `relay.start()`) and its worker processes say to
 * each other, on Redis streams of the run's own. Each worker process reads
 * its inbox (`w:<id>`); the coordinator reads `up`, which every worker
 * process writes to. Heartbeats are keys with a TTL (`hb:<id>`).
 *
 * Messages are v8-serialised, one per stream entry, in field `m`.
 *
 * @module
 */

import type { Buffer } from "node:buffer";
import { dirname, relative } from "node:path";
import { fileURLToPath } from "node:url";
import v8 from "node:v8";
import type { InitMessage, ToWorker } from "../../common/protocol.ts";
import type { Reply } from "../../link/redis/link.ts";

/** A worker process → the coordinator. */
export type UpMessage =
  | {
    readonly kind: "hello";
    readonly worker: string;
    readonly slots: number;
    readonly host: string;
    readonly pid: number;
    /** The hash of the worker's baton code. */
    readonly code: string;
  }
  /** A message on a member's control port, as it arrived. */
  | {
    readonly kind: "member";
    readonly member: string;
    /** Which start of the member said it (0 first, then restarts). */
    readonly attempt: number;
    readonly data: unknown;
  }
  /** A member failed outside its runtime (`MemberEvents.failure`). */
  | {
    readonly kind: "failure";
    readonly member: string;
    readonly attempt: number;
    readonly message: string;
    readonly exited: boolean;
  }
  /** A member's counters (received, sent, waited ms). */
  | {
    readonly kind: "stats";
    readonly member: string;
    readonly attempt: number;
    readonly values: readonly number[];
  }
  /** A worker process leaves (the run ended, or it cannot go on). */
  | { readonly kind: "bye"; readonly worker: string; readonly reason: string };

/** The coordinator → a worker process. */
export type DownMessage =
  | {
    readonly kind: "spawn";
    readonly member: string;
    /** The init message, its stats slot left out. */
    readonly init: Omit<InitMessage, "stats">;
    /** The module as a path relative to the coordinator's directory. */
    readonly relative: string | undefined;
    /** SHA-256 of the actor's module as the coordinator reads it. */
    readonly moduleHash: string;
    readonly permissions: Deno.PermissionOptions | undefined;
    /** How many times this member started before (a restart). */
    readonly attempt: number;
  }
  | {
    readonly kind: "post";
    readonly member: string;
    readonly message: ToWorker;
  }
  | { readonly kind: "terminate"; readonly member: string }
  | { readonly kind: "end"; readonly reason: string }
  | { readonly kind: "refuse"; readonly reason: string };

/** The keys of a run's control plane. */
/**
 * The process id a member's Redis ends use in a worker process (what a
 * fence names): its own, so that one member can be fenced alone when it
 * restarts, and the process's members all when the process dies.
 */
export const memberProcess = (
  worker: string,
  member: string,
  attempt: number,
): string => `${worker}/${member}/${attempt}`;

export function runKeys(run: string): {
  prefix: string;
  up: string;
  inbox: (worker: string) => string;
  heartbeat: (who: string) => string;
  coordinator: string;
} {
  const prefix = `baton:${run}:`;
  return {
    prefix,
    up: `${prefix}up`,
    inbox: (worker) => `${prefix}w:${worker}`,
    heartbeat: (who) => `${prefix}hb:${who}`,
    coordinator: `${prefix}hb:coordinator`,
  };
}

/** Messages as a stream entry's value. */
export function encode(
  messages: readonly (UpMessage | DownMessage)[],
): Buffer {
  return v8.serialize(messages);
}

/** Each message of an XREAD reply of one stream, with its id. */
export function entriesOf(reply: Reply): [string, unknown][] {
  if (reply === null) return [];
  const streams: Reply[] = Array.isArray(reply)
    ? reply.map((r) => (r as Reply[])[1])
    : Object.values(reply as Record<string, Reply>);
  const out: [string, unknown][] = [];
  for (const entries of streams) {
    for (const entry of entries as Reply[]) {
      const [id, fields] = entry as [Reply, Reply[]];
      for (let i = 0; i < fields.length; i += 2) {
        if (String(fields[i]) === "m") {
          out.push([String(id), v8.deserialize(fields[i + 1] as Buffer)]);
        }
      }
    }
  }
  return out;
}

/** SHA-256 of bytes, in hex. */
export async function sha256(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest(
    "SHA-256",
    bytes as Uint8Array<ArrayBuffer>,
  );
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0"))
    .join("");
}

/**
 * The specifiers a module's text imports statically (`import … from "x"`,
 * `export … from "x"`, `import "x"`) or by a dynamic `import("x")` of a
 * literal. Read from the text, not parsed: a specifier in a comment is
 * taken too, which at worst hashes one more file.
 */
const IMPORTS =
  /\b(?:import|export)\s[^'"`;]*?\bfrom\s*(["'])([^"'\n]+)\1|\bimport\s*(["'])([^"'\n]+)\3|\bimport\s*\(\s*(["'])([^"'\n]+)\5\s*\)/g;

/** Files whose text can import others. */
const SCRIPT = /\.(?:[cm]?[jt]sx?)$/;

/**
 * Whether `url` is one of baton's own files, which {@linkcode codeHash}
 * covers: under `src/`, or an entry at the root.
 */
function isBaton(url: URL): boolean {
  if (url.href.startsWith(new URL("src/", ROOT).href)) return true;
  return ENTRIES.some((entry) => url.href === new URL(entry, ROOT).href);
}

/**
 * The local files of a module's graph: the module, then what it imports
 * by a relative or `file:` specifier, followed through those, less baton's
 * own files. Bare specifiers (`npm:`, `jsr:`, an import map's names) are
 * not followed: their versions are the lockfile's.
 */
async function localGraph(entry: URL): Promise<URL[]> {
  const found = new Map<string, URL>();
  const queue = [entry];
  const decoder = new TextDecoder();
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (found.has(file.href)) continue;
    let bytes: Uint8Array;
    try {
      bytes = await Deno.readFile(file);
    } catch (error) {
      // An import the text only seemed to make (a comment, a string).
      if (file !== entry && error instanceof Deno.errors.NotFound) continue;
      throw error;
    }
    found.set(file.href, file);
    if (!SCRIPT.test(file.pathname)) continue;
    for (const match of decoder.decode(bytes).matchAll(IMPORTS)) {
      const specifier = match[2] ?? match[4] ?? match[6];
      if (!/^(?:\.{1,2}\/|\/|file:)/.test(specifier)) continue;
      const next = new URL(specifier, file);
      if (next.protocol === "file:" && !isBaton(next)) queue.push(next);
    }
  }
  return [...found.values()].sort((a, b) => a.href < b.href ? -1 : 1);
}

/**
 * The hash of an actor's module and the local modules it imports (with
 * their paths from the module's folder, so that two checkouts in other
 * places agree), or of its URL where it is not a file. Baton's own files
 * are in {@linkcode codeHash}.
 */
export async function moduleHash(url: string): Promise<string> {
  if (!url.startsWith("file:")) {
    return await sha256(new TextEncoder().encode(url));
  }
  const entry = new URL(url);
  const folder = dirname(fileURLToPath(entry));
  const encoder = new TextEncoder();
  const parts: Uint8Array[] = [];
  for (const file of await localGraph(entry)) {
    parts.push(encoder.encode(`${relative(folder, fileURLToPath(file))}\n`));
    parts.push(await Deno.readFile(file));
  }
  return await sha256(concat(parts));
}

/** The bytes of `parts`, one after another. */
function concat(parts: readonly Uint8Array[]): Uint8Array {
  const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    all.set(p, at);
    at += p.length;
  }
  return all;
}

/** baton's root: the folder of `mod.ts`. */
const ROOT = new URL("../../../", import.meta.url);

/** The entries at baton's root that a process may run or import. */
const ENTRIES = ["mod.ts", "actor.ts", "redis.ts", "config.ts", "cli.ts"];

/** Every `.ts` and `.js` file under `dir`, as paths from baton's root. */
async function sources(dir: URL, path: string, out: string[]): Promise<void> {
  for await (const entry of Deno.readDir(dir)) {
    const at = `${path}${entry.name}`;
    if (entry.isDirectory) {
      await sources(new URL(`${entry.name}/`, dir), `${at}/`, out);
    } else if (entry.isFile && /\.[jt]s$/.test(entry.name)) out.push(at);
  }
}

/**
 * The hash of this process's baton code: every module of its `src/` and
 * its entries, with their paths, so that a worker process whose checkout
 * differs from the coordinator's anywhere in baton is refused (a file of
 * the worker runtime as much as one of the Redis transport, and the bundle
 * of the runtime that actors' workers run, `src/worker/bundle/`). Loaded from
 * elsewhere than files (a registry), baton's URL, which names its version.
 */
export async function codeHash(): Promise<string> {
  if (ROOT.protocol !== "file:") {
    return await sha256(new TextEncoder().encode(ROOT.href));
  }
  const files: string[] = [];
  await sources(new URL("src/", ROOT), "src/", files);
  for (const entry of ENTRIES) {
    try {
      if ((await Deno.stat(new URL(entry, ROOT))).isFile) files.push(entry);
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
  }
  files.sort();
  const encoder = new TextEncoder();
  const parts: Uint8Array[] = [];
  for (const file of files) {
    parts.push(encoder.encode(`${file}\n`));
    parts.push(await Deno.readFile(new URL(file, ROOT)));
  }
  return await sha256(concat(parts));
}
