/**
 * A group's failure policy where its actors run: the attempts at each
 * message (`retries`, `backoffMs`, `recvTimeoutMs`), what follows the last
 * one (`onError`), and up to `concurrency` calls of `recv()` in flight. The
 * runner hands {@linkcode Attempts.handle} to its inlet instead of its bare
 * handler when the group's policy is not the default one, so the default
 * costs nothing more per message.
 *
 * @module
 */

import type { Logger } from "@logtape/logtape";
import type { Actor } from "../actor.ts";
import type { Policy } from "../common/protocol.ts";
import { RECEIVED, RETRIES, SKIPPED, WIDTH } from "../common/stats.ts";
import { render } from "../common/values.ts";
import { isPending, RESOLVED } from "../link/outlet.ts";

// Where the runner reads it, with the attempts not loaded yet.
export { isDefaultPolicy } from "../common/policy.ts";

/** How the last attempt at a message failed, for the runner's report. */
export interface FinalFailure {
  /** A short rendering of the message. */
  readonly summary: string;
  /** How many times `recv()` was called with it. */
  readonly attempts: number;
  /** The group restarts its actors (`onError: "restart"`). */
  readonly restart: boolean;
}

/** What {@linkcode Attempts} needs of its runner. */
export interface AttemptsHost {
  readonly name: string;
  readonly policy: Policy;
  /**
   * Calls of `recv()` in flight at most: the policy's `concurrency`, but no
   * more than the edge's `maxsize`, whose credits bound them.
   */
  readonly concurrency: number;
  readonly stats: {
    readonly buffer: SharedArrayBuffer;
    readonly index: number;
  };
  /** baton's lines about the actor (its lifecycle category). */
  readonly log: Logger;
  /** Throws once the actor was terminated: no hook may run again. */
  admit(): void;
  /** The actor failed or the run is stopping: no more attempts. */
  halted(): boolean;
  /** Reports a failure of the actor, as the run's failure. */
  fail(error: unknown, final?: FinalFailure): void;
  /**
   * Ordered results: wraps each message's whole handling when several are
   * in flight (`worker/ordering.ts`); unwraps its envelope and passes a
   * marker on without a call.
   */
  readonly around?: (
    envelope: unknown,
    handle: (message: unknown) => unknown,
  ) => unknown;
  /** Posts a dead letter; resolves once the main thread has room for more. */
  deadLetter(
    message: unknown,
    error: unknown,
    attempts: number,
  ): void | Promise<void>;
}

/** The attempt of one call in flight (with `concurrency` above 1). */
interface Store {
  readonly attempt: number;
}

/** The part of `AsyncLocalStorage` used here. */
interface Storage {
  getStore(): Store | undefined;
  run<R>(store: Store, callback: () => R): R;
}

/** A wait that ends early when the run stops. */
interface Wait {
  readonly reject: (reason: unknown) => void;
  readonly timer: ReturnType<typeof setTimeout> | undefined;
}

/** `Name: message` of a thrown value; never throws. */
function reasonOf(error: unknown): string {
  try {
    if (error instanceof Error) {
      return `${error.name}: ${String(error.message).slice(0, 500)}`;
    }
  } catch {
    // A Proxy that fights back: render it.
  }
  return render(error, 500);
}

/** One actor's attempts at its messages, and its calls in flight. */
export class Attempts {
  readonly #host: AttemptsHost;
  readonly #actor: Actor<unknown, unknown>;
  readonly #policy: Policy;
  readonly #stats: Float64Array;
  readonly #base: number;
  readonly #received: number;
  /** With `concurrency` above 1: which call is asking for its attempt. */
  readonly #storage: Storage | undefined;
  /** With `concurrency` 1: the attempt of the one call in flight. */
  #serial = 1;
  #inFlight = 0;
  /** The inlet, waiting for a call to end before it hands out another. */
  #slot: { resolve: () => void; reject: (e: unknown) => void } | undefined;
  /** `drain()`, waiting for the last call in flight. */
  #idle: (() => void) | undefined;
  /** A call failed the run: take no more messages. */
  #broken: { error: unknown } | undefined;
  /** The last attempt failed under "restart": wait to be restarted. */
  #stalled = false;
  #halt: unknown = undefined;
  readonly #waits = new Set<Wait>();
  /** What the runner gives its inlet: called once per message. */
  readonly handle: (message: unknown) => unknown;

  private constructor(
    host: AttemptsHost,
    actor: Actor<unknown, unknown>,
    storage: Storage | undefined,
  ) {
    this.#host = host;
    this.#actor = actor;
    this.#policy = host.policy;
    this.#stats = new Float64Array(host.stats.buffer);
    this.#base = host.stats.index * WIDTH;
    this.#received = this.#base + RECEIVED;
    this.#storage = storage;
    this.handle = storage === undefined ? this.#one : this.#many;
  }

