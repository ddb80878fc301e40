/**
 * One group of a pipeline file: its actor class, imported from its module
 * and checked, its count, the fields assigned onto each instance, the
 * `maxsize` of the edge into it and its workers' permissions.
 *
 * @module
 */

import { isMap, type Node } from "yaml";
import type { Actor } from "../actor.ts";
import { findActorClass } from "./actor_class.ts";
import { deniedRead, readAccessHint } from "../common/read_access.ts";
import {
  checkGroupName,
  checkMaxsize,
  checkPermission,
  checkPermissions,
  checkRole,
  PERMISSION_KINDS,
} from "../host/validate.ts";
import type { ConfigSource, Entry } from "./source.ts";

// deno-lint-ignore no-explicit-any
type AnyActor = Actor<any, any>;

/** One group of a pipeline file, its actors built. */
export interface PipelineGroup {
  /** The group's name: its key under `groups`. */
  readonly name: string;
  /** The actor as written: `./actors.ts#Producer`. */
  readonly actor: string;
  /** The actors' class name. */
  readonly className: string;
  /** How many actors the group has. */
  readonly count: number;
  /** The fields assigned onto each actor after construction. */
  readonly with: Readonly<Record<string, unknown>>;
  /** The `maxsize` of the edge into the group, if the file sets one. */
  readonly maxsize: number | undefined;
  /** The permissions of the group's workers, if the file sets them. */
  readonly permissions: Deno.PermissionOptions | undefined;
  /** The group's actors. */
  readonly actors: readonly Actor<unknown, unknown>[];
}

const GROUP_KEYS = ["actor", "count", "with", "maxsize", "permissions"];
const PATH_PERMISSIONS = ["ffi", "read", "write"];

/** The number of actors of a group, or undefined (reported). */
function count(source: ConfigSource, entry: Entry): number | undefined {
  const value = source.scalar(entry.value);
  if (typeof value === "number" && Number.isInteger(value) && value >= 1) {
    return value;
  }
  source.report(
    entry.value,
    entry.path,
    `count must be a positive integer, received ${
      source.describe(entry.value)
    }; give the number of actors of the group, such as 2`,
  );
  return undefined;
}

const modules = new Map<string, Promise<Record<string, unknown>>>();

/**
 * Checks one entry under `groups`, imports its actor class and builds its
 * actors; undefined (reported) when it has problems.
 */
export async function planGroup(
  source: ConfigSource,
  entry: Entry,
  index: number,
): Promise<PipelineGroup | undefined> {
  const keys = source.entries(
    entry.value,
    entry.path,
    GROUP_KEYS,
    "a mapping with an actor, such as { actor: ./actors.ts#Producer, count: 2 }",
  );
  const name = source.validate(
    entry.keyNode,
    entry.path,
    (where) => checkGroupName(entry.key, where),
  );
  if (keys === undefined) return undefined;
  const get = (key: string) => keys.find((e) => e.key === key);
  const c = get("count");
  const n = c === undefined ? 1 : count(source, c);
  const max = get("maxsize");
  const maxsize = max === undefined ? undefined : source.validate(
    max.value,
    max.path,
    (where) => checkMaxsize(source.toJS(max.value), where),
  );
  const perm = get("permissions");
  const permissions = perm === undefined
    ? undefined
    : planPermissions(source, perm);
  const w = get("with");
  const fields = w === undefined ? [] : source.entries(w.value, w.path) ?? [];
  const actor = get("actor");
  if (actor === undefined) {
    source.report(
      entry.keyNode,
      entry.path,
      "no actor; name its class as actor: ./module.ts#ClassName",
    );
    return undefined;
  }
  const ref = source.string(
    actor.value,
    actor.path,
    "an actor such as ./actors.ts#Producer",
  );
  if (ref === undefined) return undefined;
  const cls = await actorClass(source, actor.value, actor.path, ref);
  if (cls === undefined || n === undefined || name === undefined) {
    return undefined;
  }

  const at = (message: string) =>
    source.report(actor.value, actor.path, message);
  const actors: AnyActor[] = [];
  for (let i = 0; i < n; i++) {
    try {
      actors.push(new cls());
    } catch (error) {
      at(
        `new ${cls.name}() throws: ${
          (error as Error)?.message ?? String(error)
        }`,
      );
      return undefined;
    }
  }
  const sample = actors[0];
  source.validate(
    actor.value,
    actor.path,
    (where) => checkRole(sample, index === 0, where, cls.name),
  );
  const assigned: Record<string, unknown> = {};
  for (const field of fields) {
    const value = source.toJS(field.value);
    const problem = fieldProblem(sample, cls.name, field.key, value);
    if (problem !== undefined) {
      source.report(field.keyNode, field.path, problem);
    } else assigned[field.key] = value;
  }
  for (const a of actors) Object.assign(a, structuredClone(assigned));
  return {
    name,
    actor: ref,
    className: cls.name,
    count: n,
    with: assigned,
    maxsize,
    permissions,
    actors,
  };
}

