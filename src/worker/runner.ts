/**
 * Runs one actor in the thread it is given: loads its module, rebuilds it
 * from its copied fields, runs its phases, and reports everything (log
 * calls, errors, reports, the end) to the main thread as data on a private
 * control port. A Web Worker's bootstrap (`bootstrap.ts`) runs one of these;
 * inline mode runs one per actor in the calling thread.
 *
 * Every step that touches a value the actor made (an error it threw, a
 * message it sent) is guarded: a runner that fails while reporting a
 * failure would leave the run waiting forever.
 *
 * @module
 */

import type { Logger, LogRecord } from "@logtape/logtape";
import {
  Actor,
  type ActorRuntime,
  RUNTIME,
  type SendOptions,
} from "../actor.ts";
import { toErrorData } from "../common/error_data.ts";
import { DEAD_LETTER_WINDOW, isDefaultPolicy } from "../common/policy.ts";
import type {
  ErrorData,
  FromWorker,
  InitMessage,
  LogCall,
  Phase,
  RelinkSpec,
  ToWorker,
} from "../common/protocol.ts";
import {
  HANDLED,
  HANDLED_BELL,
  HANDLED_TARGET,
  int32Cell,
  MARKERS,
  RECEIVED,
  SENT,
  WAITED_MS,
  WIDTH,
} from "../common/stats.ts";
import { render, uncloneablePath } from "../common/values.ts";
import {
  chainEnds,
  drainedEnd,
  isRedelivered,
  openReceiver,
  openSender,
  prepareEnd,
  relinkEnd,
} from "../link/ends.ts";
import type { Inlet } from "../link/inlet.ts";
import { isPending, type Outlet } from "../link/outlet.ts";
import {
  cloneableCall,
  cloneableRecord,
  forwardingLogger,
} from "./forwarding_logger.ts";
import { loadActor, LoadFailure } from "./load.ts";
// Loaded only where a group's policy needs them (see #run).
import type { Attempts, AttemptsHost, FinalFailure } from "./attempts.ts";
import type { Ordering } from "./ordering.ts";

/** What differs between a worker and the calling thread. */
export interface RunnerEnvironment {
  /**
   * Called once the actor's logger exists, before its module loads: returns
   * what the runner waits for after loading and after `startup()` (in a
   * worker, LogTape's set-up when the actor's modules use it).
   */
  prepare?(
    init: InitMessage,
    log: Logger,
    runner: ActorRunner,
  ): () => Promise<unknown> | undefined;
  /** Ends the thread once the runner answered `stop` (a worker closes). */
  close?(): void;
  /** Makes the actor from its copied state (inline: the class is at hand). */
  load?(init: InitMessage): Actor<unknown, unknown>;
}

/** One actor's life in the thread that runs it. */
export class ActorRunner {
  readonly #port: MessagePort;
  readonly #environment: RunnerEnvironment;
  readonly #controller = new AbortController();
  #phase: Phase = "load";
  /** An error was reported: later ones are consequences. */
  #failed = false;
  /** The relay asked this runner to stop: errors from now on are echoes. */
  #stopping = false;
  #inlet: Inlet | undefined;
  #outlet: Outlet | undefined;
  /** Terminated: no hook of the actor is called again. */
  #terminated = false;
  /** The group's failure policy at work, unless it is the default one. */
  #attempts: Attempts | undefined;
  /** `this.attempt` under the default policy: 1 in recv(), else 0. */
  #attempt = 0;
  /** Dead letters the actor may still post before the main thread answers. */
  #deadRoom = DEAD_LETTER_WINDOW;
  readonly #deadWaiting: (() => void)[] = [];
  /**
   * A source of a restarting group: when it fails, what its `send()` calls
   * accepted is posted before its replacement starts its `loop()` again.
   */
  #postOnFailure = false;
  /** Relinks that arrived before the ends were open. */
  #relinks: RelinkSpec[] | undefined = [];

