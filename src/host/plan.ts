/**
 * The run-time checks of a topology: what `Relay.connect()` accepts, checked
 * synchronously, before any worker exists, and named.
 *
 * @module
 */

import { Actor, metaOf } from "../actor.ts";
import { render } from "../common/values.ts";
import {
  type AnyActor,
  Group,
  type GroupLike,
  type GroupOptions,
  Input,
} from "../topology.ts";
import type { Policy } from "../common/protocol.ts";
import { policyOf } from "./options.ts";
import { checkGroupKey, checkGroupName, checkRole } from "./validate.ts";

/** A group after validation. */
export interface GroupPlan {
  readonly name: string;
  readonly actors: readonly AnyActor[];
  readonly maxsize: number | undefined;
  readonly permissions: Deno.PermissionOptions | undefined;
  /** What its actors do when handling a message fails. */
  readonly policy: Policy;
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
    if (g !== undefined) {
      const problem = policyProblem(g.options, index === 0 && !fed);
      if (problem !== undefined) {
        throw new TypeError(
          `${WHERE}: group ${name} ${problem.text}; ${problem.fix}`,
        );
      }
    }
    // A Group's options were checked when it was made.
    return {
      name,
      actors: actors as AnyActor[],
      maxsize: g?.options.maxsize,
      permissions: g?.options.permissions,
      policy: policyOf(g?.options ?? {}),
    };
  });
  for (const p of plans) {
    for (const actor of p.actors) metaOf(actor)!.owner = owner;
  }
  return { input: fed, groups: plans };
}

/** Options of a group's failure policy that only receivers can use. */
export const RECEIVER_OPTIONS = [
  "retries",
  "backoffMs",
  "recvTimeoutMs",
  "concurrency",
] as const;

/**
 * What is wrong with a group's failure policy where the group stands, if
 * anything: the options about `recv()` mean nothing on sources (which have
 * none), and `restarts` nothing without `onError: "restart"`. `key` names
 * the option at fault.
 */
export function policyProblem(
  options: Readonly<GroupOptions>,
  source: boolean,
): { key: string; text: string; fix: string } | undefined {
  if (source) {
    for (const key of RECEIVER_OPTIONS) {
      if (options[key] === undefined) continue;
      return {
        key,
        text:
          `is a group of sources, which run loop() and receive no message, so ${key} (about the calls of recv()) means nothing there`,
        fix:
          `leave ${key} out, or set it on a later group; a source's failures are handled by onError "fail" or "restart"`,
      };
    }
    if (options.onError === "skip") {
      return {
        key: "onError",
        text:
          `is a group of sources, which receive no message, so onError "skip" (a message to the dead letters) means nothing there`,
        fix: `use onError "fail" (the default) or "restart"`,
      };
    }
  }
  if (options.onError === "restart" && (options.concurrency ?? 1) > 1) {
    return {
      key: "concurrency",
      text:
        `restarts its actors (onError "restart") and sets concurrency ${options.concurrency}; a restart replays what its actor had not handled, counted in the order the messages came, which calls in flight at once do not keep`,
      fix:
        `leave concurrency at 1 with onError "restart", or use onError "skip" or "fail"`,
    };
  }
  if (options.restarts !== undefined && options.onError !== "restart") {
    return {
      key: "restarts",
      text: `sets restarts, which counts restarts, but its onError is ${
        JSON.stringify(options.onError ?? "fail")
      }`,
      fix: `set onError: "restart" too, or leave restarts out`,
    };
  }
  return undefined;
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
