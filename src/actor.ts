/**
 * The `Actor` base class: what users extend. The same class serves both
 * threads: in the main thread an actor is a description (its class, its
 * fields, its name); in its worker it runs, its hooks called by the bootstrap
 * and its `send()` bound to the links of its group.
 *
 * @module
 */

import type { Logger } from "./log.ts";
import { logtape } from "./common/logtape.ts";

/** Values structured clone keeps as they are, prototype and all. */
export type Kept =
  | Date
  | RegExp
  | ArrayBuffer
  | SharedArrayBuffer
  | ArrayBufferView
  | Blob
  | Error;

/**
 * What a message type becomes on the way to the next actor, by structured
 * clone: primitives, dates, regular expressions, buffers, typed arrays,
 * blobs and errors as they are; maps, sets, arrays and objects member by
 * member; functions (methods among them) and symbols not at all, which
 * this type says with `never`. `send()` takes this type of its `Out`, so
 * sending an instance of a class with methods is a type error (its
 * instances would arrive as plain objects, the methods gone). Getters and
 * the prototype of data-only classes are lost too, which types cannot see.
 */
export type Cloneable<T> = unknown extends T ? T
  : T extends string | number | boolean | bigint | null | undefined ? T
  : T extends Kept ? T
  : T extends symbol ? never
  // deno-lint-ignore no-explicit-any
  : T extends (...args: any[]) => unknown ? never
  : T extends Map<infer K, infer V> ? Map<Cloneable<K>, Cloneable<V>>
  : T extends Set<infer V> ? Set<Cloneable<V>>
  : { [K in keyof T]: Cloneable<T[K]> };

/** Options of {@linkcode Actor.send}. */
export interface SendOptions {
  /**
   * Objects to transfer instead of copying (for example an `ArrayBuffer`):
   * they move to the receiver and become unusable in the sender.
   */
  transfer?: Transferable[];
}

/** What an actor is bound to in its worker. Internal. */
export interface ActorRuntime {
  readonly name: string;
  readonly group: string;
  readonly log: Logger;
  readonly signal: AbortSignal;
  /** The attempt at the message in hand (see `Actor.attempt`). */
  readonly attempt: number;
  send(message: unknown, options?: SendOptions): Promise<void>;
  report(value: unknown): void;
  /** How many times the actor was restarted (`onError: "restart"`). */
  readonly restarts?: number;
  /** Whether the message in hand may have been handled before. */
  readonly redelivered?: () => boolean;
}

/** What an actor is in the main thread, before it runs. Internal. */
export interface ActorMeta {
  readonly name: string;
  /** The stack at construction: it names the module of the class. */
  readonly stack: string;
  /** The relay the actor was connected to, if any. */
  owner: object | undefined;
}

/** Key of the runtime an actor is bound to in its worker. */
export const RUNTIME: unique symbol = Symbol.for("baton.actor.runtime");
/** Key of an actor's main-thread description. */
export const META: unique symbol = Symbol.for("baton.actor.meta");

/**
 * The folder of baton's entries (`mod.ts`, `actor.ts`): an actor's module
 * imports one of them, which a sandboxed group must be able to read too
 * (`worker/load.ts`). Taken here because a worker loads this module from the
 * sources, where the rest of its runtime comes from a bundle in another
 * folder.
 */
export const BATON_ROOT: URL = new URL("../", import.meta.url);

let created = 0;

/**
 * An actor: one instance per Web Worker, one stage of a pipeline.
 *
 * Override `loop()` in the actors of the first group (sources) and `recv()`
 * in every later group; `startup()` and `shutdown()` are optional. `send()`
 * passes a message to the next group and resolves once the edge has room:
 * awaiting it is how backpressure is felt.
 *
 * The fields an actor has after its constructor ran are copied into its
 * worker; the constructor does not run again there. Keep fields to cloneable
 * data and open resources (files, sockets) in `startup()`.
 *
 * @typeParam In The messages the actor receives.
 * @typeParam Out The messages the actor sends: data that structured clone
 * carries ({@linkcode Cloneable}); `send()` refuses at compile time an
 * instance of a class with methods, which would arrive as a plain object.
 *
 * @example A stage that adds ten
 * ```ts
 * import { Actor } from "@baton/relay";
 *
 * export class AddTen extends Actor<number, number> {
 *   override async recv(x: number): Promise<void> {
 *     await this.send(x + 10);
 *   }
 * }
 * ```
 */
export abstract class Actor<In = never, Out = never> {
  /** Names the actor `<Class>-<n>` and remembers where its class lives. */
  constructor() {
    // V8's own format, whatever a source-map library installed instead.
    const limit = Error.stackTraceLimit;
    const errors = Error as { prepareStackTrace?: unknown };
    const prepare = errors.prepareStackTrace;
    Error.stackTraceLimit = 64;
    errors.prepareStackTrace = undefined;
    let stack: string;
    try {
      stack = new Error().stack ?? "";
    } finally {
      Error.stackTraceLimit = limit;
      errors.prepareStackTrace = prepare;
    }
    const meta: ActorMeta = {
      name: `${new.target.name}-${++created}`,
      stack,
      owner: undefined,
    };
    Object.defineProperty(this, META, { value: meta, enumerable: false });
  }

  /** The actor's name, for example `"Producer-1"`. */
  get name(): string {
    return runtimeOf(this)?.name ?? metaOf(this)?.name ?? this.constructor.name;
  }

