/**
 * The `Relay`: wires groups of actors into a pipeline and runs it, one Web
 * Worker per actor.
 *
 * @module
 */

import { RelayAbortError } from "./errors.ts";
import { Run, type RunSnapshot } from "./supervisor.ts";
import {
  type Chain,
  checkMaxsize,
  type GroupLike,
  type GroupPlan,
  plan,
} from "./topology.ts";

/** The default bound of messages in flight per edge. */
export const DEFAULT_MAXSIZE = 256;

/** The default time an aborted relay gives its actors to drain, in ms. */
export const DEFAULT_SHUTDOWN_TIMEOUT = 5000;

/** Options of a {@linkcode Relay}. */
export interface RelayOptions {
  /**
   * Most messages in flight on each edge between two groups: a sender waits
   * in `send()` while the edge is full. Default 256, which keeps the wire
   * near its ceiling while bounding memory to 256 messages per edge. A
   * group's own `maxsize` (see `group()`) overrides it for the edge into it.
   */
  maxsize?: number;
  /**
   * The LogTape category under which actors' records are emitted, followed
   * by their group and name. Default `"baton"`.
   */
  logger?: string | readonly string[];
  /**
   * How long an aborted relay lets in-flight messages drain before it
   * terminates the actors still running, in ms. Default 5000; 0 terminates
   * at once.
   */
  shutdownTimeout?: number;
}

/** Options of {@linkcode Relay.start}. */
export interface StartOptions {
  /**
   * Aborting it stops the sources, lets the pipeline drain within the
   * shutdown timeout, and rejects `start()` with an `AbortError`.
   */
  signal?: AbortSignal;
}

/** Options of {@linkcode Relay.close}. */
export interface CloseOptions {
  /** Overrides the relay's `shutdownTimeout` (ms); 0 terminates at once. */
  timeout?: number;
  /** The abort reason (default: an `AbortError` DOMException). */
  reason?: unknown;
}

/**
 * Runs groups of actors as a pipeline, one Web Worker per actor.
 *
 * @example One source, two workers, one sink
 * ```ts ignore
 * const relay = new Relay({ maxsize: 2 });
 * relay.connect(new Producer(), [new Worker(), new Worker()], new Consumer());
 * await relay.start(); // resolves when every actor has shut down
 * ```
 */
export class Relay {
  readonly #maxsize: number;
  readonly #category: readonly string[];
  readonly #shutdownTimeout: number;
  #groups: GroupPlan[] | undefined;
  #run: Run | undefined;
  #done: Promise<void> | undefined;
  #closed = false;

  /** Creates a relay; throws a `RangeError` or `TypeError` for bad options. */
  constructor(options: RelayOptions = {}) {
    if (options === null || typeof options !== "object") {
      throw new TypeError(
        `Cannot create relay: options must be an object, received ${
          String(options)
        }`,
      );
    }
    this.#maxsize = options.maxsize === undefined
      ? DEFAULT_MAXSIZE
      : checkMaxsize(options.maxsize, "Cannot create relay");
    const logger = options.logger ?? "baton";
    this.#category = typeof logger === "string" ? [logger] : [...logger];
    if (
      this.#category.length === 0 ||
      this.#category.some((c) => typeof c !== "string" || c === "")
    ) {
      throw new TypeError(
        `Cannot create relay: logger must be a non-empty string or array of strings, received ${
          JSON.stringify(options.logger)
        }`,
      );
    }
    const timeout = options.shutdownTimeout ?? DEFAULT_SHUTDOWN_TIMEOUT;
    if (
      typeof timeout !== "number" || !(timeout >= 0) ||
      !Number.isFinite(timeout)
    ) {
      throw new RangeError(
        `Cannot create relay: shutdownTimeout must be a non-negative number of milliseconds, received ${
          String(options.shutdownTimeout)
        }`,
      );
    }
    this.#shutdownTimeout = timeout;
  }

