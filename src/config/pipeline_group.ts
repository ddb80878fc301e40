/**
 * One group of a pipeline file: its actor class, imported from its module
 * and checked, its count, the fields assigned onto each instance, the
 * `maxsize` of the edge into it and its workers' permissions.
 *
 * @module
 */

import { PERMISSION_KINDS } from "../host/validate.ts";
import type { Node } from "yaml";
import { Actor, hasLoop, hasRecv } from "../actor.ts";
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
const PERMISSION_KEYS = PERMISSION_KINDS;
const PATH_PERMISSIONS = ["ffi", "read", "write"];

/** A positive integer, or undefined (reported). */
export function positiveInteger(
  source: ConfigSource,
  entry: Entry,
  name: string,
): number | undefined {
  const value = source.scalar(entry.value);
  if (
    typeof value === "number" && Number.isInteger(value) && value >= 1 &&
    value <= 2 ** 30
  ) return value;
  source.report(
    entry.value,
    entry.path,
    `${name} must be a positive integer, received ${
      source.describe(entry.value)
    }`,
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
  if (keys === undefined) return undefined;
  const get = (key: string) => keys.find((e) => e.key === key);
  const count = get("count");
  const n = count === undefined ? 1 : positiveInteger(source, count, "count");
  const max = get("maxsize");
  const maxsize = max === undefined
    ? undefined
    : positiveInteger(source, max, "maxsize");
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
  if (cls === undefined || n === undefined) return undefined;

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
  if (index === 0 && !hasLoop(sample)) {
    at(
      `${cls.name} has no loop(); the first group's actors are sources and must override loop()`,
    );
  }
  if (index > 0 && !hasRecv(sample)) {
    at(
      `${cls.name} has no recv(); the actors of every group after the first must override recv()`,
    );
  }
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
    name: entry.key,
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
  const value = exports[name];
  if (value === undefined) {
    const actors = Object.keys(exports).filter((k) => isActorClass(exports[k]));
    source.report(
      node,
      path,
      `${module} has no export ${JSON.stringify(name)}; ${
        actors.length === 0
          ? "it exports no actor class"
          : `its actor classes are ${actors.join(", ")}`
      }`,
    );
    return undefined;
  }
  if (!isActorClass(value)) {
    source.report(
      node,
      path,
      typeof value === "function"
        ? `${name} exported by ${module} does not extend Actor`
        : `${name} exported by ${module} is ${
          describeValue(value)
        }, not a class that extends Actor`,
    );
    return undefined;
  }
  return value;
}

function isActorClass(value: unknown): value is new () => AnyActor {
  return typeof value === "function" && value.prototype instanceof Actor;
}

function describeValue(value: unknown): string {
  if (value === null) return "null";
  return typeof value === "object" ? "an object" : `a ${typeof value}`;
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
  const denied = /Requires read access to "([^"]+)"/.exec(message);
  if (denied !== null || name === "NotCapable" || name === "PermissionDenied") {
    const path = denied?.[1] ?? source.path(url);
    return `cannot import ${module}: no read permission for ${path}; run deno with --allow-read (-R)`;
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

function planPermissions(
  source: ConfigSource,
  entry: Entry,
): Deno.PermissionOptions | undefined {
  const value = source.scalar(entry.value);
  if (value === "inherit" || value === "none") return value;
  if (
    typeof value === "string" || entry.value === null ||
    !("items" in entry.value) || Array.isArray(source.toJS(entry.value))
  ) {
    source.report(
      entry.value,
      entry.path,
      `permissions must be inherit, none or a mapping such as { read: [./data], net: false }, received ${
        source.describe(entry.value)
      }`,
    );
    return undefined;
  }
  const out: Record<string, unknown> = {};
  for (
    const p of source.entries(entry.value, entry.path, PERMISSION_KEYS) ?? []
  ) {
    const v = source.toJS(p.value);
    if (v === "inherit" || typeof v === "boolean") {
      out[p.key] = v;
    } else if (
      Array.isArray(v) && v.every((s) => typeof s === "string" && s !== "")
    ) {
      // Paths are relative to the pipeline file, as every path in it.
      out[p.key] = PATH_PERMISSIONS.includes(p.key)
        ? v.map((s) => source.path(source.resolve(s)))
        : v;
    } else {
      source.report(
        p.value,
        p.path,
        `expected inherit, true, false or a list, received ${
          source.describe(p.value)
        }`,
      );
    }
  }
  return out as Deno.PermissionOptionsObject;
}
