/**
 * One group of a pipeline file: its actor class, imported from its module
 * and checked, its count, the fields assigned onto each instance, the
 * `maxsize` of the edge into it and its workers' permissions.
 *
 * @module
 */

import { isMap } from "yaml";
import { Actor } from "../actor.ts";
import {
  checkGroupName,
  checkMaxsize,
  checkPermission,
  checkPermissions,
  checkPlace,
  checkPolicyOption,
  checkRole,
  PERMISSION_KINDS,
  POLICY_KEYS,
} from "../host/validate.ts";
import { policyProblem } from "../host/plan.ts";
import type { GroupOptions } from "../topology.ts";
import { actorClass } from "./actor_module.ts";
import { CONFIG_LIMITS } from "./limits.ts";
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
  /**
   * Where the group runs with a `transport` (`"workers"`: in the worker
   * processes of the run), if the file says.
   */
  readonly place: "workers" | "here" | undefined;
  /**
   * The group's failure policy as the file sets it (`retries`, `backoffMs`,
   * `onError`, `restarts`, `recvTimeoutMs`, `concurrency`), as `group()`
   * takes it.
   */
  readonly policy: Readonly<GroupOptions>;
  /** The group's actors. */
  readonly actors: readonly Actor<unknown, unknown>[];
}

const GROUP_KEYS = [
  "actor",
  "count",
  "with",
  "maxsize",
  "permissions",
  "place",
  ...POLICY_KEYS,
];
const PATH_PERMISSIONS = ["ffi", "read", "write"];

/**
 * The members of Actor (`name`, `signal`, `send`, …): the relay sets or
 * provides them, so no field of a subclass may take their names.
 */
const ACTOR_MEMBERS: ReadonlySet<string> = new Set(
  Object.getOwnPropertyNames(Actor.prototype).filter((key) =>
    key !== "constructor"
  ),
);

/** How a group fits in its pipeline. */
export interface GroupPlace {
  /** Whether the group's actors are sources (the pipeline's first group). */
  readonly source: boolean;
  /** Whether the file has a `transport` (groups may run on workers). */
  readonly across: boolean;
  /** Whether actor modules may be other than local files. */
  readonly allowRemoteActors: boolean;
  /** The actors the groups before this one have. */
  readonly actorsBefore: number;
}

/**
 * The number of actors of a group (`entry` its count, or undefined for the
 * default, 1), or undefined (reported at `node`): a positive integer that
 * keeps the pipeline within `CONFIG_LIMITS.actors`.
 */
function count(
  source: ConfigSource,
  entry: Entry | undefined,
  group: Entry,
  before: number,
): number | undefined {
  const value = entry === undefined ? 1 : source.scalar(entry.value);
  const [node, path] = entry === undefined
    ? [group.keyNode, group.path]
    : [entry.value, entry.path];
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1) {
    source.report(
      node,
      path,
      `count must be a positive integer, received ${
        source.describe(node)
      }; give the number of actors of the group, such as 2`,
    );
    return undefined;
  }
  const max = CONFIG_LIMITS.actors;
  if (before + value <= max) return value;
  source.report(
    node,
    path,
    before === 0
      ? `count must be at most ${max}, the actors a pipeline may have (CONFIG_LIMITS.actors), received ${value}; each actor is a Web Worker, a thread of its own`
      : `${
        entry === undefined ? "this group's actor" : `count ${value}`
      } makes ${
        before + value
      } actors in the pipeline, more than the ${max} it may have (CONFIG_LIMITS.actors); each actor is a Web Worker, a thread of its own: ${
        before < max
          ? `give this group at most ${max - before}`
          : "give the groups before fewer"
      }`,
  );
  return undefined;
}

/**
 * Checks one entry under `groups`, imports its actor class and builds its
 * actors; undefined (reported) when it has problems.
 */
export async function planGroup(
  source: ConfigSource,
  entry: Entry,
  place: GroupPlace,
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
  const n = count(source, c, entry, place.actorsBefore);
  const max = get("maxsize");
  const maxsize = max === undefined ? undefined : source.validate(
    max.value,
    max.path,
    (where) => checkMaxsize(source.toJS(max.value), where),
  );
  const policy: GroupOptions = {};
  const given: Partial<Record<keyof GroupOptions, Entry>> = {};
  for (const key of POLICY_KEYS) {
    const e = get(key);
    if (e === undefined) continue;
    const value = source.validate(
      e.value,
      e.path,
      (where) => checkPolicyOption(key, source.toJS(e.value), where),
    );
    if (value === undefined) continue;
    (policy as Record<string, unknown>)[key] = value;
    given[key] = e;
  }
  const problem = policyProblem(policy, place.source);
  if (problem !== undefined) {
    const e = given[problem.key as keyof GroupOptions]!;
    source.report(
      e.keyNode,
      e.path,
      `group ${entry.key} ${problem.text}; ${problem.fix}`,
    );
  }
  const p = get("place");
  const placed = p === undefined ? undefined : source.validate(
    p.value,
    p.path,
    (where) => checkPlace(source.toJS(p.value), where),
  );
  if (placed === "workers" && !place.across) {
    source.report(
      p!.value,
      p!.path,
      `group ${entry.key} is placed on workers, which needs transport: { redis: { url: redis://10.0.0.5:6379, run: nightly-1201 } } at the top of the file; or leave place out, to run it in this process`,
    );
  }
  if (placed === "workers" && policy.onError === "restart" && place.source) {
    const e = given.onError!;
    source.report(
      e.value,
      e.path,
      `group ${entry.key} is a group of sources placed on workers with onError "restart", which cannot restart across processes for now; use onError "fail", or place it here`,
    );
  }
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
  const cls = await actorClass(
    source,
    actor.value,
    actor.path,
    ref,
    place.allowRemoteActors,
  );
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
    (where) => checkRole(sample, place.source, where, cls.name),
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
    place: placed,
    policy,
    actors,
  };
}

/** What the members of Actor that are no methods are. */
const ACTOR_FIELDS: Readonly<Record<string, string>> = {
  name: "the actor's name, which the relay gives it",
  group: "the name of its group, which the relay gives it",
  log: "its logger",
  signal: "aborted when the relay is asked to stop",
  attempt: "the attempt at the message in hand, which the relay counts",
};

function fieldProblem(
  actor: AnyActor,
  className: string,
  key: string,
  value: unknown,
): string | undefined {
  if (ACTOR_MEMBERS.has(key)) {
    return `${JSON.stringify(key)} is a member of Actor (${
      key in ACTOR_FIELDS ? ACTOR_FIELDS[key] : "a method the relay calls"
    }), not a field of ${className}; declare a field of another name in the class, for example ${key}_ = …, and set that`;
  }
  // Fields are own properties; the workers receive those, and only those.
  if (
    !Object.hasOwn(actor, key) ||
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