  /**
   * Wires groups in order: each an actor, an array of actors, or a
   * `group()`. The first group's actors are sources (`loop()`); every later
   * group's actors receive (`recv()`). With an object, its keys name the
   * groups, in order. Throws a `TypeError` or `RangeError` for a bad
   * topology, before any worker exists.
   */
  connect<const T extends readonly GroupLike[]>(
    ...groups: T & Chain<T>
  ): this;
  /**
   * Wires named groups in order: `connect({ prod: p, work: [w1, w2] })`
   * names the groups `prod` and `work`.
   */
  connect(groups: Record<string, GroupLike>): this;
  connect(...args: unknown[]): this {
    if (this.#groups !== undefined) {
      throw new TypeError(
        "Cannot connect groups: this relay is already connected; create a new Relay for another pipeline",
      );
    }
    const named = args.length === 1 && isPlainObject(args[0]);
    this.#groups = plan(
      named ? args[0] as Record<string, GroupLike> : args as GroupLike[],
      this,
    );
    return this;
  }

  /** The names of the groups, in order. */
  get groups(): readonly string[] {
    return this.#groups?.map((g) => g.name) ?? [];
  }

  /**
   * Spawns every worker and runs the pipeline. Resolves when every actor has
   * shut down; rejects with a `RelayError` when one fails (after terminating
   * every worker), or with a {@linkcode RelayAbortError} (name
   * `"AbortError"`, `cause` the signal's reason) when aborted. A signal
   * aborted already spawns nothing; one aborted after the relay settled does
   * nothing. Runs once: a second call rejects with a `TypeError`.
   */
  start(options: StartOptions = {}): Promise<void> {
    if (this.#groups === undefined) {
      return Promise.reject(
        new TypeError(
          "Cannot start relay: it has no groups; call connect() first",
        ),
      );
    }
    if (this.#run !== undefined || this.#closed) {
      return Promise.reject(
        new TypeError(
          `Cannot start relay: it was already ${
            this.#closed && this.#run === undefined ? "closed" : "started"
          }; create a new Relay (with new actors) to run again`,
        ),
      );
    }
    const signal = options?.signal;
    if (signal !== undefined && !(signal instanceof AbortSignal)) {
      return Promise.reject(
        new TypeError(
          `Cannot start relay: signal must be an AbortSignal, received ${
            String(signal)
          }`,
        ),
      );
    }
    const run = new Run({
      groups: this.#groups,
      maxsize: this.#maxsize,
      category: this.#category,
      shutdownTimeout: this.#shutdownTimeout,
    });
    this.#run = run;
    runs.set(this, run);
    if (signal?.aborted) {
      // Nothing was spawned: there is nothing to drain or terminate.
      this.#done = Promise.reject(new RelayAbortError(signal.reason, []));
      this.#done.catch(() => {});
      return this.#done;
    }
    const onAbort = () => run.abort(signal!.reason, this.#shutdownTimeout);
    signal?.addEventListener("abort", onAbort, { once: true });
    this.#done = (async () => {
      try {
        await run.start();
      } catch (error) {
        run.destroy(error);
      }
      try {
        await run.settled;
      } finally {
        signal?.removeEventListener("abort", onAbort);
      }
    })();
    return this.#done;
  }

  /**
   * Stops the sources, lets in-flight messages drain within the timeout,
   * then terminates what is left; `start()` rejects with a
   * {@linkcode RelayAbortError}. Resolves once the relay has settled. Does
   * nothing after the relay settled; before `start()`, it keeps the relay
   * from starting.
   */
  async close(options: CloseOptions = {}): Promise<void> {
    this.#closed = true;
    const run = this.#run;
    if (run === undefined || this.#done === undefined) return;
    const reason = options.reason ??
      new DOMException("The relay was closed", "AbortError");
    run.abort(reason, options.timeout ?? this.#shutdownTimeout);
    await this.#done.catch(() => {});
  }

  /** The state of every actor and edge, for watchdogs and metrics. */
  snapshot(): RunSnapshot | undefined {
    return this.#run?.snapshot();
  }

  /** Closes the relay at once (`await using relay = new Relay()`). */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close({ timeout: 0 });
  }
}

/** Internal: the workers of a relay's run, for fault-injection tests. */
export function workersOf(relay: Relay): ReadonlyMap<string, Worker> {
  return runs.get(relay)?.workers ?? new Map();
}

const runs = new WeakMap<Relay, Run>();

function isPlainObject(value: unknown): boolean {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    return false;
  }
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}
