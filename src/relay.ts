/**
 * The `Relay`: wires groups of actors into a pipeline and runs it, one Web
 * Worker per actor.
 *
 * @module
 */

import { importingModule } from "./common/importing.ts";
import { isPlainObject } from "./common/values.ts";
import { RelayAbortError } from "./errors.ts";
import { type GroupPlan, plan } from "./host/plan.ts";
import { PendingRun } from "./host/pending_run.ts";
import { Feed } from "./host/reports.ts";
import { type DeadLetter, DeadLetters } from "./host/dead_letters.ts";
import type { Results } from "./host/results.ts";
import type { Run } from "./host/run.ts";
import type { Report, RunSnapshot } from "./host/snapshot.ts";
import {
  checkOrderedGroups,
  closeOptions,
  relayOptions,
  resultsOptions,
  startOptions,
  type StartSettings,
} from "./host/options.ts";
import { checkDelay } from "./host/validate.ts";
import type { WorkerMember } from "./host/worker_member.ts";
import type { MemberHost } from "./host/member.ts";
import type { Transport } from "./link/transport.ts";
import type { RelayMetrics } from "./metrics.ts";
import type { Chain, GroupLike, LastOut } from "./topology.ts";
// Types only: options.ts is documentation that an actor's worker, which
// imports this module through mod.ts, need not load.
import type {
  CloseOptions,
  OpenedRun,
  OrderOptions,
  RelayOptions,
  RelayTransport,
  ResultsOptions,
  StartOptions,
  StreamOptions,
} from "./options.ts";

export type {
  CloseOptions,
  OrderOptions,
  RelayOptions,
  ResultsOptions,
  StartOptions,
  StreamOptions,
};

/** The default bound of messages in flight per edge. */
export const DEFAULT_MAXSIZE = 1024;

/** The default time an aborted relay gives its actors to drain, in ms. */
export const DEFAULT_SHUTDOWN_TIMEOUT = 5000;

/**
 * Runs groups of actors as a pipeline, one Web Worker per actor (or all in
 * the calling thread, with `inline: true`).
 *
 * @example One source, two workers, one sink
 * ```ts
 * import { Actor, Relay } from "@baton/relay";
 * import assert from "node:assert/strict";
 *
 * class Producer extends Actor<never, number> {
 *   override async loop(): Promise<void> {
 *     for (let x = 0; x < 3; x++) await this.send(x);
 *   }
 * }
 * class AddTen extends Actor<number, number> {
 *   override recv(x: number): Promise<void> {
 *     return this.send(x + 10);
 *   }
 * }
 * class Consumer extends Actor<number> {
 *   override recv(x: number): void {
 *     this.report(x);
 *   }
 * }
 *
 * // Inline: all in this thread. Without it, one Web Worker per actor, once
 * // the classes are exported from a module.
 * const relay = new Relay({ maxsize: 2, inline: true });
 * relay.connect(new Producer(), [new AddTen(), new AddTen()], new Consumer());
 * const reports = Array.fromAsync(relay.reports<number>());
 * const metrics = await relay.start(); // resolves when every actor has shut down
 * assert.deepEqual((await reports).map((r) => r.value).sort(), [10, 11, 12]);
 * assert.deepEqual(metrics.groups.map((g) => g.received), [0, 3, 3]);
 * ```
 */
export class Relay<Out = unknown> {
  readonly #maxsize: number;
  readonly #category: readonly string[];
  readonly #shutdownTimeout: number;
  readonly #inline: boolean;
  readonly #transport: RelayTransport | undefined;
  #groups: GroupPlan[] | undefined;
  #input = false;
  #wantResults = false;
  /** results({ ordered: true }): the window, undefined for the default. */
  #ordered: { readonly window: number | undefined } | undefined;
  #results: Promise<Results<unknown>> | undefined;
  #reports: Feed<Report>[] = [];
  readonly #deadLetters = new DeadLetters();
  #deadReader = false;
  /** Set by start(): the run, once its machinery loaded. */
  #run: PendingRun | undefined;
  #done: Promise<RelayMetrics> | undefined;
  #closed = false;

