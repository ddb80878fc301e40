/**
 * The bootstrap of an actor's worker: loads the actor's module, rebuilds the
 * actor from its copied fields, runs its phases, and reports everything (log
 * records, errors, the end) to the main thread as data. Every phase is
 * guarded here, because an uncaught error reaches the main thread without its
 * stack (DESIGN §3). Never imported by the main thread.
 *
 * @module
 */

// First: marks the thread before any other module evaluates (see the module).
import "./flag.ts";
import type { Logger, LogRecord } from "@logtape/logtape";
import {
  Actor,
  type ActorRuntime,
  RUNTIME,
  type SendOptions,
} from "../actor.ts";
import { toErrorData } from "../common/error_data.ts";
import { findExport } from "../common/exports.ts";
import { RECEIVED, SENT, WAITED_MS, WIDTH } from "../common/stats.ts";
import { render, uncloneablePath } from "../common/values.ts";
import { Inlet } from "../link/inlet.ts";
import { grabSize, Outlet } from "../link/outlet.ts";
import { ReceiverCredit, SenderCredit } from "../link/port/credit.ts";
import type {
  ErrorData,
  FromWorker,
  InitMessage,
  LogCall,
  Phase,
  ToWorker,
} from "../common/protocol.ts";
import {
  cloneableCall,
  cloneableRecord,
  forwardingLogger,
  forwardLogs,
} from "./forwarding_logger.ts";
import {
  loadLogTape,
  loadRequested,
  whenLogTapeLoads,
} from "../common/logtape.ts";

interface WorkerScope {
  onmessage: ((event: MessageEvent) => void) | null;
  postMessage(message: FromWorker): void;
  close(): void;
  addEventListener(
    type: "error" | "unhandledrejection",
    listener: (
      event: Event & { error?: unknown; reason?: unknown; message?: string },
    ) => void,
  ): void;
}

const scope = globalThis as unknown as WorkerScope;
const controller = new AbortController();
let phase: Phase = "load";
/** The group runs with its own permissions (for error hints). */
let sandboxed = false;
/** An error was reported: later ones are consequences. */
let failed = false;
/** The relay asked this worker to stop: errors from now on are echoes. */
let stopping = false;
let inlet: Inlet | undefined;
let outlet: Outlet | undefined;

function post(message: FromWorker): void {
  scope.postMessage(message);
}

// The listener goes first, before any await: early messages must not be lost.
scope.onmessage = (event: MessageEvent) => {
  const message = event.data as ToWorker;
  switch (message.kind) {
    case "init":
      sandboxed = message.sandboxed;
      run(message).catch((error) => fail(error));
      break;
    case "abort":
      controller.abort(message.reason);
      break;
    case "stop":
      stop(message.reason);
      break;
  }
};

// Errors nobody caught: a throw in a timer, a rejection nobody awaited. The
// default would reach the main thread as a bare event without the stack.
scope.addEventListener("error", (event) => {
  event.preventDefault();
  fail(event.error ?? new Error(event.message ?? "uncaught error"));
});
scope.addEventListener("unhandledrejection", (event) => {
  event.preventDefault();
  fail(event.reason);
});

// A worker that closes itself sends no event to its parent (DESIGN §3): say so
// first, so the relay fails the run instead of waiting for pills forever.
const realClose = scope.close.bind(scope);
scope.close = () => {
  post({ kind: "exit", how: "self.close()" });
  realClose();
};
Object.defineProperty(Deno, "exit", {
  value: (code?: number): never => {
    post({ kind: "exit", how: `Deno.exit(${code ?? 0})` });
    realClose();
    // close() ends the worker's script at once; this line is never reached.
    throw new Error("unreachable: the worker is closed");
  },
});