  /**
   * Makes the attempts of an actor. With `concurrency` above 1 it loads
   * `AsyncLocalStorage` (`node:async_hooks`), which tells the calls in
   * flight apart; never otherwise, so a worker loads no `node:` module of
   * its own accord.
   */
  static async create(
    host: AttemptsHost,
    actor: Actor<unknown, unknown>,
  ): Promise<Attempts> {
    let storage: Storage | undefined;
    if (host.concurrency > 1) {
      const { AsyncLocalStorage } = await import("node:async_hooks");
      storage = new AsyncLocalStorage<Store>();
    }
    return new Attempts(host, actor, storage);
  }

  /** The attempt of the call asking: 1, 2, …; 0 outside `recv()`. */
  get attempt(): number {
    return this.#storage === undefined
      ? this.#serial
      : this.#storage.getStore()?.attempt ?? 0;
  }

  /** Outside `recv()` from now on (after `drain()`). */
  end(): void {
    this.#serial = 0;
  }

  /**
   * The run stops: waits for a retry or for room among the dead letters
   * end, and no attempt starts again.
   */
  halt(): void {
    if (this.#halt !== undefined) return;
    this.#halt = new DOMException("The actor is stopping", "AbortError");
    for (const wait of this.#waits) {
      clearTimeout(wait.timer);
      wait.reject(this.#halt);
    }
    this.#waits.clear();
    this.#slot?.reject(this.#halt);
    this.#slot = undefined;
  }

  /**
   * Resolves once no call is in flight (the actor's pills wait for every
   * one); rejects with the error of a call that failed the run.
   */
  async drain(): Promise<void> {
    while (this.#inFlight > 0) {
      await new Promise<void>((resolve) => (this.#idle = resolve));
    }
    if (this.#broken !== undefined) throw this.#broken.error;
  }

  /** With `concurrency` 1: the message in hand. */
  #current: unknown = undefined;

  /**
   * One call at a time: the inlet awaits each message's attempts. The hot
   * path of a retrying group, so written out: what the inlet gets back is
   * what `recv()` returned, or, for a pending promise, a promise of it that
   * catches its rejection (which costs a promise and a turn of the
   * microtask queue per message). Where nothing wraps the calls (no
   * ordering, no count of handled messages), the runner calls `recv()`
   * itself and gives the inlet {@linkcode Attempts.caught} instead.
   */
  readonly #one = (message: unknown): unknown => {
    this.#host.admit();
    this.#stats[this.#received]++;
    this.#serial = 1;
    let result: unknown;
    try {
      result = this.#actor.recv(message);
    } catch (error) {
      return this.#recover(message, error, 1);
    }
    if (result === undefined || result === RESOLVED) return result;
    if (this.#policy.recvTimeoutMs !== undefined) {
      return this.#settle(message, result);
    }
    if (!isPending(result)) return result;
    this.#current = message;
    return result.then(undefined, this.#rejected);
  };

  readonly #rejected = (error: unknown): Promise<void> =>
    this.#recover(this.#current, error, 1);

  /**
   * With one call at a time and no time limit: what the inlet calls with a
   * call's error and its message (`Inlet.run()`'s `caught`), while the
   * handler is `recv()` itself: the policy costs nothing per message on
   * the path with no fault, where a wrapper of its own cost 5–10 % of a
   * restarting middle stage's rate. The attempt is 1 outside a failure.
   */
  get caught(): ((error: unknown, message: unknown) => unknown) | undefined {
    if (this.concurrent || this.#policy.recvTimeoutMs !== undefined) {
      return undefined;
    }
    return this.#caught;
  }

  readonly #caught = async (
    error: unknown,
    message: unknown,
  ): Promise<void> => {
    try {
      return await this.#recover(message, error, 1);
    } finally {
      this.#serial = 1;
    }
  };

  /** What the first call at `message` returned, under the time limit. */
  #settle(message: unknown, result: unknown): unknown {
    if (!isPending(result)) return result;
    const timed = this.#limit(message, result);
    return timed.then(undefined, (error) => this.#recover(message, error, 1));
  }

  /** Up to `concurrency` calls in flight. */
  readonly #many = (message: unknown): unknown => {
    this.#host.admit();
    if (this.#broken !== undefined) throw this.#broken.error;
    if (this.#stalled) return this.#wait(undefined);
    const around = this.#host.around;
    let result: unknown;
    if (around === undefined) {
      this.#stats[this.#received]++;
      result = this.#first(message);
    } else result = around(message, this.#counted);
    if (!isPending(result)) return undefined;
    this.#inFlight++;
    result.then(this.#release, this.#break);
    if (this.#inFlight < this.#host.concurrency) return undefined;
    return new Promise<void>((resolve, reject) => {
      this.#slot = { resolve, reject };
    });
  };

  readonly #release = (): void => {
    this.#inFlight--;
    const slot = this.#slot;
    if (slot !== undefined) {
      this.#slot = undefined;
      if (this.#broken !== undefined) slot.reject(this.#broken.error);
      else slot.resolve();
    }
    if (this.#inFlight === 0 && this.#idle !== undefined) {
      const idle = this.#idle;
      this.#idle = undefined;
      idle();
    }
  };

  readonly #break = (error: unknown): void => {
    if (this.#broken === undefined) {
      this.#broken = { error };
      // Reported already, or the run is stopping, unless it is a bug of
      // this module: the runner keeps the first report only.
      if (!this.#host.halted()) this.#host.fail(error);
    }
    this.#release();
  };

  /** Counts a message and makes its first attempt (ordered: no marker). */
  readonly #counted = (message: unknown): unknown => {
    this.#stats[this.#received]++;
    return this.#first(message);
  };

  /** Whether several calls are in flight at once (`concurrency` above 1). */
  get concurrent(): boolean {
    return this.#storage !== undefined;
  }

  /** The first attempt at a message, and what follows if it fails. */
  #first(message: unknown): unknown {
    let result: unknown;
    try {
      result = this.#call(message, 1);
    } catch (error) {
      return this.#recover(message, error, 1);
    }
    if (!isPending(result)) return result;
    return result.then(undefined, (error) => this.#recover(message, error, 1));
  }

  /** Calls `recv()` as attempt `attempt`, under the group's time limit. */
  #call(message: unknown, attempt: number): unknown {
    let result: unknown;
    if (this.#storage === undefined) {
      this.#serial = attempt;
      result = this.#actor.recv(message);
    } else {
      result = this.#storage.run({ attempt }, () => this.#actor.recv(message));
    }
    if (this.#policy.recvTimeoutMs === undefined || !isPending(result)) {
      return result;
    }
    return this.#limit(message, result);
  }

  /** `pending`, or a timeout error after the group's `recvTimeoutMs`. */
  #limit(message: unknown, pending: Promise<unknown>): Promise<unknown> {
    const ms = this.#policy.recvTimeoutMs!;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(this.#timeout(message, ms)), ms);
      pending.then((value) => {
        clearTimeout(timer);
        resolve(value);
      }, (error) => {
        clearTimeout(timer);
        reject(error);
      });
    });
  }

  #timeout(message: unknown, ms: number): Error {
    const error = new Error(
      `${this.#host.name} did not finish recv() within recvTimeoutMs (${ms} ms) on message ${
        render(message)
      }`,
    );
    error.name = "TimeoutError";
    return error;
  }

  /**
   * After a failed attempt: tries again (after the backoff) while retries
   * are left, then does what `onError` says.
   */
  async #recover(
    message: unknown,
    failure: unknown,
    failed: number,
  ): Promise<void> {
    const { retries, backoffMs, onError } = this.#policy;
    let error = failure;
    for (let attempt = failed;; attempt++) {
      if (this.#host.halted()) throw error;
      const last = attempt > retries;
      const wait = backoffMs * 2 ** (attempt - 1);
      if (!last || onError !== "fail") {
        this.#host.log.warn(
          "recv() attempt {attempt} of {attempts} failed on message {summary}: {error}; {next}",
          {
            attempt,
            attempts: retries + 1,
            summary: render(message),
            error: reasonOf(error),
            next: !last
              ? (wait > 0 ? `trying again in ${wait} ms` : "trying again")
              : onError === "skip"
              ? "sending it to the dead letters"
              : "restarting the actor",
          },
        );
      }
      if (last) return await this.#last(message, error, attempt);
      this.#stats[this.#base + RETRIES]++;
      if (wait > 0) await this.#wait(wait);
      if (this.#host.halted()) throw error;
      try {
        const result = this.#call(message, attempt + 1);
        if (isPending(result)) await result;
        return;
      } catch (next) {
        error = next;
      }
    }
  }

  /** The last attempt at a message failed. */
  #last(message: unknown, error: unknown, attempts: number): Promise<void> {
    const onError = this.#policy.onError;
    if (onError === "skip") {
      this.#stats[this.#base + SKIPPED]++;
      const room = this.#host.deadLetter(message, error, attempts);
      return room === undefined ? Promise.resolve() : this.#wait(room);
    }
    const restart = onError === "restart";
    this.#host.fail(error, {
      summary: render(message),
      attempts,
      restart,
    });
    if (!restart) return Promise.reject(error);
    // Its message in hand, the actor waits to be restarted (or stopped).
    this.#stalled = true;
    return this.#wait(undefined);
  }

  /**
   * Waits `ms` milliseconds, for `promise`, or (given undefined) until the
   * run stops; rejects once it stops.
   */
  #wait(what: number | Promise<void> | undefined): Promise<void> {
    if (this.#halt !== undefined) return Promise.reject(this.#halt);
    return new Promise<void>((resolve, reject) => {
      const timer = typeof what === "number"
        ? setTimeout(() => done(), what)
        : undefined;
      const wait: Wait = { reject, timer };
      const done = () => {
        this.#waits.delete(wait);
        resolve();
      };
      this.#waits.add(wait);
      if (what instanceof Promise) what.then(done, reject);
    });
  }
}
