/**
 * What the main thread does while a run works: it starts the run, exports
 * its metrics to OpenTelemetry, draws progress bars, and settles with the
 * final metrics. Telemetry and the bars load here, with the run, never with
 * `mod.ts`: every actor's worker imports `mod.ts`.
 *
 * @module
 */

import { loadLogTape } from "../common/logtape.ts";
import type { RelayMetrics } from "../metrics.ts";
import type { InputSource } from "./input.ts";
import type { Progress } from "./progress.ts";
import type { Results } from "./results.ts";
import type { Run } from "./run.ts";

/** What {@linkcode attend} needs besides the run. */
export interface Attendance {
  readonly input: InputSource<unknown> | undefined;
  readonly groups: readonly string[];
  readonly category: readonly string[];
  readonly progress: boolean | { readonly total?: number };
  /** Called once the last group's output can be read. */
  onResults(results: Results<unknown>): void;
  /** Called with the run's failure. */
  onFailure(error: unknown): void;
  /** Called once the run settled, either way. */
  onSettled(): void;
}

/** Starts `run` and resolves with its final metrics once it settled. */
export async function attend(
  run: Run,
  o: Attendance,
): Promise<RelayMetrics> {
  const { observe } = await import("./telemetry.ts");
  // Loaded already, but in an actor's worker (a relay started by an
  // actor) LogTape loads now, set up to forward (see common/logtape.ts).
  await loadLogTape();
  const stopObserving = observe(() => run.metrics(), o.category);
  let progress: Progress | undefined;
  try {
    try {
      await run.start(o.input);
      if (run.results !== undefined) o.onResults(run.results);
      if (o.progress && Deno.stderr.isTerminal()) {
        const { Progress } = await import("./progress.ts");
        const total = o.progress !== true
          ? o.progress.total
          : Array.isArray(o.input)
          ? o.input.length
          : undefined;
        progress = new Progress(o.groups, () => run.metrics(), { total });
      }
    } catch (error) {
      run.destroy(error);
    }
    await run.settled.catch((error) => {
      o.onFailure(error);
      throw error;
    });
    return run.metrics();
  } finally {
    progress?.stop();
    stopObserving();
    o.onSettled();
  }
}
