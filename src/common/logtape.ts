/**
 * LogTape, loaded where it is used: in the main thread, never in an actor's
 * worker. Every other module of baton reaches LogTape's functions through
 * {@linkcode logtape}, and imports only its types directly.
 *
 * Why: an actor's module imports `mod.ts`, so whatever `mod.ts` loads, every
 * worker loads. LogTape's package maps its `#util` import to a Node build
 * (`node:util`) before the Deno one, and Deno takes the first match: loading
 * LogTape costs each worker about 4 MB of memory and part of its start-up,
 * half of what a bare worker costs (measured in `bench/README.md`). So an
 * actor's worker forwards its logger's calls to the main thread as data
 * (`worker/forwarding_logger.ts`) and LogTape emits them there.
 *
 * The worker's bootstrap marks its thread with {@linkcode ACTOR_WORKER}
 * before any module of baton evaluates (`worker/flag.ts`); anywhere else
 * (the main thread, a user's own worker) LogTape loads with this module.
 *
 * @module
 */

import type * as LogTape from "@logtape/logtape";

/** The global key that marks an actor's worker. */
const ACTOR_WORKER: unique symbol = Symbol.for("baton.actorWorker");

/** Whether this thread is the worker of an actor. */
function inActorWorker(): boolean {
  return (globalThis as Record<symbol, unknown>)[ACTOR_WORKER] === true;
}

/**
 * Throws unless `module` is a LogTape baton works with: 2.4 or later, as
 * baton's import map asks. An older one (a program's own import map may
 * pin it) lacks what the relay calls, and would fail later and obscurely.
 */
function checkLogTape(module: typeof LogTape): typeof LogTape {
  const logger = module.getLogger?.([]) as Partial<LogTape.Logger> | undefined;
  const missing = [
    typeof module.getConfig !== "function" && "getConfig()",
    typeof logger?.isEnabledFor !== "function" && "Logger.isEnabledFor()",
  ].filter((m) => m !== false);
  if (missing.length > 0) {
    throw new Error(
      `baton needs LogTape 2.4 or later (@logtape/logtape@^2.4.2), but this program loads one without ${
        missing.join(" and ")
      }; map @logtape/logtape to npm:@logtape/logtape@^2.4.2 in the program's import map (deno.json "imports")`,
    );
  }
  return module;
}

let loaded: typeof LogTape | undefined = inActorWorker()
  ? undefined
  : checkLogTape(await import("@logtape/logtape"));
let loading: Promise<typeof LogTape> | undefined;
let onLoad: ((module: typeof LogTape) => void) | undefined;

/**
 * LogTape's module. Throws in an actor's worker unless it was loaded there
 * with {@linkcode loadLogTape}.
 */
export function logtape(): typeof LogTape {
  if (loaded === undefined) {
    throw new Error(
      "LogTape is not loaded in this actor's worker: log with this.log, whose records the main thread emits",
    );
  }
  return loaded;
}

/**
 * LogTape's module, loaded first if this thread has not loaded it yet. In
 * an actor's worker, the callback given to {@linkcode whenLogTapeLoads}
 * runs before any caller gets the module.
 */
export function loadLogTape(): Promise<typeof LogTape> {
  if (loaded !== undefined) return Promise.resolve(loaded);
  return loading ??= import("@logtape/logtape").then((module) => {
    loaded = checkLogTape(module);
    onLoad?.(module);
    return module;
  });
}

/** Whether {@linkcode loadLogTape} was called before LogTape was loaded. */
export function loadRequested(): boolean {
  return loading !== undefined;
}

/** Sets what an actor's worker does with LogTape once it is loaded. */
export function whenLogTapeLoads(
  callback: (module: typeof LogTape) => void,
): void {
  onLoad = callback;
}