  /**
   * Listens on `port` at once (before any await: early messages must not be
   * lost) for the init message, and then for the relay's abort and stop.
   */
  constructor(port: MessagePort, environment: RunnerEnvironment = {}) {
    this.#port = port;
    this.#environment = environment;
    port.onmessage = (event: MessageEvent<ToWorker>) => {
      const message = event.data;
      switch (message.kind) {
        case "init":
          this.#run(message).catch((error) => this.fail(error));
          break;
        case "abort":
          this.#controller.abort(message.reason);
          break;
        case "stop":
          this.#stop(message.reason);
          break;
        case "relink":
          this.#relink(message.spec);
          break;
        case "deadAck":
          this.#deadRoom++;
          this.#deadWaiting.shift()?.();
          break;
      }
    };
  }

  /** The phase the actor is in. */
  get phase(): Phase {
    return this.#phase;
  }

  /** Posts a message to the main thread; never throws. */
  post(message: FromWorker): void {
    try {
      this.#port.postMessage(message);
    } catch {
      // The port is closed: the run is over.
    }
  }

  /**
   * Reports an error of the actor's (the first one; later ones are its
   * consequences), then aborts its outlet. `final` says how the last
   * attempt at a message failed under the group's policy: its attempts, and
   * whether the actor waits to be restarted (then its outlet is flushed,
   * not aborted: what it sent so far goes out).
   */
  fail(
    error: unknown,
    at: Phase = this.#phase,
    path?: string,
    final?: FinalFailure,
  ): void {
    if (this.#failed || this.#stopping) return;
    this.#failed = true;
    let load: LoadFailure | undefined;
    try {
      load = error instanceof LoadFailure ? error : undefined;
    } catch {
      // A Proxy whose getPrototypeOf throws is no LoadFailure.
    }
    const cause = load === undefined ? error : load.original;
    const current = this.#inlet?.current;
    const summary = final?.summary ??
      (at === "recv" && current !== undefined ? render(current) : undefined);
    let data: ErrorData;
    try {
      data = toErrorData(cause);
    } catch {
      data = { name: "Error", message: render(cause, 500) };
    }
    // To be restarted (a source of a restarting group, or the last attempt
    // of a restarting actor), what its send() calls accepted goes out, and
    // before the relay hears of the failure: it then fences this outlet.
    const restart = this.#postOnFailure || final?.restart === true;
    try {
      if (restart) this.#outlet?.flush();
    } catch {
      // The batch could not be posted: a replay sends it again.
    }
    this.post({
      kind: "error",
      phase: at,
      error: data,
      summary,
      path,
      hint: load?.hint,
      module: load?.module,
      attempts: final?.attempts,
      restart: final?.restart || undefined,
    });
    try {
      // Else the actor's sends stop.
      if (!restart) this.#outlet?.abort(cause);
    } catch {
      // Nothing more to stop.
    }
  }

  /**
   * Posts a message the actor skipped to the main thread's dead letters;
   * resolves at once while the window has room, else once the main thread
   * took one.
   */
  #deadLetter(
    message: unknown,
    error: unknown,
    attempts: number,
  ): void | Promise<void> {
    if (this.#deadRoom > 0) {
      this.#deadRoom--;
      this.#postDead(message, error, attempts);
      return;
    }
    return new Promise((resolve) => {
      this.#deadWaiting.push(() => {
        this.#deadRoom--;
        this.#postDead(message, error, attempts);
        resolve();
      });
    });
  }

  #postDead(message: unknown, error: unknown, attempts: number): void {
    let data: ErrorData;
    try {
      data = toErrorData(error);
    } catch {
      data = { name: "Error", message: render(error, 500) };
    }
    try {
      this.#port.postMessage({ kind: "dead", message, error: data, attempts });
    } catch {
      // recv() made the message uncloneable: its rendering goes instead.
      this.post({
        kind: "dead",
        message: render(message),
        error: data,
        attempts,
      });
    }
  }

  /**
   * Another actor failed: the actor's pending sends reject and its signal
   * aborts, so it sees the end; one task later (its reactions logged) the
   * runner answers and its thread closes. A worker too busy to get here is
   * terminated.
   */
  #stop(reason: string): void {
    if (this.#stopping) return;
    this.#stopping = true;
    const error = new DOMException(reason, "AbortError");
    this.#attempts?.halt();
    this.#controller.abort(error);
    this.#outlet?.abort(error);
    setTimeout(() => {
      this.post({ kind: "stopped" });
      this.#port.close();
      this.#environment.close?.();
    }, 0);
  }

  /**
   * Ends the actor in this thread, the way terminating a worker ends it in
   * its own: its signal and pending sends abort, its wires and its port
   * close, and none of its hooks is called again. Inline mode needs this;
   * a worker's thread simply goes. Code of the actor that is running, or
   * awaiting something other than baton, goes on until it next sends (the
   * send rejects); a synchronous infinite loop cannot be interrupted at
   * all. Safe to call twice.
   */
  terminate(): void {
    if (this.#terminated) return;
    this.#terminated = true;
    this.#stopping = true;
    const error = new DOMException("The actor was terminated", "AbortError");
    this.#attempts?.halt();
    this.#controller.abort(error);
    this.#outlet?.abort(error);
    this.#inlet?.close();
    this.#outlet?.closeWires();
    this.#port.onmessage = null;
    this.#port.close();
  }

  /** A peer across one of the actor's edges restarted (`onError: "restart"`). */
  #relink(spec: RelinkSpec): void {
    if (this.#relinks !== undefined) {
      this.#relinks.push(spec);
      return;
    }
    const end = spec.role === "sender" ? this.#outlet : this.#inlet;
    try {
      if (end === undefined) throw new Error(`no ${spec.role} end to relink`);
      relinkEnd(end, spec);
    } catch (error) {
      this.fail(error);
    }
  }

  #setPhase(next: Phase): void {
    this.#phase = next;
    this.post({ kind: "phase", phase: next });
  }

  /** Forwards a LogTape record, made cloneable if it does not clone. */
  postRecord(record: LogRecord): void {
    try {
      this.#port.postMessage({ kind: "log", record });
    } catch {
      this.post({ kind: "log", record: cloneableRecord(record) });
    }
  }

  #postCall(call: LogCall): void {
    try {
      this.#port.postMessage({ kind: "call", call });
    } catch {
      this.post({ kind: "call", call: cloneableCall(call) });
    }
  }

  async #run(init: InitMessage): Promise<void> {
    const log = forwardingLogger(
      {
        lowest: init.logLevel,
        call: (call) => this.#postCall(call),
        record: (record) => this.postRecord(record),
      },
      [...init.category, init.group, init.name],
      { group: init.group, actor: init.name },
    );
    // baton's own lines (starting up, poison pills): a category of their
    // own, so that a configuration can keep the actor's records and drop
    // these, or the other way round.
    const lifecycle = forwardingLogger(
      {
        lowest: init.lifecycleLevel,
        call: (call) => this.#postCall(call),
        record: (record) => this.postRecord(record),
      },
      [...init.category, "lifecycle", init.group, init.name],
      { group: init.group, actor: init.name },
    );
    const ready = this.#environment.prepare?.(init, log, this) ??
      (() => undefined);
    const load = this.#environment.load;
    const actor = load === undefined ? await loadActor(init) : load(init);
    await ready();
    // What the ends load lazily (a restartable edge's replay).
    await prepareEnd(init.outlet);
    await prepareEnd(init.inlet);
    if (this.#terminated) return;
    this.#open(init);
    this.#postOnFailure = init.inlet === undefined &&
      init.policy.onError === "restart";
    const order = init.order === undefined
      ? undefined
      : await this.#ordering(init);
    const send = order?.send ?? this.#sender(init);
    let attempts: Attempts | undefined;
    // Across processes: how many times the message in hand was delivered
    // to an actor before (0: never), from the envelope of a redelivery.
    let before = 0;
    // With several calls in flight, each call's own (handled_prefix.ts).
    let beforeOf = () => before;
    const attemptOf = () => {
      const attempt = attempts?.attempt ?? this.#attempt;
      return attempt > 0 ? attempt + beforeOf() : 0;
    };
    const runtime: ActorRuntime = {
      name: init.name,
      group: init.group,
      log,
      signal: this.#controller.signal,
      get attempt() {
        return attemptOf();
      },
      send,
      restarts: init.restarts ?? 0,
      redelivered: () =>
        beforeOf() > 0 ||
        init.inlet !== undefined && this.#inlet !== undefined &&
          isRedelivered(init.inlet, this.#inlet),
      report: (value) => {
        try {
          this.#port.postMessage({ kind: "report", value });
        } catch (error) {
          throw new TypeError(
            `Cannot report from ${init.name}: the value cannot be cloned (${
              (error as Error).message
            })`,
            { cause: error },
          );
        }
      },
    };
    Object.defineProperty(actor, RUNTIME, { value: runtime });
    // An own property skips the prototype's lookup on the hot path.
    if (actor.send === Actor.prototype.send) {
      Object.defineProperty(actor, "send", { value: send });
    }

    lifecycle.info("starting up");
    this.#setPhase("startup");
    await actor.startup();
    await ready();
    // A rejection startup() left behind is startup's, not the next phase's.
    await surfaceDue();
    if (this.#terminated) return;
    lifecycle.info("running loop");
    const inlet = this.#inlet;
    if (inlet !== undefined) {
      if (
        init.policy.onError === "restart" &&
        init.policy.recvTimeoutMs !== undefined
      ) {
        const { watchRecv } = await import("./recv_watch.ts");
        watchRecv(init, actor);
      }
      const stats = new Float64Array(init.stats.buffer);
      const count = init.countHandled === true
        ? handledCounter(stats, init.stats.index * WIDTH + HANDLED)
        : undefined;
      // Across processes with several calls in flight: counted in delivery
      // order, around each message's whole handling.
      let around = order?.around;
      if (count !== undefined && this.#concurrency(init) > 1) {
        const { prefixAround } = await import("./handled_prefix.ts");
        const wrap = prefixAround(count, init.redelivery, around);
        around = wrap.around;
        beforeOf = wrap.before;
      }
      if (!isDefaultPolicy(init.policy)) {
        const { Attempts } = await import("./attempts.ts");
        attempts = this.#attempts = await Attempts.create(
          { ...this.#attemptsHost(init, lifecycle), around },
          actor,
        );
        if (this.#terminated) return;
      }
      this.#setPhase("recv");
      const received = init.stats.index * WIDTH + RECEIVED;
      this.#attempt = 1;
      const plain = (message: unknown) => {
        if (this.#terminated) throw this.#controller.signal.reason;
        stats[received]++;
        return actor.recv(message);
      };
      const direct = attempts?.handle ?? plain;
      // A retrying group with nothing around its calls: the inlet catches.
      const caught = order === undefined && count === undefined
        ? attempts?.caught
        : undefined;
      // Where several are in flight, the attempts wrap each message
      // themselves (AttemptsHost.around: ordering, the count of handled
      // ones). One at a time, around each message's whole handling, from
      // the outside in: the count of handled messages (across processes,
      // markers of an ordered run included), the envelope of a redelivery,
      // then ordering.
      let handler = direct;
      if (caught !== undefined) handler = plain;
      else if (!attempts?.concurrent) {
        handler = order?.handler?.(inlet, direct) ?? direct;
        if (init.redelivery !== undefined) {
          handler = unwrapping(handler, init.redelivery, (n) => (before = n));
        }
        if (count !== undefined) handler = countHandled(handler, count);
      }
      await inlet.run(
        handler,
        (got, expected) =>
          lifecycle.info(`received ${got}/${expected} poison pills`),
        caught,
      );
      // The pills wait for every call still in flight.
      await attempts?.drain();
      attempts?.end();
      this.#attempt = 0;
    } else {
      this.#setPhase("loop");
      try {
        await actor.loop();
      } catch (error) {
        // A source stopped by the relay's abort ends normally.
        if (!this.#controller.signal.aborted || !this.#isAbort(error)) {
          throw error;
        }
      }
    }
    await surfaceDue();
    // Stopped because another actor failed: the run is over, no shutdown.
    if (this.#stopping || this.#failed) return;
    lifecycle.info("leaving loop");
    lifecycle.info("shutting down");
    this.#setPhase("shutdown");
    await actor.shutdown();
    // The pills, after every send the actor did not await: the outlet posts
    // them once its waiting sends went out.
    await this.#outlet?.close();
    // Every credit it holds is back before it says it is done.
    if (inlet !== undefined) await drainedEnd(init.inlet!, inlet);
    await surfaceDue();
    lifecycle.info("shut down complete");
    if (!this.#failed && !this.#stopping) {
      this.post({ kind: "done", pills: inlet?.pills ?? 0 });
    }
  }

  /** Calls in flight at most: the group's, within its inlet's bound. */
  #concurrency(init: InitMessage): number {
    return Math.min(init.policy.concurrency, init.inlet?.maxsize ?? Infinity);
  }

  /** What the group's failure policy needs of this runner. */
  #attemptsHost(init: InitMessage, log: Logger): AttemptsHost {
    return {
      name: init.name,
      policy: init.policy,
      concurrency: this.#concurrency(init),
      stats: init.stats,
      log,
      admit: () => {
        if (this.#terminated) throw this.#controller.signal.reason;
      },
      // Failed too: the calls still in flight need no more attempts.
      halted: () => this.#stopping || this.#terminated || this.#failed,
      fail: (error, final) => this.fail(error, "recv", undefined, final),
      deadLetter: (message, error, attempts) =>
        this.#deadLetter(message, error, attempts),
    };
  }

  /** Opens the actor's ends of its edges. */
  #open(init: InitMessage): void {
    if (init.outlet !== undefined) {
      this.#outlet = openSender(init.outlet, (error, batch) => {
        // Found after the failure, never on the hot path.
        const bad = batch.find((m) => uncloneablePath(m) !== undefined);
        // Ordered: the path inside the message, not inside [n, message].
        const shown = init.order !== undefined && Array.isArray(bad)
          ? bad[1]
          : bad;
        this.fail(error, "send", uncloneablePath(shown));
      });
    }
    if (init.inlet !== undefined) {
      this.#inlet = openReceiver(init.inlet);
      this.#inlet.idleSpinMs = init.idleSpinMs ?? 0;
      chainEnds(init.inlet, this.#inlet, this.#outlet);
    }
    const relinks = this.#relinks ?? [];
    this.#relinks = undefined;
    for (const spec of relinks) this.#relink(spec);
  }

  /** Ordered results: numbers through the actor (`ordering.ts`). */
  async #ordering(init: InitMessage): Promise<Ordering> {
    const { ordering } = await import("./ordering.ts");
    const stats = new Float64Array(init.stats.buffer);
    const base = init.stats.index * WIDTH;
    return ordering(init, this.#sender(init), {
      forward: (marker) => {
        stats[base + SENT]++;
        stats[base + MARKERS]++;
        return this.#outlet!.send(marker);
      },
      fail: (error) => this.fail(error),
    });
  }

  /**
   * The actor's `send()`. A source's sends reject once the relay aborts,
   * which ends a `loop()` that does not watch its signal; sends that were
   * already waiting for credit still go through (the drain delivers what was
   * accepted).
   */
  #sender(
    init: InitMessage,
  ): (message: unknown, options?: SendOptions) => Promise<void> {
    const out = this.#outlet;
    if (out === undefined) {
      return () =>
        Promise.reject(
          new Error(
            `Cannot send from ${init.name}: it is in the last group, which has no group after it; read its output with relay.results()`,
          ),
        );
    }
    const source = init.inlet === undefined;
    const signal = this.#controller.signal;
    const stats = new Float64Array(init.stats.buffer);
    const base = init.stats.index * WIDTH;
    const waited = () => {
      stats[base + WAITED_MS] = out.waitedMs;
    };
    return (message, options) => {
      if (source && signal.aborted) return Promise.reject(signal.reason);
      stats[base + SENT]++;
      const sent = out.send(message, options?.transfer);
      if (out.waiting > 0) sent.then(waited, waited);
      return sent;
    };
  }

  #isAbort(error: unknown): boolean {
    if (error === this.#controller.signal.reason) return true;
    try {
      return error instanceof Error &&
        (error.name === "AbortError" || error.name === "TimeoutError");
    } catch {
      return false;
    }
  }
}

