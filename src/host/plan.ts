/**
 * The run-time checks of a topology: what `Relay.connect()` accepts, checked
 * synchronously, before any worker exists, and named.
 *
 * @module
 */

import { Actor, metaOf } from "../actor.ts";
import { render } from "../common/values.ts";
import { type AnyActor, Group, type GroupLike, Input } from "../topology.ts";
import { checkGroupKey, checkGroupName, checkRole } from "./validate.ts";

/** A group after validation. */
export interface GroupPlan {
  readonly name: string;
  readonly actors: readonly AnyActor[];
  readonly maxsize: number | undefined;
  readonly permissions: Deno.PermissionOptions | undefined;
  /** Where the group runs across processes (default `"here"`). */
  readonly place?: "workers" | "here";
}

const WHERE = "Cannot connect groups";

/**
 * Validates groups given to `connect()` and names them. `owner` is the relay:
 * an actor can belong to one relay only.
 */
export function plan(
  groups: readonly GroupLike[] | Record<string, GroupLike>,
  owner: object,
): { input: boolean; groups: GroupPlan[] } {
  let entries: [string | undefined, unknown][] = Array.isArray(groups)
    ? groups.map((g) => [undefined, g])
    : Object.entries(groups);
  for (const [key] of entries) {
    if (key !== undefined) checkGroupKey(key, WHERE);
  }
  const fed = entries.length > 0 && entries[0][1] instanceof Input;
  if (fed) entries = entries.slice(1);
  const misplaced = entries.findIndex(([, g]) => g instanceof Input);
  if (misplaced >= 0) {
    throw new TypeError(
      `${WHERE}: input() stands for the main thread as the first group, but it is group ${
        misplaced + (fed ? 1 : 0)
      }; put it first`,
    );
  }
  if (entries.length + (fed ? 1 : 0) < 2) {
    throw new TypeError(
      `${WHERE}: a relay needs at least 2 groups (a source and a receiver), received ${
        entries.length + (fed ? 1 : 0)
      }`,
    );
  }
  const names = new Set<string>();
  const seen = new Set<AnyActor>();
  const plans = entries.map(([key, value], index): GroupPlan => {
    const g = value instanceof Group ? value : undefined;
    const name = g?.options.name ??
      (key === undefined ? `group-${index}` : checkGroupName(key, WHERE));
    if (names.has(name)) {
      throw new TypeError(
        `${WHERE}: two groups are named "${name}"; give each group a unique name`,
      );
    }
    names.add(name);
    const actors: unknown[] = g !== undefined
      ? [...g.actors]
      : Array.isArray(value)
      ? value
      : [value];
    if (actors.length === 0) {
      throw new TypeError(
        `${WHERE}: group ${name} is empty; give it at least one actor`,
      );
    }
    for (const actor of actors) {
      checkActor(actor, name, fed ? index + 1 : index, seen, owner);
    }
    // A Group's options were checked when it was made.
    return {
      name,
      actors: actors as AnyActor[],
      maxsize: g?.options.maxsize,
      permissions: g?.options.permissions,
      place: g?.options.place ?? "here",
    };
  });
  for (const p of plans) {
    for (const actor of p.actors) metaOf(actor)!.owner = owner;
  }
  return { input: fed, groups: plans };
}

function checkActor(
  actor: unknown,
  group: string,
  index: number,
  seen: Set<AnyActor>,
  owner: object,
): void {
  if (typeof actor === "function" && actor.prototype instanceof Actor) {
    throw new TypeError(
      `${WHERE}: group ${group} holds the class ${actor.name}, not an instance; use new ${actor.name}()`,
    );
  }
  if (!(actor instanceof Actor) || metaOf(actor) === undefined) {
    throw new TypeError(
      `${WHERE}: group ${group} holds ${
        render(actor, 40)
      }, which is not an Actor; pass instances of classes that extend Actor`,
    );
  }
  const meta = metaOf(actor)!;
  if (seen.has(actor)) {
    throw new TypeError(
      `${WHERE}: ${meta.name} appears twice; each actor runs in one worker, create one instance per place`,
    );
  }
  if (meta.owner !== undefined && meta.owner !== owner) {
    throw new TypeError(
      `${WHERE}: ${meta.name} already belongs to another relay; create new instances for this one`,
    );
  }
  seen.add(actor);
  checkRole(actor, index === 0, `${WHERE}: group ${group}`, meta.name);
}
