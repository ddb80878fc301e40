/**
 * Groups and their types: what `Relay.connect()` accepts, checked at compile
 * time where TypeScript can (the run-time checks: `host/plan.ts`).
 *
 * @module
 */

import type { Actor } from "./actor.ts";
import { groupOptions } from "./host/options.ts";

/** Any actor, whatever it receives and sends. */
// deno-lint-ignore no-explicit-any
export type AnyActor = Actor<any, any>;

/** Options of one group. */
export interface GroupOptions {
  /**
   * The group's name in logs, errors and metrics (default `group-<index>`):
   * a non-empty string other than `"input"` and `"results"`, the names of
   * the main thread's edges.
   */
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
  /**
   * How many more times `recv()` is called with a message whose handling
   * failed (threw, rejected or ran past `recvTimeoutMs`); each failed
   * attempt is logged as a warning, and `this.attempt` numbers them.
   * Default 0. Refused, as the other options about `recv()` are, on a
   * group of sources.
   */
  retries?: number;
  /**
   * How long to wait before the first retry, in ms; each later retry waits
   * twice as long as the one before. Default 0 (retry at once).
   */
  backoffMs?: number;
  /**
   * What happens after a message's last attempt failed: `"fail"` (the
   * default) fails the run; `"skip"` sends the message to the dead letters
   * (`relay.deadLetters()`) and the actor goes on; `"restart"` ends the
   * actor's worker, starts a new one from the actor's state at `start()`
   * and hands it the message again.
   */
  onError?: "fail" | "skip" | "restart";
  /**
   * For `onError: "restart"`: more than `max` restarts of the group's
   * actors within `withinMs` fails the run. Default
   * `{ max: 3, withinMs: 60_000 }`.
   */
  restarts?: { max: number; withinMs: number };
  /**
   * A `recv()` whose promise has not settled after this many ms counts as
   * a failed attempt, with a `TimeoutError` naming the actor and the
   * message. The call itself goes on (JavaScript cannot stop it); a
   * synchronous `recv()` is not timed. Default: no limit.
   */
  recvTimeoutMs?: number;
  /**
   * Most `recv()` calls in flight at once in each of the group's actors,
   * for stages that wait on I/O; no more than the edge's `maxsize`. Calls
   * start in the order the messages arrived and end in any order. Default
   * 1: a message waits for the attempts at the one before it.
   */
  concurrency?: number;
}

/** A group of actors with its options; made by {@linkcode group}. */
export class Group<A extends AnyActor = AnyActor> {
  /** The group's actors. */
  readonly actors: readonly A[];
  /** The group's options, checked and frozen. */
  readonly options: Readonly<GroupOptions>;

  /**
   * Prefer {@linkcode group}. Throws a `TypeError` or `RangeError` for bad
   * options: an unknown key, a bad name, `maxsize` or `permissions`.
   */
  constructor(actors: readonly A[], options: GroupOptions = {}) {
    this.actors = actors;
    this.options = groupOptions(options);
  }
}

/**
 * Makes a group of actors with options: a name, the `maxsize` of the edge
 * into it, narrower permissions. Throws a `TypeError` or `RangeError` for
 * bad options.
 *
 * @example A slow stage with a small queue in front of it
 * ```ts
 * import { Actor, group, Relay } from "@baton/relay";
 * import assert from "node:assert/strict";
 *
 * class Producer extends Actor<never, number> {
 *   override async loop(): Promise<void> {
 *     for (let x = 0; x < 10; x++) await this.send(x);
 *   }
 * }
 * class Slow extends Actor<number> {
 *   override async recv(): Promise<void> {
 *     await new Promise((resolve) => setTimeout(resolve, 1));
 *   }
 * }
 *
 * // Inline: all in this thread; without it, in workers (classes exported).
 * const relay = new Relay({ inline: true });
 * relay.connect(
 *   new Producer(),
 *   group([new Slow(), new Slow()], { name: "slow", maxsize: 4 }),
 * );
 * assert.deepEqual(relay.groups, ["group-0", "slow"]);
 * const { edges, groups } = await relay.start();
 * assert.equal(edges[0].maxsize, 4); // the edge group-0 → slow
 * assert.equal(groups[1].received, 10);
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
 * @example Feeding actors from an array
 * ```ts
 * import { Actor, input, Relay } from "@baton/relay";
 * import assert from "node:assert/strict";
 *
 * class Double extends Actor<number, number> {
 *   override recv(x: number): Promise<void> {
 *     return this.send(2 * x);
 *   }
 * }
 *
 * // Inline: all in this thread; without it, in workers (classes exported).
 * const relay = new Relay({ inline: true });
 * relay.connect(input<number>(), [new Double(), new Double()]);
 * const doubled: number[] = [];
 * for await (const x of relay.results<number>({ input: [1, 2, 3] })) {
 *   doubled.push(x);
 * }
 * assert.deepEqual(doubled.sort(), [2, 4, 6]);
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

/**
 * What the last group of a chain sends: the type of `results()` of a relay
 * whose `connect()` got these groups (`unknown` when TypeScript cannot tell,
 * as for arrays of unknown length).
 */
export type LastOut<T extends readonly unknown[]> = T extends
  readonly [...unknown[], infer L] ? OutOf<ActorOf<L>>
  : unknown;

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
export type Chain<T extends readonly unknown[], Prev = ChainStart> = T extends
  readonly [infer H, ...infer R] ? [
    [Prev] extends [ChainStart] ? H
      : [OutOf<ActorOf<Prev>>] extends [InOf<ActorOf<H>>] ? H
      : Mismatch<OutOf<ActorOf<Prev>>, InOf<ActorOf<H>>>,
    ...Chain<R, H>,
  ]
  : T;