  /**
   * Creates a relay; throws a `TypeError` or `RangeError` for bad options,
   * an unknown key among them.
   */
  constructor(options: RelayOptions = {}) {
    const o = relayOptions(options);
    this.#maxsize = o.maxsize ?? DEFAULT_MAXSIZE;
    this.#category = o.category ?? ["baton"];
    this.#shutdownTimeout = o.shutdownTimeout ?? DEFAULT_SHUTDOWN_TIMEOUT;
    this.#inline = o.inline === true;
    this.#transport = o.transport;
  }

  /**
   * Wires groups in order: each an actor, an array of actors, or a
   * `group()`. The first group's actors are sources (`loop()`); every later
   * group's actors receive (`recv()`). With an object, its keys name the
   * groups, in order. Throws a `TypeError` or `RangeError` for a bad
   * topology, before any worker exists. Returns the relay, typed by what
   * its last group sends: `new Relay().connect(...)` gives `results()` its
   * element type.
   */
  connect<const T extends readonly GroupLike[]>(
    ...groups: T & Chain<T>
  ): Relay<LastOut<T>>;
  /**
   * Wires named groups in order: `connect({ prod: p, work: [w1, w2] })`
   * names the groups `prod` and `work`.
   */
  connect(groups: Record<string, GroupLike>): Relay<unknown>;
  connect(...args: unknown[]): Relay<unknown> {
    if (this.#groups !== undefined) {
      throw new TypeError(
        "Cannot connect groups: this relay is already connected; create a new Relay for another pipeline",
      );
    }
    const named = args.length === 1 && isPlainObject(args[0]);
    const planned = plan(
      named ? args[0] as Record<string, GroupLike> : args as GroupLike[],
      this,
    );
    this.#groups = planned.groups;
    this.#input = planned.input;
    return this as Relay<unknown>;
  }

  /** The names of the groups, in order. */
  get groups(): readonly string[] {
    return this.#groups?.map((g) => g.name) ?? [];
  }

