/**
 * The bootstrap of an actor's worker: loads the actor's module, rebuilds the
 * actor from its copied fields, runs its phases, and reports everything (log
 * records, errors, the end) to the main thread as data. Every phase is
 * guarded here, because an uncaught error reaches the main thread without its
 * stack (DESIGN §3). Never imported by the main thread.
 *
 * @module
 */

import { getLogger, type LogRecord } from "@logtape/logtape";
import {
  Actor,
  type ActorRuntime,
  RUNTIME,
  type SendOptions,
} from "./actor.ts";
import { ReceiverCredit, SenderCredit } from "./credit.ts";
import { render, toErrorData, uncloneablePath } from "./errors.ts";
import { BATCH, Inlet, Outlet } from "./link.ts";
import { findExport } from "./locate.ts";
import { cloneableRecord, forwardLogs } from "./log.ts";
import type { FromWorker, InitMessage, Phase, ToWorker } from "./protocol.ts";

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
let phase: Phase | "idle" = "load";
let failed = false;
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
      run(message).catch((error) => fail(error));
      break;
    case "abort":
      controller.abort(message.reason);
      break;
    case "stop":
      post({ kind: "stopped" });
      realClose();
      break;
  }
};

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
const realExit = Deno.exit;
scope.close = () => {
  post({ kind: "exit", how: "self.close()" });
  realClose();
};
Object.defineProperty(Deno, "exit", {
  value: (code?: number): never => {
    post({ kind: "exit", how: `Deno.exit(${code ?? 0})` });
    return realExit(code);
  },
});

function fail(
  error: unknown,
  at: Phase = phase === "idle" ? "recv" : phase,
  path?: string,
): void {
  if (failed) return;
  failed = true;
  const summary = at === "recv" && inlet?.current !== undefined
    ? render(inlet.current)
    : undefined;
  post({ kind: "error", phase: at, error: toErrorData(error), summary, path });
  outlet?.abort(error);
}

function setPhase(next: Phase | "idle"): void {
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

async function load(init: InitMessage): Promise<Actor<unknown, unknown>> {
  let exports: Record<string, unknown>;
  try {
    exports = await import(init.module);
  } catch (error) {
    const denied = error instanceof Error &&
      (error.name === "NotCapable" || error.name === "PermissionDenied");
    const hint = denied
      ? `; grant read access to it with --allow-read (-R), for example: deno run -R ${
        new URL(".", init.module).pathname
      } …`
      : "";
    throw new Error(
      `Cannot load ${init.module}: ${(error as Error).message ?? error}${hint}`,
      { cause: error },
    );
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
  forwardLogs(postRecord, init.logLevel);
  const log = getLogger([...init.category, init.group, init.name]).with({
    group: init.group,
    actor: init.name,
  });
  const actor = await load(init);

  if (init.outlet !== undefined) {
    const end = init.outlet;
    const grab = Math.min(BATCH, Math.floor(end.maxsize / (2 * end.senders)));
    outlet = new Outlet(
      end.ports,
      new SenderCredit(end.cells, grab),
      (error, batch) => {
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
  const out = outlet;
  const send = out === undefined
    ? (): Promise<void> =>
      Promise.reject(
        new Error(
          `Cannot send from ${init.name}: it is in the last group, which has no group after it`,
        ),
      )
    : (message: unknown, options?: SendOptions): Promise<void> =>
      out.send(message, options?.transfer);
  const runtime: ActorRuntime = {
    name: init.name,
    group: init.group,
    log,
    signal: controller.signal,
    send,
  };
  Object.defineProperty(actor, RUNTIME, { value: runtime });
  // An own property skips the prototype's lookup on the hot path.
  if (actor.send === Actor.prototype.send) {
    Object.defineProperty(actor, "send", { value: send });
  }

  log.info("starting up");
  setPhase("startup");
  await actor.startup();
  log.info("running loop");
  if (inlet !== undefined) {
    setPhase("recv");
    await inlet.run(
      (message) => actor.recv(message),
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
  log.info("leaving loop");
  log.info("shutting down");
  setPhase("shutdown");
  await actor.shutdown();
  outlet?.close();
  log.info("shut down complete");
  setPhase("idle");
  if (!failed) post({ kind: "done" });
}

function isAbort(error: unknown): boolean {
  return error === controller.signal.reason ||
    (error instanceof Error &&
      (error.name === "AbortError" || error.name === "TimeoutError"));
}
