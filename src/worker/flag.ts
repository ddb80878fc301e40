/**
 * Marks this thread as an actor's worker. The worker's script (`entry.ts`)
 * imports it first, before the bundle, so the mark is set before any other
 * module of baton evaluates: `common/logtape.ts` reads it (as `ACTOR_WORKER`) to keep LogTape out
 * of the worker. This module imports nothing: an import would evaluate
 * before the mark is set.
 *
 * @module
 */

(globalThis as Record<symbol, unknown>)[Symbol.for("baton.actorWorker")] = true;