/**
 * Lets a rejection nobody awaited surface in the phase that caused it: it is
 * noticed only once the current task ends, and a `recv()` that runs through
 * a whole batch and the pills, then `shutdown()`, would otherwise finish in
 * one task and report "done" first. One task is enough, and a message on a
 * channel is the shortest (about 0.07 ms against 1–2 ms for a 0 ms timer,
 * measured here); a timer that throws after the actor's last hook is not
 * waited for.
 */
function surfaceDue(): Promise<void> {
  const { port1, port2 } = new MessageChannel();
  return new Promise((resolve) => {
    port1.onmessage = () => {
      port1.close();
      port2.close();
      resolve();
    };
    port2.postMessage(null);
  });
}

/**
 * Across processes: unwraps a message delivered before from its envelope
 * (`InitMessage.redelivery`), telling `delivered` how many times it was
 * delivered before while it is handled, one call at a time (with several
 * in flight, `handled_prefix.ts` unwraps it for each call).
 */
function unwrapping(
  handle: (message: unknown) => unknown,
  mark: string,
  delivered: (before: number) => void,
): (message: unknown) => unknown {
  const reset = () => delivered(0);
  return (message) => {
    if (
      typeof message !== "object" || message === null ||
      !Object.hasOwn(message, mark)
    ) return handle(message);
    const envelope = message as Record<string, unknown>;
    delivered(Number(envelope[mark]) - 1);
    let result: unknown;
    try {
      result = handle(envelope.m);
    } catch (error) {
      reset();
      throw error;
    }
    if (!isPending(result)) reset();
    else result.then(reset, reset);
    return result;
  };
}

/**
 * Counts in `stats[cell]` one more message whose handling settled (a
 * worker process of a run across processes acknowledges only those to
 * Redis), and rings the main thread's bell once the count it waits for is
 * reached (see `HANDLED_TARGET`).
 */
function handledCounter(stats: Float64Array, cell: number): () => void {
  const target = cell - HANDLED + HANDLED_TARGET;
  const bells = new Int32Array(stats.buffer);
  const bell = int32Cell(cell - HANDLED + HANDLED_BELL);
  return () => {
    const handled = ++stats[cell];
    const wanted = stats[target];
    if (wanted > 0 && handled >= wanted) {
      // Unless the main thread asked for the next one meanwhile.
      if (stats[target] === wanted) stats[target] = 0;
      Atomics.add(bells, bell, 1);
      Atomics.notify(bells, bell);
    }
  };
}

/**
 * Counts each message once its handling settled, one call at a time: only
 * across processes, as it costs a reaction per message that returns a
 * promise.
 */
function countHandled(
  handle: (message: unknown) => unknown,
  count: () => void,
): (message: unknown) => unknown {
  return (message) => {
    const result = handle(message);
    if (!isPending(result)) {
      count();
      return result;
    }
    return result.then(count);
  };
}