async function actorClass(
  source: ConfigSource,
  node: Node | null,
  path: readonly (string | number)[],
  ref: string,
): Promise<(new () => AnyActor) | undefined> {
  const hash = ref.lastIndexOf("#");
  if (hash <= 0 || hash === ref.length - 1) {
    source.report(
      node,
      path,
      `actor must be a module and an export, as ./actors.ts#Producer; received ${
        JSON.stringify(ref)
      }`,
    );
    return undefined;
  }
  const module = ref.slice(0, hash);
  const name = ref.slice(hash + 1);
  const url = /^[a-z][a-z0-9+.-]+:/i.test(module)
    ? module
    : source.resolve(module).href;
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

function importFailure(
  source: ConfigSource,
  error: unknown,
  module: string,
  url: string,
): string {
  const name = error instanceof Error ? error.name : "";
  const message = error instanceof Error
    ? error.message.split("\n")[0]
    : String(error);
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
  if (/Module not found/i.test(message)) {
    return `cannot import ${module}: no such module (${url})`;
  }
  return `cannot import ${module}: ${message}`;
}

function fieldProblem(
  actor: AnyActor,
  className: string,
  key: string,
  value: unknown,
): string | undefined {
  if (
    !(key in actor) ||
    typeof (actor as unknown as Record<string, unknown>)[key] === "function"
  ) {
    const fields = Object.keys(actor);
    return `${className} has no field ${JSON.stringify(key)}; ${
      fields.length === 0
        ? `declare it in the class, for example ${key} = 0;`
        : `its fields are ${fields.join(", ")}`
    }`;
  }
  const current = (actor as unknown as Record<string, unknown>)[key];
  const kind = typeof current;
  if (
    (kind === "number" || kind === "string" || kind === "boolean") &&
    typeof value !== kind
  ) {
    return `${className}.${key} is a ${kind} (${
      JSON.stringify(current)
    }), received ${value === null ? "null" : JSON.stringify(value)}`;
  }
  return undefined;
}

/**
 * The permissions of a group's workers, by the code API's rules, each
 * problem at its key; paths are relative to the file, as every path in it.
 */
function planPermissions(
  source: ConfigSource,
  entry: Entry,
): Deno.PermissionOptions | undefined {
  if (!isMap(entry.value)) {
    return source.validate(
      entry.value,
      entry.path,
      (where) => checkPermissions(source.toJS(entry.value), where),
    );
  }
  const out: Record<string, unknown> = {};
  for (
    const p of source.entries(entry.value, entry.path, PERMISSION_KINDS) ?? []
  ) {
    const v = source.validate(
      p.value,
      p.path,
      (where) => checkPermission(p.key, source.toJS(p.value), where),
    );
    out[p.key] = Array.isArray(v) && PATH_PERMISSIONS.includes(p.key)
      ? v.map((s) => source.path(source.resolve(String(s))))
      : v;
  }
  return out as Deno.PermissionOptionsObject;
}
