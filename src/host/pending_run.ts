/**
 * A run as a relay holds it from `start()` on, before its machinery has
 * loaded (`session.ts`, imported on demand): what is asked of it meanwhile
 * (an abort) is kept and applied as soon as the run exists.
 *
 * @module
 */

import type { RelayMetrics } from "../metrics.ts";
import type { Run } from "./run.ts";
import type { RunSnapshot } from "./snapshot.ts";

/** A run that may not exist yet. */
export class PendingRun {
  #run: Run | undefined;
  #abort: { reason: unknown; timeout: number } | undefined;
  readonly #ready: PromiseWithResolvers<Run> = Promise.withResolvers();

  constructor() {
    this.#ready.promise.catch(() => {});
  }

  /** The run, once it exists. */
  get run(): Run | undefined {
    return this.#run;
  }

  /** Resolves with the run once it exists; rejects if it never will. */
  get ready(): Promise<Run> {
    return this.#ready.promise;
  }

  /** The run exists: an abort asked for meanwhile is applied now. */
  attach(run: Run): void {
    this.#run = run;
    if (this.#abort !== undefined) {
      run.abort(this.#abort.reason, this.#abort.timeout);
    }
    this.#ready.resolve(run);
  }

  /** The run will never exist (its machinery failed to load). */
  fail(error: unknown): void {
    this.#ready.reject(error);
  }

  /** Aborts the run now, or as soon as it exists (the first abort wins). */
  abort(reason: unknown, timeout: number): void {
    if (this.#run !== undefined) this.#run.abort(reason, timeout);
    else this.#abort ??= { reason, timeout };
  }

  /** The run's metrics; undefined until it exists. */
  metrics(): RelayMetrics | undefined {
    return this.#run?.metrics();
  }

  /** The run's snapshot; undefined until it exists. */
  snapshot(): RunSnapshot | undefined {
    return this.#run?.snapshot();
  }
}
