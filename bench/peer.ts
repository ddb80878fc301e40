/**
 * The peer benchmark: Piscina, a thread pool for Node that runs on Deno,
 * mapping a no-op task over two threads; one round trip per task.
 *
 * @module
 */

// Named here, not in deno.json: the import map is the package's, and this
// one is for tests and benchmarks only.
// deno-lint-ignore no-import-prefix
import { Piscina } from "npm:piscina@^5.3.2";

const TASK = new URL("./piscina_task.ts", import.meta.url).href;

/** Tasks per second of Piscina on 2 threads, all `tasks` queued at once. */
export async function runPiscina(tasks: number): Promise<number> {
  const pool = new Piscina({ filename: TASK, minThreads: 2, maxThreads: 2 });
  try {
    // Both threads up and the task loaded before the clock starts.
    await Promise.all(Array.from({ length: 64 }, (_, i) => pool.run(i)));
    const started = performance.now();
    const runs: Promise<number>[] = new Array(tasks);
    for (let i = 0; i < tasks; i++) runs[i] = pool.run(i);
    await Promise.all(runs);
    return tasks / (performance.now() - started) * 1000;
  } finally {
    await pool.destroy();
  }
}