function fail(error: unknown, at: Phase = phase, path?: string): void {
  if (failed || stopping) return;
  failed = true;
  const summary = at === "recv" && inlet?.current !== undefined
    ? render(inlet.current)
    : undefined;
  const load = error instanceof LoadFailure ? error : undefined;
  const cause = load === undefined ? error : load.original;
  let data: ErrorData;
  try {
    data = toErrorData(cause);
  } catch {
    // An error whose properties throw when read still fails the run.
    data = { name: "Error", message: "an error that could not be read" };
  }
  post({
    kind: "error",
    phase: at,
    error: data,
    summary,
    path,
    hint: load?.hint,
    module: load?.module,
  });
  outlet?.abort(cause);
}

/**
 * Another actor failed: the actor's pending sends reject and its signal
 * aborts, so it sees the end; one task later (its reactions logged) the
 * worker answers and closes. A worker too busy to get here is terminated.
 */
function stop(reason: string): void {
  if (stopping) return;
  stopping = true;
  const error = new DOMException(reason, "AbortError");
  controller.abort(error);
  outlet?.abort(error);
  setTimeout(() => {
    post({ kind: "stopped" });
    realClose();
  }, 0);
}

function setPhase(next: Phase): void {
  phase = next;
  post({ kind: "phase", phase: next });
}

function postRecord(record: LogRecord): void {
  try {
    post({ kind: "log", record });
  } catch {
    post({ kind: "log", record: cloneableRecord(record) });
  }
}

function postCall(call: LogCall): void {
  try {
    post({ kind: "call", call });
  } catch {
    post({ kind: "call", call: cloneableCall(call) });
  }
}

/** The global key of LogTape's root logger, set when LogTape is first used. */
const LOGTAPE_ROOT = Symbol.for("logtape.rootLogger");

/**
 * LogTape stays out of the worker (see `logtape.ts`), but an actor's modules
 * may import it themselves, or start a relay of their own, which loads it:
 * then LogTape is set up to forward its records as soon as it is loaded.
 * LogTape creates its root logger as it loads, so the root exists once the
 * actor's modules are loaded if they import LogTape; a dynamic import in a
 * hook creates it later, which a setter on the root's key notices. The
 * set-up waits for LogTape's module, asynchronously: the worker waits for it
 * after loading and after `startup()`, and a relay started in the worker
 * gets LogTape only once it forwards; but LogTape imported by the actor in a
 * later phase loses the records logged before the set-up, and the worker
 * says so.
 *
 * Returns what the worker waits for: the set-up, once started.
 */
function forwardLogTape(
  init: InitMessage,
  log: Logger,
): () => Promise<unknown> | undefined {
  whenLogTapeLoads((module) => forwardLogs(module, postRecord, init.logLevel));
  let ready: Promise<unknown> | undefined;
  const start = () => ready ??= loadLogTape();
  if (LOGTAPE_ROOT in globalThis) {
    start();
  } else {
    Object.defineProperty(globalThis, LOGTAPE_ROOT, {
      configurable: true,
      get: () => undefined,
      set(value: unknown) {
        Object.defineProperty(globalThis, LOGTAPE_ROOT, {
          value,
          writable: true,
          configurable: true,
        });
        const byBaton = loadRequested();
        start().catch((error) => fail(error));
        if (!byBaton && phase !== "load" && phase !== "startup") {
          log.warning(
            "LogTape was loaded in {phase}(): records of its loggers from before it forwards them (a few milliseconds) are lost; import LogTape at the top of the actor's module",
            { phase },
          );
        }
      },
    });
  }
  return () => ready;
}

const READ_DENIED = /Requires read access to "?([^",]*)"?/;

/** A module that would not load: the loader's error and what to do. */
class LoadFailure extends Error {
  constructor(
    readonly module: string,
    readonly original: unknown,
    readonly hint: string | undefined,
  ) {
    super(`Cannot load ${module}`, { cause: original });
  }
}

