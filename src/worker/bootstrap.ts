/**
 * The entry point of an actor's Web Worker. The main thread's first message
 * on the worker's global port hands it a private control port; an
 * {@linkcode ActorRunner} runs the actor over it. Actor code shares this
 * global scope, so nothing of baton's travels on the global port after that
 * first message: what an actor posts there (`self.postMessage`) is not
 * taken for baton's, and the main thread fails the actor for it.
 *
 * This file also catches what no phase can: errors nobody caught (a
 * throwing timer, a rejection nobody awaited), which would otherwise reach
 * the main thread as a bare event without their stack, and a worker closing
 * itself (`self.close()`, `Deno.exit()`), which sends its parent no event at
 * all. Never imported by the main thread.
 *
 * @module
 */

// First: marks the thread before any other module evaluates (see the module).
import "./flag.ts";
import type { Logger } from "@logtape/logtape";
import {
  loadLogTape,
  loadRequested,
  whenLogTapeLoads,
} from "../common/logtape.ts";
import type { InitMessage } from "../common/protocol.ts";
import { forwardLogs } from "./forwarding_logger.ts";
import { ActorRunner } from "./runner.ts";

interface WorkerScope {
  onmessage: ((event: MessageEvent) => void) | null;
  close(): void;
  addEventListener(
    type: "error" | "unhandledrejection",
    listener: (
      event: Event & { error?: unknown; reason?: unknown; message?: string },
    ) => void,
  ): void;
}

const scope = globalThis as unknown as WorkerScope;
const realClose = scope.close.bind(scope);
let runner: ActorRunner | undefined;

// The listener goes first, before any await: early messages must not be lost.
scope.onmessage = (event: MessageEvent) => {
  const port = (event.data as { control?: unknown } | null)?.control;
  if (runner !== undefined || !(port instanceof MessagePort)) return;
  scope.onmessage = null;
  runner = new ActorRunner(port, {
    prepare: forwardLogTape,
    close: realClose,
  });
};

scope.addEventListener("error", (event) => {
  event.preventDefault();
  runner?.fail(event.error ?? new Error(event.message ?? "uncaught error"));
});
scope.addEventListener("unhandledrejection", (event) => {
  event.preventDefault();
  runner?.fail(event.reason);
});

// Said first, so that the relay fails the run instead of waiting for pills.
scope.close = () => {
  runner?.post({ kind: "exit", how: "self.close()" });
  realClose();
};
Object.defineProperty(Deno, "exit", {
  value: (code?: number): never => {
    runner?.post({ kind: "exit", how: `Deno.exit(${code ?? 0})` });
    realClose();
    // close() ends the worker's script at once; this line is never reached.
    throw new Error("unreachable: the worker is closed");
  },
});

/** The global key of LogTape's root logger, set when LogTape is first used. */
const LOGTAPE_ROOT = Symbol.for("logtape.rootLogger");

/**
 * LogTape stays out of the worker (see `common/logtape.ts`), but an actor's
 * modules may import it themselves, or start a relay of their own, which
 * loads it: then LogTape is set up to forward its records as soon as it is
 * loaded. LogTape creates its root logger as it loads, so the root exists
 * once the actor's modules are loaded if they import LogTape; a dynamic
 * import in a hook creates it later, which a setter on the root's key
 * notices. The set-up waits for LogTape's module, asynchronously: the runner
 * waits for it after loading and after `startup()`, and a relay started in
 * the worker gets LogTape only once it forwards; but LogTape imported by the
 * actor in a later phase loses the records logged before the set-up, and the
 * worker says so.
 *
 * Returns what the runner waits for: the set-up, once started.
 */
function forwardLogTape(
  init: InitMessage,
  log: Logger,
  runner: ActorRunner,
): () => Promise<unknown> | undefined {
  whenLogTapeLoads((module) =>
    forwardLogs(
      module,
      (record) => runner.postRecord(record),
      init.forwardLevel,
    )
  );
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
        start().catch((error) => runner.fail(error));
        const phase = runner.phase;
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