  /**
   * Spawns every worker and runs the pipeline. Resolves, with the run's
   * final metrics, when every actor has shut down; rejects with a
   * `RelayError` when one fails (after terminating every worker), or with a
   * {@linkcode RelayAbortError} (name `"AbortError"`, `cause` the signal's
   * reason) when aborted. A signal aborted already spawns nothing; one
   * aborted after the relay settled does nothing. Runs once: a second call
   * rejects with a `TypeError`, as do bad options, before any worker exists.
   */
  start(options: StartOptions = {}): Promise<RelayMetrics> {
    const importing = importingModule();
    if (importing !== undefined) {
      return Promise.reject(
        new Error(
          `Cannot start relay: it was started while ${importing} was being imported to load an actor's class, which would start a relay in every actor's worker; put the code that starts the relay under if (import.meta.main) { … }`,
        ),
      );
    }
    let checked: StartSettings;
    try {
      checked = startOptions(options, "Cannot start relay");
    } catch (error) {
      return Promise.reject(error);
    }
    const { signal, input, progress: drawProgress, onAbort: mode } = checked;
    const placed = this.#groups?.filter((g) => g.place === "workers") ?? [];
    if (placed.length > 0 && this.#transport === undefined) {
      return Promise.reject(
        new TypeError(
          `Cannot start relay: group ${
            placed[0].name
          } is placed on "workers", which needs a relay across processes: new Relay({ transport: redis({ url, run }) }) of @baton/relay/redis`,
        ),
      );
    }
    // Not across processes: a source on workers, or one here next to
    // workers, could lose what its send() accepted; an actor here restarts
    // next to workers only where every edge it has runs across processes
    // (Redis redelivers what it had in hand; a local edge's replay does not
    // reach across).
    const all = this.#groups ?? [];
    const last = all.length - 1;
    const restarting = all.find((g, i) => {
      if (g.policy.onError !== "restart") return false;
      if (g.place === "workers") return i === 0 && !this.#input;
      if (![all[i - 1], all[i + 1]].some((n) => n?.place === "workers")) {
        return false;
      }
      const acrossIn = i > 0 && all[i - 1].place === "workers";
      const acrossOut = i === last
        ? this.#reader === undefined
        : all[i + 1].place === "workers";
      return !(acrossIn && acrossOut);
    });
    if (placed.length > 0 && restarting !== undefined) {
      return Promise.reject(
        new TypeError(
          restarting.place === "workers"
            ? `Cannot start relay: group ${restarting.name} is a group of sources placed on "workers" with onError "restart", which cannot restart across processes for now; use onError "fail", or place it here`
            : `Cannot start relay: group ${restarting.name} has onError "restart" here, next to a group placed on "workers"; an actor here restarts across processes only when every edge it has runs across processes: the group before it on "workers", and the group after it on "workers" or none (its results not read); place the groups so, use onError "fail" or "skip" there, or place it on "workers" too`,
        ),
      );
    }
    // Ordered across processes: the origin's window is shared memory with
    // the results' reader, so the origin (the first group's actor, or
    // input()) runs here; the stages after it may be anywhere.
    const origin = all[0];
    if (
      this.#ordered !== undefined && !this.#input &&
      origin?.place === "workers"
    ) {
      return Promise.reject(
        new TypeError(
          `Cannot start relay: ordered results come in the order in which group ${origin.name} sends, and it is placed on "workers", while the window that holds it back lives with the results here; place the first group here (leave place out), or feed the run with input(), or read the results unordered`,
        ),
      );
    }
    if (placed.length > 0 && checked.workers === undefined) {
      return Promise.reject(
        new TypeError(
          `Cannot start relay: group ${
            placed[0].name
          } is placed on "workers"; say which with start({ workers: { wait: n } }) or start({ workers: { spawn: n } })`,
        ),
      );
    }
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
    if (this.#input !== (input !== undefined)) {
      return Promise.reject(
        new TypeError(
          this.#input
            ? "Cannot start relay: its first group is input(); pass start({ input }) with an iterable, an async iterable or a ReadableStream, or use relay.stream()"
            : "Cannot start relay: start({ input }) needs input() as the first group of connect()",
        ),
      );
    }
    if (this.#ordered !== undefined) {
      try {
        checkOrderedGroups(this.#groups[0], this.#input, "Cannot start relay");
      } catch (error) {
        return Promise.reject(error);
      }
    }
    const reports = this.#reports;
    const pending = new PendingRun();
    this.#run = pending;
    const results = Promise.withResolvers<Results<unknown>>();
    results.promise.catch(() => {});
    this.#results = results.promise;
    if (signal?.aborted) {
      // Nothing was spawned: there is nothing to drain or terminate.
      const error = new RelayAbortError(signal.reason, []);
      pending.fail(error);
      results.reject(error);
      this.#done = Promise.reject(error);
      this.#done.catch(() => {});
      for (const feed of reports) feed.end();
      this.#deadLetters.end();
      return this.#done;
    }
    const onAbort = () =>
      pending.abort(
        signal!.reason,
        mode === "drain" ? this.#shutdownTimeout : 0,
      );
    signal?.addEventListener("abort", onAbort, { once: true });
    const settle = () => {
      signal?.removeEventListener("abort", onAbort);
      for (const feed of reports) feed.end();
      this.#deadLetters.end();
    };
    const groups = this.#groups;
    this.#done = (async () => {
      let session: typeof import("./host/session.ts");
      try {
        // Loaded with the first run, never with mod.ts: see session.ts.
        session = await import("./host/session.ts");
      } catch (error) {
        pending.fail(error);
        results.reject(error);
        settle();
        throw error;
      }
      let opened: OpenedRun | undefined;
      try {
        opened = this.#transport?.open({
          groups: groups.map((g) => ({
            name: g.name,
            size: g.actors.length,
            place: g.place ?? "here",
            permissions: g.permissions,
          })),
          workers: checked.workers,
        });
      } catch (error) {
        pending.fail(error);
        results.reject(error);
        settle();
        throw error;
      }
      const run = new session.Run({
        groups,
        maxsize: this.#maxsize,
        category: this.#category,
        transport: opened?.transport as Transport | undefined,
        host: opened?.host as MemberHost | undefined ??
          (this.#inline ? new session.InlineHost() : session.workerHost),
        input: this.#input,
        results: this.#wantResults,
        ordered: this.#ordered,
        onReport: (report) => {
          for (const feed of reports) feed.push(report);
        },
        onDeadLetter: (letter, ack) => this.#deadLetters.push(letter, ack),
      });
      runs.set(this, { run, WorkerMember: session.WorkerMember });
      pending.attach(run);
      const metrics = session.attend(run, {
        input,
        groups: this.groups,
        category: this.#category,
        progress: drawProgress,
        onResults: (r) => results.resolve(r),
        onFailure: (error) => results.reject(error),
        onSettled: settle,
      });
      if (opened !== undefined) {
        // Settles once the run's processes left and its keys are gone.
        await metrics.catch(() => {});
        await opened.settled();
      }
      return await metrics;
    })();
    this.#done.catch(() => {});
    return this.#done;
  }

  /** Which of `results()` and `stream()` reads the output, once one has. */
  #reader: "results()" | "stream()" | undefined;

  /**
   * What the last group sends, as an async iterable, with backpressure: the
   * pipeline waits while the reader is slow. Call it before `start()`; if
   * the relay is not started when the iteration begins, the iteration
   * starts it (with `options`). The iteration ends when every actor has
   * shut down and throws if the relay fails, or if `start()` refuses to
   * run; leaving it early closes the relay at once. The output is read
   * once: a second call, or a call after `stream()`, throws a `TypeError`,
   * as do bad options.
   *
   * @example Reading the output of a pipeline
   * ```ts
   * import { Actor, Relay } from "@baton/relay";
   * import assert from "node:assert/strict";
   *
   * class Producer extends Actor<never, number> {
   *   override async loop(): Promise<void> {
   *     for (let x = 1; x <= 3; x++) await this.send(x);
   *   }
   * }
   * class Square extends Actor<number, number> {
   *   override recv(x: number): Promise<void> {
   *     return this.send(x * x);
   *   }
   * }
   *
   * // Inline: all in this thread; without it, in workers (classes exported).
   * const relay = new Relay({ inline: true });
   * relay.connect(new Producer(), [new Square(), new Square()]);
   * const squares: number[] = [];
   * for await (const y of relay.results<number>()) squares.push(y);
   * // Two receivers share the work: the order across them is not fixed.
   * assert.deepEqual(squares.sort(), [1, 4, 9]);
   * ```
   *
   * With `ordered: true`, the output comes in the order of the input (or of
   * the one source's sends), across every actor of every group: each actor
   * after the first group sends one message per message (a map) or none (a
   * filter). See {@linkcode OrderOptions}.
   *
   * @example In the order of the input
   * ```ts
   * import { Actor, input, Relay } from "@baton/relay";
   * import assert from "node:assert/strict";
   *
   * class SlowSquare extends Actor<number, number> {
   *   override async recv(x: number): Promise<void> {
   *     // The first messages take longest: unordered, they would come last.
   *     await new Promise((resolve) => setTimeout(resolve, 10 - x));
   *     await this.send(x * x);
   *   }
   * }
   * class Odd extends Actor<number, number> {
   *   override recv(x: number): Promise<void> | void {
   *     if (x % 2 === 1) return this.send(x); // a filter: sends none for the rest
   *   }
   * }
   *
   * // Inline: all in this thread; without it, in workers (classes exported).
   * const relay = new Relay({ inline: true });
   * relay.connect(input<number>(), [new SlowSquare(), new SlowSquare()], new Odd());
   * const squares: number[] = [];
   * const numbers = [1, 2, 3, 4, 5, 6, 7];
   * for await (const y of relay.results<number>({ input: numbers, ordered: true })) {
   *   squares.push(y);
   * }
   * assert.deepEqual(squares, [1, 9, 25, 49]);
   * ```
   */
  results<T = Out>(options?: ResultsOptions): AsyncIterableIterator<T> {
    const { start, order } = resultsOptions(options, "Cannot read results");
    if (order !== undefined && this.#groups !== undefined) {
      checkOrderedGroups(this.#groups[0], this.#input, "Cannot read results");
    }
    if (this.#reader === "results()") {
      throw new TypeError(
        "Cannot read results: results() was already called on this relay, and its output is read once; iterate the iterator that call returned (one loop reads everything)",
      );
    }
    if (this.#reader === "stream()") {
      throw new TypeError(
        "Cannot read results: this relay's output goes to the readable of the pair stream() returned; read that instead",
      );
    }
    if (this.#run !== undefined && !this.#wantResults) {
      throw new TypeError(
        "Cannot read results: the relay started without them; call results() before start()",
      );
    }
    this.#reader = "results()";
    this.#wantResults = true;
    this.#ordered = order;
    const get = async (): Promise<Results<T>> => {
      if (this.#run === undefined) {
        const started = this.start(start);
        started.catch(() => {});
        // Refused before it began (not connected, closed): say why.
        if (this.#results === undefined) await started;
      }
      return (await this.#results!) as Results<T>;
    };
    return {
      next: async () => (await get()).next(),
      return: async () => {
        if (this.#run === undefined) return { value: undefined, done: true };
        return (await get()).return();
      },
      [Symbol.asyncIterator]() {
        return this;
      },
    };
  }

  /**
   * The relay as a Web Streams transform: what is written to `writable` feeds
   * the first group (which must be `input()` in `connect()`), and `readable`
   * yields what the last group sends. Starts the relay; errors and aborts
   * travel through both sides. Call it once, instead of `start()` and
   * `results()`: it throws a `TypeError` after any of them, as for bad
   * options. With `ordered: true`, `readable` yields in the order of what
   * was written (see {@linkcode OrderOptions}).
   *
   * @example Upper-casing lines
   * ```ts
   * import { Actor, input, Relay } from "@baton/relay";
   * import assert from "node:assert/strict";
   *
   * class Upper extends Actor<string, string> {
   *   override recv(line: string): Promise<void> {
   *     return this.send(line.toUpperCase());
   *   }
   * }
   *
   * // Inline: all in this thread; without it, in workers (classes exported).
   * const relay = new Relay({ inline: true });
   * relay.connect(input<string>(), [new Upper(), new Upper()]);
   * const lines = ReadableStream.from(["a", "b", "c"]);
   * const upper = lines.pipeThrough(relay.stream<string, string>());
   * assert.deepEqual((await Array.fromAsync(upper)).sort(), ["A", "B", "C"]);
   * ```
   */
  stream<I, O>(
    options: StreamOptions = {},
  ): { writable: WritableStream<I>; readable: ReadableStream<O> } {
    const { start, order } = resultsOptions(
      options,
      "Cannot make a stream",
      false,
    );
    if (!this.#input) {
      throw new TypeError(
        "Cannot make a stream: the relay's first group must be input(), as in connect(input(), ...)",
      );
    }
    // Each of these would leave the writes waiting for a reader that never
    // comes: the stream's input would not be the relay's.
    if (this.#reader !== undefined) {
      throw new TypeError(
        this.#reader === "stream()"
          ? "Cannot make a stream: stream() was already called on this relay, which runs once; write to and read from the pair that call returned, or create a new Relay for another stream"
          : "Cannot make a stream: results() was already called on this relay, and its output is read once; call stream() instead of results(), and read its readable",
      );
    }
    if (this.#run !== undefined || this.#closed) {
      throw new TypeError(
        `Cannot make a stream: the relay was already ${
          this.#run === undefined ? "closed" : "started"
        }; call stream() instead of start(), on a new Relay`,
      );
    }
    const pipe = new TransformStream<I, I>(undefined, { highWaterMark: 1 }, {
      highWaterMark: 0,
    });
    const results = this.results<O>(
      order === undefined ? {} : { ordered: true, window: order.window },
    );
    this.#reader = "stream()";
    this.start({ ...start, input: pipe.readable }).catch((error) => {
      // Refused before it read the input: the writes fail with the reason.
      if (!pipe.readable.locked) pipe.readable.cancel(error).catch(() => {});
    });
    return { writable: pipe.writable, readable: ReadableStream.from(results) };
  }

  /**
   * What actors pass to `report()`, with their name and group, while the
   * relay runs: the main thread's handler. The iteration ends by itself when
   * the relay settles. Call it before `start()`.
   */
  reports<T = unknown>(): AsyncIterableIterator<Report<T>> {
    const feed = new Feed<Report<T>>();
    if (this.#done !== undefined) {
      throw new TypeError(
        "Cannot read reports: the relay already started; call reports() before start()",
      );
    }
    this.#reports.push(feed as Feed<Report>);
    return feed;
  }

  /**
   * The messages actors skipped after their last attempt failed, in groups
   * with `onError: "skip"`, as an async iterable of `{ actor, group,
   * message, error, attempts }` (`error` the last attempt's, rebuilt with
   * its class and stack). Read while the relay runs, it holds the skipping
   * actors back as `results()` holds the pipeline: an actor waits once 16 of
   * its dead letters are unread. Until it is called, dead letters are
   * counted (`skipped` in the metrics), logged as warnings, and the first
   * 1000 kept: a reader that comes later, even after the run, gets those
   * first. The iteration ends once the relay settled and what it holds was
   * read; leaving it early lets the actors go on. One reader: a second call
   * throws a `TypeError`.
   *
   * @example Skipping what fails twice
   * ```ts
   * import { Actor, group, input, Relay } from "@baton/relay";
   * import assert from "node:assert/strict";
   *
   * class Parse extends Actor<string, number> {
   *   override recv(text: string): Promise<void> {
   *     const n = Number(text);
   *     if (Number.isNaN(n)) throw new SyntaxError(`not a number: ${text}`);
   *     return this.send(n);
   *   }
   * }
   *
   * // Inline: all in this thread; without it, in workers (classes exported).
   * const relay = new Relay({ inline: true });
   * relay.connect(
   *   input<string>(),
   *   group(new Parse(), { retries: 1, onError: "skip" }),
   * );
   * const dead = Array.fromAsync(relay.deadLetters<string>());
   * const numbers = Array.fromAsync(relay.results<number>({
   *   input: ["1", "two", "3"],
   * }));
   * assert.deepEqual(await numbers, [1, 3]);
   * const [letter] = await dead;
   * assert.equal(letter.message, "two");
   * assert.equal(letter.attempts, 2);
   * assert.ok(letter.error instanceof SyntaxError);
   * ```
   */
  deadLetters<T = unknown>(): AsyncIterableIterator<DeadLetter<T>> {
    if (this.#deadReader) {
      throw new TypeError(
        "Cannot read dead letters: deadLetters() was already called on this relay, and they are read once; iterate the iterator that call returned",
      );
    }
    this.#deadReader = true;
    return this.#deadLetters.read() as AsyncIterableIterator<DeadLetter<T>>;
  }

  /**
   * A snapshot of the run's metrics, per group (received, sent, time spent
   * waiting for credit, errors) and per edge (messages in flight); undefined
   * before `start()`.
   */
  metrics(): RelayMetrics | undefined {
    return this.#run?.metrics();
  }

  /**
   * Snapshots of the metrics every `intervalMs` while the relay runs, and a
   * last one when it settles. Throws a `RangeError` at once for an interval
   * that is not a positive number of milliseconds; the iteration throws a
   * `TypeError` if the relay has not started when it begins.
   */
  watch(intervalMs = 1000): AsyncGenerator<RelayMetrics> {
    return this.#watch(
      checkDelay(intervalMs, "Cannot watch the relay", "intervalMs", true),
    );
  }

  async *#watch(intervalMs: number): AsyncGenerator<RelayMetrics> {
    const done = this.#done;
    const pending = this.#run;
    if (done === undefined || pending === undefined) {
      throw new TypeError("Cannot watch the relay: call start() first");
    }
    const run = await pending.ready;
    let settled = false;
    const end = done.then(() => {}, () => {}).then(() => (settled = true));
    while (!settled) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        end,
        new Promise((resolve) => (timer = setTimeout(resolve, intervalMs))),
      ]);
      clearTimeout(timer);
      yield run.metrics();
    }
  }

  /**
   * Stops the sources, lets in-flight messages drain within the timeout,
   * then terminates what is left; `start()` rejects with a
   * {@linkcode RelayAbortError}. Resolves once the relay has settled. Does
   * nothing after the relay settled; before `start()`, it keeps the relay
   * from starting. Rejects with a `TypeError` or `RangeError` for bad
   * options, and then closes nothing.
   */
  async close(options: CloseOptions = {}): Promise<void> {
    const { timeout, reason } = closeOptions(options);
    this.#closed = true;
    const run = this.#run;
    if (run === undefined || this.#done === undefined) return;
    run.abort(
      reason ?? new DOMException("The relay was closed", "AbortError"),
      timeout ?? this.#shutdownTimeout,
    );
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
  const workers = new Map<string, Worker>();
  const held = runs.get(relay);
  for (const [name, member] of held?.run.members ?? []) {
    if (member instanceof held!.WorkerMember) {
      workers.set(name, member.worker);
    }
  }
  return workers;
}

const runs = new WeakMap<
  Relay,
  { run: Run; WorkerMember: typeof WorkerMember }
>();