async function load(init: InitMessage): Promise<Actor<unknown, unknown>> {
  let exports: Record<string, unknown>;
  try {
    exports = await import(init.module);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const denied = READ_DENIED.exec(message);
    const hint = denied === null
      ? undefined
      : sandboxed
      ? `group ${init.group} runs with its own permissions: add the actor's modules to them, for example group(actors, { permissions: { read: [new URL("./", import.meta.url)] } })`
      : `the worker of ${init.name} needs read access to its modules: run with --allow-read (-R), or at least --allow-read=${
        denied[1] || new URL(".", init.module).pathname
      }`;
    throw new LoadFailure(init.module, error, hint);
  }
  const ctor = findExport(exports, init.className, init.module);
  if (!(ctor.prototype instanceof Actor)) {
    throw new TypeError(
      `${init.className} exported by ${init.module} does not extend Actor`,
    );
  }
  const actor = Object.create(ctor.prototype) as Actor<unknown, unknown>;
  return Object.assign(actor, init.state);
}

async function run(init: InitMessage): Promise<void> {
  const log = forwardingLogger(
    { lowest: init.logLevel, call: postCall, record: postRecord },
    [...init.category, init.group, init.name],
    { group: init.group, actor: init.name },
  );
  const logtapeReady = forwardLogTape(init, log);
  const actor = await load(init);
  await logtapeReady();

  if (init.outlet !== undefined) {
    const end = init.outlet;
    outlet = new Outlet(
      end.ports,
      new SenderCredit(end.cells, grabSize(end.maxsize, end.senders)),
      (error, batch) => {
        // Found after the failure, never on the hot path.
        const bad = batch.find((m) => uncloneablePath(m) !== undefined);
        fail(error, "send", uncloneablePath(bad));
      },
    );
  }
  if (init.inlet !== undefined) {
    const end = init.inlet;
    inlet = new Inlet(
      end.ports,
      new ReceiverCredit(end.cells, end.index, end.maxsize),
    );
  }
  // The actor's counters, read live by the main thread (see metrics.ts).
  const stats = new Float64Array(init.stats.buffer);
  const base = init.stats.index * WIDTH;
  const send = sender(init, outlet, init.inlet === undefined, stats, base);
  const runtime: ActorRuntime = {
    name: init.name,
    group: init.group,
    log,
    signal: controller.signal,
    send,
    report: (value) => {
      try {
        post({ kind: "report", value });
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

  log.info("starting up");
  setPhase("startup");
  await actor.startup();
  await logtapeReady();
  log.info("running loop");
  if (inlet !== undefined) {
    setPhase("recv");
    await inlet.run(
      (message) => {
        stats[base + RECEIVED]++;
        return actor.recv(message);
      },
      (received, expected) =>
        log.info(`received ${received}/${expected} poison pills`),
    );
  } else {
    setPhase("loop");
    try {
      await actor.loop();
    } catch (error) {
      // A source stopped by the relay's abort ends normally.
      if (!controller.signal.aborted || !isAbort(error)) throw error;
    }
  }
  await surfaceDue();
  // Stopped because another actor failed: the run is over, no shutdown.
  if (stopping || failed) return;
  log.info("leaving loop");
  log.info("shutting down");
  setPhase("shutdown");
  await actor.shutdown();
  // The pills, after every send the actor did not await: the outlet posts
  // them once its waiting sends went out.
  await outlet?.close();
  await surfaceDue();
  log.info("shut down complete");
  if (!failed && !stopping) post({ kind: "done" });
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
      resolve();
    };
    port2.postMessage(null);
  });
}

/**
 * The actor's `send()`. A source's sends reject once the relay aborts, which
 * ends a `loop()` that does not watch its signal; sends that were already
 * waiting for credit still go through (the drain delivers what was accepted).
 */
function sender(
  init: InitMessage,
  out: Outlet | undefined,
  source: boolean,
  stats: Float64Array,
  base: number,
): (message: unknown, options?: SendOptions) => Promise<void> {
  if (out === undefined) {
    return () =>
      Promise.reject(
        new Error(
          `Cannot send from ${init.name}: it is in the last group, which has no group after it; read its output with relay.results()`,
        ),
      );
  }
  const signal = controller.signal;
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

function isAbort(error: unknown): boolean {
  return error === controller.signal.reason ||
    (error instanceof Error &&
      (error.name === "AbortError" || error.name === "TimeoutError"));
}
