/**
 * The actor class a pipeline file names, `./actors.ts#Producer`: which
 * modules may be imported for it, importing it once per module, and what to
 * say when that fails.
 *
 * Importing a module runs its top-level code with the program's
 * permissions, `--check` included. A local file is the user's own choice,
 * as the pipeline file is; a module from anywhere else (`http:`, `https:`,
 * `jsr:`, `npm:`) or carried in the file itself (`data:`, `blob:`) is
 * imported only when the caller allows it (`allowRemoteActors`).
 *
 * @module
 */

import type { Node } from "yaml";
import type { Actor } from "../actor.ts";
import { findActorClass } from "./actor_class.ts";
import { deniedRead, readAccessHint } from "../common/read_access.ts";
import { displayPath } from "./paths.ts";
import type { ConfigSource, KeyPath } from "./source.ts";

// deno-lint-ignore no-explicit-any
type AnyActor = Actor<any, any>;

const SCHEME = /^([a-z][a-z0-9+.-]+):/i;

const modules = new Map<string, Promise<Record<string, unknown>>>();

/**
 * Imports the module of `ref` (`module#Export`) and finds its actor class;
 * undefined (reported at `node`) when it cannot. A module that is not a
 * local file is refused, unimported, unless `allowRemote`.
 */
export async function actorClass(
  source: ConfigSource,
  node: Node | null,
  path: KeyPath,
  ref: string,
  allowRemote: boolean,
): Promise<(new () => AnyActor) | undefined> {
  const hash = ref.lastIndexOf("#");
  if (hash <= 0 || hash === ref.length - 1) {
    source.report(
      node,
      path,
      `actor must be a module and an export, as ./actors.ts#Producer; received ${
        JSON.stringify(shorten(ref))
      }`,
    );
    return undefined;
  }
  const module = ref.slice(0, hash);
  const name = ref.slice(hash + 1);
  const scheme = SCHEME.exec(module)?.[1].toLowerCase();
  if (scheme !== undefined && scheme !== "file" && !allowRemote) {
    source.report(
      node,
      path,
      `the module ${
        shorten(module)
      } (${scheme}:) is not a local file; importing it would run its code (with --check too), so actor modules are local files unless allowed: run baton with --allow-remote-actors, or loadPipeline(path, { allowRemoteActors: true }), if you trust it`,
    );
    return undefined;
  }
  const url = scheme !== undefined ? module : source.resolve(module).href;
  let exports: Record<string, unknown>;
  try {
    let loading = modules.get(url);
    if (loading === undefined) {
      loading = import(url);
      modules.set(url, loading);
    }
    exports = await loading;
  } catch (error) {
    source.report(node, path, importFailure(source, error, module, url));
    return undefined;
  }
  return source.validate(
    node,
    path,
    () => findActorClass(exports, name, module) as new () => AnyActor,
  );
}

/** A specifier as shown in messages: a long one (a data: URL) cut short. */
function shorten(text: string): string {
  return text.length <= 80 ? text : `${text.slice(0, 60)}…(${text.length})`;
}

// deno-lint-ignore no-control-regex
const COLOR = /\u001b\[[0-9;]*m/g;
const NOT_FOUND = /Module not found "([^"]+)"\.(?:\s+at (\S+))?/;

function importFailure(
  source: ConfigSource,
  error: unknown,
  module: string,
  url: string,
): string {
  const name = error instanceof Error ? error.name : "";
  const text = (error instanceof Error ? error.message : String(error))
    .replace(COLOR, "");
  // The module itself, or one it imports, may be out of reach.
  const denied = deniedRead(error);
  if (
    denied !== undefined || name === "NotCapable" || name === "PermissionDenied"
  ) {
    const path = denied || source.path(url);
    return `cannot import ${module}: no read permission for ${path}; ${
      readAccessHint(path)
    }`;
  }
  const missing = NOT_FOUND.exec(text);
  if (missing !== null) {
    const [, what, where] = missing;
    if (what === url) {
      return `cannot import ${module}: no such module (${url})`;
    }
    // A module the actor's module imports, directly or further down.
    return `cannot import ${module}: the module ${
      shown(what)
    } does not exist; it is imported by ${
      where === undefined ? "a module it imports" : shown(where)
    }`;
  }
  return `cannot import ${module}: ${text.split("\n")[0]}`;
}

/** A file URL (maybe with `:line:col`) as a path relative to here. */
function shown(specifier: string): string {
  if (!specifier.startsWith("file:")) return specifier;
  const place = /^(.*?)((?::\d+){0,2})$/.exec(specifier)!;
  try {
    return displayPath(new URL(place[1])) + place[2];
  } catch {
    return specifier;
  }
}