  /** The actor's group, for example `"group-0"` or a name given in `connect()`. */
  get group(): string {
    return runtimeOf(this)?.group ?? "";
  }

  /**
   * How many times the actor was restarted: 0 in its first incarnation. A
   * group with `onError: "restart"` replaces an actor that failed by a new
   * one, made from the actor's state as it was at `start()`, whose
   * `startup()` runs again; a source's `loop()` then runs again from the
   * start, and can use this count (and state it keeps outside the actor) to
   * skip what it already sent.
   */
  get restarts(): number {
    return runtimeOf(this)?.restarts ?? 0;
  }

  /**
   * Whether the message being handled may have been handled before: an
   * earlier incarnation of this actor took it (it was in hand when that one
   * failed, or handled and not yet counted), and it is delivered again to
   * this one (see `onError: "restart"`). Across processes, it is also true
   * while an actor handles a message of an entry that a dead worker process
   * had in hand (`@baton/relay/redis`). A sink that must be idempotent
   * checks it. False outside `recv()`.
   */
  get redelivered(): boolean {
    return runtimeOf(this)?.redelivered?.() ?? false;
  }

  /** The actor's logger; its records are emitted in the main thread. */
  get log(): Logger {
    return runtimeOf(this)?.log ??
      logtape().getLogger(["baton", "actor", this.name]);
  }

  /**
   * Aborted when the relay is asked to stop (its signal or `close()`). A
   * source should end its `loop()` when it aborts.
   */
  get signal(): AbortSignal {
    return runtimeOf(this)?.signal ?? NEVER;
  }

  /**
   * Which attempt at the message in hand this is, in `recv()`: 1 the first
   * time the message is handled, 2 the first time it is tried again after a
   * failure (with `group(actors, { retries })`), and so on. An actor can tell
   * a message it sees again by `this.attempt > 1` (to make a side effect
   * idempotent). With `concurrency` above 1 each call in flight sees its
   * own. Across processes it counts the earlier deliveries of the message
   * too: 2 on the first call at a message that a dead worker process had in
   * hand. 0 outside `recv()`.
   *
   * @example Failing the first attempt only
   * ```ts
   * import { Actor, group, input, Relay } from "@baton/relay";
   * import assert from "node:assert/strict";
   *
   * class Flaky extends Actor<number> {
   *   override recv(x: number): void {
   *     if (this.attempt === 1) throw new Error(`not yet: ${x}`);
   *     this.report(`${x} on attempt ${this.attempt}`);
   *   }
   * }
   *
   * // Inline: all in this thread; without it, in workers (classes exported).
   * const relay = new Relay({ inline: true });
   * relay.connect(input<number>(), group(new Flaky(), { retries: 1 }));
   * const reports = Array.fromAsync(relay.reports<string>());
   * const summary = await relay.start({ input: [1, 2] });
   * assert.deepEqual((await reports).map((r) => r.value), [
   *   "1 on attempt 2",
   *   "2 on attempt 2",
   * ]);
   * assert.equal(summary.groups[0].retries, 2);
   * ```
   */
  get attempt(): number {
    return runtimeOf(this)?.attempt ?? 0;
  }

  /**
   * Sends a message to the next group: to exactly one of its actors, the one
   * with the shortest queue. Resolves when the edge has room for it. The
   * message is cloned when its batch is posted (at the latest when the
   * current task ends), not during this call: do not change it afterwards.
   */
  send(message: Cloneable<Out>, options?: SendOptions): Promise<void> {
    const runtime = runtimeOf(this);
    if (runtime === undefined) {
      return Promise.reject(
        new Error(
          `Cannot send from ${this.name}: send() works only in the actor's worker, from startup(), loop(), recv() or shutdown()`,
        ),
      );
    }
    return runtime.send(message, options);
  }

  /**
   * Reports a value to the main thread, where `relay.reports()` yields it
   * with the actor's name and group: progress, partial results, anything
   * cloneable. Reports travel beside the data, not through the edges.
   */
  report(value: unknown): void {
    const runtime = runtimeOf(this);
    if (runtime === undefined) {
      throw new Error(
        `Cannot report from ${this.name}: report() works only in the actor's worker`,
      );
    }
    runtime.report(value);
  }

  /** Called once in the worker, before `loop()` or the first `recv()`. */
  startup(): void | Promise<void> {}

  /** The body of a source (first group): the actor ends when it returns. */
  loop(): void | Promise<void> {}

  /** Handles one message from the previous group. */
  recv(_message: In): void | Promise<void> {}

  /** Called once in the worker, after the last message. */
  shutdown(): void | Promise<void> {}
}

const NEVER = new AbortController().signal;

interface Internals {
  [RUNTIME]?: ActorRuntime;
  [META]?: ActorMeta;
}

/** The runtime an actor is bound to in its worker, if any. Internal. */
function runtimeOf(actor: object): ActorRuntime | undefined {
  return (actor as unknown as Internals)[RUNTIME];
}

/** An actor's main-thread description, if it was constructed. Internal. */
export function metaOf(actor: object): ActorMeta | undefined {
  return (actor as unknown as Internals)[META];
}

/** Whether the actor's class overrides `loop()`. */
export function hasLoop(actor: Actor<unknown, unknown>): boolean {
  return actor.loop !== Actor.prototype.loop;
}

/** Whether the actor's class overrides `recv()`. */
export function hasRecv(actor: Actor<unknown, unknown>): boolean {
  return actor.recv !== Actor.prototype.recv;
}
