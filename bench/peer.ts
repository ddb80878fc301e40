/**
 * The peer benchmark: Piscina, a thread pool for Node that runs on Deno,
 * on two threads: mapping a no-op task (one round trip per task), or the
 * suite's real work (hashing, `JSON.parse`) with one item per task or with
 * several items per task.
 *
 * @module
 */

// Named here, not in deno.json: the import map is the package's, and this
// one is for tests and benchmarks only.
// deno-lint-ignore no-import-prefix
import { Piscina } from "npm:piscina@^5.3.2";
import { maker, type Payload, WARMUP } from "./payloads.ts";

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

/** Real work Piscina does: its task names, one item and several. */
const WORK = {
  hash: { one: "hashOne", many: "hashMany", payload: "number" },
  parse: { one: "parseOne", many: "parseMany", payload: "json" },
} as const satisfies Record<
  string,
  { one: string; many: string; payload: Payload }
>;

/**
 * Items per second of Piscina on 2 threads doing `work` on `items` items
 * (the same items baton's source sends), `perTask` items per task, all
 * tasks queued at once.
 */
export async function runPiscinaWork(
  work: keyof typeof WORK,
  options: { items: number; perTask: number },
): Promise<number> {
  const { one, many, payload } = WORK[work];
  const { items, perTask } = options;
  const make = maker(payload);
  const inputs = Array.from({ length: items }, (_, i) => make(i));
  const tasks: unknown[] = [];
  if (perTask === 1) tasks.push(...inputs);
  else {
    for (let i = 0; i < items; i += perTask) {
      tasks.push(inputs.slice(i, i + perTask));
    }
  }
  const name = perTask === 1 ? one : many;
  const pool = new Piscina({ filename: TASK, minThreads: 2, maxThreads: 2 });
  try {
    // Both threads up, the task loaded and compiled before the clock
    // starts: WARMUP items per thread, as each of baton's and raw's working
    // stages is warmed up (`warmUp()` in payloads.ts).
    const warm = Math.ceil(2 * WARMUP / perTask);
    await Promise.all(
      tasks.slice(0, warm).map((task) => pool.run(task, { name })),
    );
    const started = performance.now();
    const results = await Promise.all(
      tasks.map((task) => pool.run(task, { name })),
    );
    const rate = items / (performance.now() - started) * 1000;
    const count = perTask === 1
      ? results.length
      : results.reduce((n: number, r) => n + (r as unknown[]).length, 0);
    if (count !== items) {
      throw new Error(`Piscina lost items: ${count} of ${items}`);
    }
    return rate;
  } finally {
    await pool.destroy();
  }
}
