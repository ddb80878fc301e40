/**
 * Groups and the validation of a topology: what `Relay.connect()` accepts,
 * checked at compile time where TypeScript can and synchronously at run time,
 * before any worker exists.
 *
 * @module
 */

import { Actor, hasLoop, hasRecv, metaOf } from "./actor.ts";
import { render } from "./errors.ts";
import { checkPermissions } from "./permissions.ts";

/** Any actor, whatever it receives and sends. */
// deno-lint-ignore no-explicit-any
export type AnyActor = Actor<any, any>;

/** Options of one group. */
export interface GroupOptions {
  /** The group's name in logs and errors (default `group-<index>`). */
  name?: string;
  /**
   * Most messages in flight on the edge into this group (overrides the
   * relay's `maxsize`).
   */
  maxsize?: number;
  /**
   * Deno permissions of this group's workers, narrower than the main
   * program's: `"none"`, or an object such as `{ read: ["./data"] }` in
   * which every permission not named is denied (Deno's rule). The workers
   * must be able to read the actor's modules. Needs Deno's
   * `--unstable-worker-options` flag.
   */
  permissions?: Deno.PermissionOptions;
}

/** A group of actors with its options; made by {@linkcode group}. */
export class Group<A extends AnyActor = AnyActor> {
  /** The group's actors. */
  readonly actors: readonly A[];
  /** The group's options. */
  readonly options: Readonly<GroupOptions>;

  /** Prefer {@linkcode group}. */
  constructor(actors: readonly A[], options: GroupOptions = {}) {
    this.actors = actors;
    this.options = options;
  }
}

/**
 * Makes a group of actors with options: a name, the `maxsize` of the edge
 * into it, narrower permissions.
 *
 * @example A slow stage with a small queue in front of it
 * ```ts ignore
 * relay.connect(new Producer(), group([new Slow(), new Slow()], { maxsize: 4 }), new Consumer());
 * ```
 */
export function group<A extends AnyActor>(
  actors: A | readonly A[],
  options: GroupOptions = {},
): Group<A> {
  return new Group(Array.isArray(actors) ? actors : [actors as A], options);
}

declare const INPUT: unique symbol;

/**
 * The main thread as the first group: it feeds the next group from
 * `start({ input })` or `relay.stream()`. Made by {@linkcode input}.
 */
export class Input<T = unknown> {
  /** The type of what the main thread sends (types only). */
  declare readonly [INPUT]: T;
}

/**
 * Marks the main thread as the first group of `connect()`: the next group's
 * actors receive what `start({ input })` or `relay.stream()` feeds them.
 *
 * @example Feeding workers from an array
 * ```ts ignore
 * relay.connect(input<number>(), [new Double(), new Double()]);
 * for await (const x of relay.results<number>({ input: [1, 2, 3] })) console.log(x);
 * ```
 */
export function input<T>(): Input<T> {
  return new Input<T>();
}

/** One actor, an array of actors, a {@linkcode Group}, or (first) an {@linkcode Input}. */
export type GroupLike = AnyActor | readonly AnyActor[] | Group | Input;

/** The actor type of a group. */
export type ActorOf<G> = G extends Group<infer A> ? A
  : G extends readonly (infer A)[] ? A
  : G;
/** The messages an actor type receives. */
export type InOf<A> = A extends Actor<infer I, infer _> ? I : never;
/** The messages an actor type sends. */
export type OutOf<A> = A extends Input<infer T> ? T
  : A extends Actor<infer _, infer O> ? O
  : never;

/** Marks a group that cannot take what the group before it sends. */
export interface Mismatch<Sent, Received> {
  /** What the previous group sends and what this group receives. */
  "this group cannot receive what the previous group sends": {
    sends: Sent;
    receives: Received;
  };
}

/** Stands for "no group yet" at the head of a {@linkcode Chain}. */
export interface ChainStart {
  /** Marks the type; never present at run time. */
  readonly chainStart: true;
}

/**
 * The groups of a chain as they must be: each group unchanged if it accepts
 * what the one before it sends, else a {@linkcode Mismatch}. Arrays whose
 * length is not known at compile time are checked at run time only.
 */
export type Chain<T extends readonly unknown[]> = Links<T>;

/** {@linkcode Chain}, group by group. */
export type Links<T extends readonly unknown[], Prev = ChainStart> = T extends
  readonly [infer H, ...infer R] ? [
    [Prev] extends [ChainStart] ? H
      : [OutOf<ActorOf<Prev>>] extends [InOf<ActorOf<H>>] ? H
      : Mismatch<OutOf<ActorOf<Prev>>, InOf<ActorOf<H>>>,
    ...Links<R, H>,
  ]
  : T;

/** A group after validation. */
export interface GroupPlan {
  readonly name: string;
  readonly actors: readonly AnyActor[];
  readonly maxsize: number | undefined;
  readonly permissions: Deno.PermissionOptions | undefined;
}

/** Throws a `RangeError` unless `value` is a positive integer. */
export function checkMaxsize(value: unknown, where: string): number {
  if (
    typeof value !== "number" || !Number.isInteger(value) || value < 1 ||
    value > 2 ** 30
  ) {
    const shown = typeof value === "string"
      ? JSON.stringify(value)
      : String(value);
    throw new RangeError(
      `${where}: maxsize must be a positive integer, received ${shown}`,
    );
  }
  return value;
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
    const name = g?.options.name ?? key ?? `group-${index}`;
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
    const maxsize = g?.options.maxsize === undefined
      ? undefined
      : checkMaxsize(g.options.maxsize, `${WHERE}: group ${name}`);
    const permissions = g?.options.permissions === undefined
      ? undefined
      : checkPermissions(g.options.permissions, `${WHERE}: group ${name}`);
    return { name, actors: actors as AnyActor[], maxsize, permissions };
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
  if (index === 0 && !hasLoop(actor)) {
    throw new TypeError(
      `${WHERE}: ${meta.name} is in the first group (${group}) but has no loop(); a source must override loop()`,
    );
  }
  if (index > 0 && !hasRecv(actor)) {
    throw new TypeError(
      `${WHERE}: ${meta.name} in group ${group} has no recv(); every actor after the first group must override recv()`,
    );
  }
}
