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
import type {
  ErrorData,
  FromWorker,
  InitMessage,
  LogCall,
  Phase,
  ToWorker,
} from "../common/protocol.ts";
import { HANDLED, RECEIVED, SENT, WAITED_MS, WIDTH } from "../common/stats.ts";
import { render, uncloneablePath } from "../common/values.ts";
import { openReceiver, openSender } from "../link/ends.ts";
import type { Inlet } from "../link/inlet.ts";
import { type Outlet, RESOLVED } from "../link/outlet.ts";
import {
  cloneableCall,
  cloneableRecord,
  forwardingLogger,
} from "./forwarding_logger.ts";
import { loadActor, LoadFailure } from "./load.ts";

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
   * consequences), then aborts its outlet.
   */
  fail(error: unknown, at: Phase = this.#phase, path?: string): void {
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
    const summary = at === "recv" && current !== undefined
      ? render(current)
      : undefined;
    let data: ErrorData;
    try {
      data = toErrorData(cause);
    } catch {
      data = { name: "Error", message: render(cause, 500) };
    }
    this.post({
      kind: "error",
      phase: at,
      error: data,
      summary,
      path,
      hint: load?.hint,
      module: load?.module,
    });
    try {
      this.#outlet?.abort(cause);
    } catch {
      // Nothing more to stop.
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
    this.#controller.abort(error);
    this.#outlet?.abort(error);
    this.#inlet?.close();
    this.#outlet?.closeWires();
    this.#port.onmessage = null;
    this.#port.close();
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
    if (this.#terminated) return;
    this.#open(init);
    const send = this.#sender(init);
    const runtime: ActorRuntime = {
      name: init.name,
      group: init.group,
      log,
      signal: this.#controller.signal,
      send,
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
      this.#setPhase("recv");
      const stats = new Float64Array(init.stats.buffer);
      const received = init.stats.index * WIDTH + RECEIVED;
      const handled = init.stats.index * WIDTH + HANDLED;
      const count = () => {
        stats[handled]++;
      };
      await inlet.run(
        (message) => {
          if (this.#terminated) throw this.#controller.signal.reason;
          stats[received]++;
          const result = actor.recv(message);
          if (
            result === undefined || result === RESOLVED ||
            typeof (result as Promise<void>)?.then !== "function"
          ) {
            count();
            return result;
          }
          return (result as Promise<void>).then(count);
        },
        (got, expected) =>
          lifecycle.info(`received ${got}/${expected} poison pills`),
      );
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
    await surfaceDue();
    lifecycle.info("shut down complete");
    if (!this.#failed && !this.#stopping) {
      this.post({ kind: "done", pills: inlet?.pills ?? 0 });
    }
  }

  /** Opens the actor's ends of its edges. */
  #open(init: InitMessage): void {
    if (init.outlet !== undefined) {
      this.#outlet = openSender(init.outlet, (error, batch) => {
        // Found after the failure, never on the hot path.
        const bad = batch.find((m) => uncloneablePath(m) !== undefined);
        this.fail(error, "send", uncloneablePath(bad));
      });
    }
    if (init.inlet !== undefined) this.#inlet = openReceiver(init.inlet);
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
