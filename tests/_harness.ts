/**
 * Test harness for real-worker and inline tests: a log capture through
 * LogTape, a watchdog that turns a hang into a failure with the relay's
 * state, the thread-count leak check of docs/faults.md, and the two modes
 * a relay runs its actors in.
 *
 * The Web Worker threads are counted from `/proc/<pid>/task` by `ls` and
 * `cat` (Deno reads `/proc` only with --allow-all): tests run with
 * `--allow-run=cat,ls`.
 *
 * @module
 */

import { configure, type LogRecord, reset } from "@logtape/logtape";
import type { Relay } from "../mod.ts";

/**
 * Where a test's actors run, as `[name, inline]`: a Web Worker each, or all
 * in the calling thread (`new Relay({ inline: true })`).
 */
export const MODES = [
  ["workers", false],
  ["inline", true],
] as const;

/**
 * The number of this process's Web Worker threads (Deno names them
 * `worker-<n>`). The process's other threads are left out: Tokio's blocking
 * pool starts threads on demand (a file read, a subprocess) and ends them
 * after 10 s idle, so a plain thread count moves with no worker involved.
 */
export async function threads(): Promise<number> {
  const task = `/proc/${Deno.pid}/task`;
  const ids = (await output("ls", [task])).split("\n").filter((id) => id);
  if (ids.length === 0) throw new Error(`no threads listed in ${task}`);
  // A thread that ends between `ls` and `cat` makes cat complain about its
  // file and go on with the others: those that remain are counted.
  const names = await output("cat", ids.map((id) => `${task}/${id}/comm`));
  return names.split("\n").filter((name) => name.startsWith("worker-"))
    .length;
}

async function output(command: string, args: string[]): Promise<string> {
  const { stdout } = await new Deno.Command(command, {
    args,
    stdin: "null",
    stdout: "piped",
    stderr: "null",
  }).output();
  return new TextDecoder().decode(stdout);
}

/**
 * Resolves once the thread count is at most `baseline`, or throws after
 * `ms`: a worker still alive after its relay settled is a leak.
 */
export async function expectNoLeak(baseline: number, ms = 1000): Promise<void> {
  const deadline = performance.now() + ms;
  let now = await threads();
  while (now > baseline) {
    if (performance.now() > deadline) {
      throw new Error(
        `thread leak: ${now} worker threads ${ms} ms after the relay settled, ${baseline} before it started`,
      );
    }
    // No event tells when a terminated worker's thread is gone: poll /proc.
    await new Promise((resolve) => setTimeout(resolve, 20));
    now = await threads();
  }
}

/**
 * Resolves once `condition()` holds, looked at every 20 ms (for state that
 * no event announces: a run's progress, the phases of `relay.snapshot()`);
 * fails after `ms`, naming `what` was waited for.
 */
export async function until(
  condition: () => boolean,
  what: string,
  ms = 30_000,
): Promise<void> {
  const deadline = performance.now() + ms;
  while (!condition()) {
    if (performance.now() > deadline) {
      throw new Error(`waited ${ms} ms for ${what}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Records captured by {@linkcode captureLogs}. */
export interface Capture extends AsyncDisposable {
  readonly records: LogRecord[];
  /** The rendered messages of records whose category starts with `prefix`. */
  lines(prefix?: string): string[];
}

/** Sends every record of `categories` to memory until disposed. */
export async function captureLogs(
  categories: string[] = ["test", "baton"],
  lowestLevel: "trace" | "debug" | "info" = "debug",
): Promise<Capture> {
  const records: LogRecord[] = [];
  await configure({
    reset: true,
    sinks: { memory: (record) => records.push(record) },
    loggers: [
      ...categories.map((category) => ({
        category,
        sinks: ["memory"],
        lowestLevel,
      })),
      {
        category: ["logtape", "meta"],
        sinks: [],
        lowestLevel: "warning" as const,
      },
    ],
  });
  return {
    records,
    lines(prefix?: string) {
      return records
        .filter((r) => prefix === undefined || r.category[0] === prefix)
        .map((r) => render(r));
    },
    async [Symbol.asyncDispose]() {
      await reset();
    },
  };
}

/** `[group] (actor) message` for an actor's record, else the message. */
export function render(record: LogRecord): string {
  const text = record.message.map((part) => String(part)).join("");
  const { actor, group } = record.properties;
  return typeof actor === "string" ? `[${group}] (${actor}) ${text}` : text;
}

/**
 * Runs `relay.start()` under a watchdog: after `ms`, the relay is closed at
 * once and the test fails with the relay's state (per actor: state, phase;
 * per edge: messages in flight, waiting senders, queues).
 */
export async function startWithin(
  relay: Relay,
  ms: number,
  options: { signal?: AbortSignal; onAbort?: "cancel" | "drain" } = {},
): Promise<void> {
  const started = relay.start(options);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const watchdog = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const state = JSON.stringify(relay.snapshot(), null, 1);
      relay.close({ timeout: 0 });
      reject(
        new Error(`relay did not settle within ${ms} ms; state: ${state}`),
      );
    }, ms);
  });
  try {
    await Promise.race([started, watchdog]);
  } finally {
    clearTimeout(timer);
    await started.catch(() => {});
  }
}

/**
 * Runs `body` between a thread count and the leak check: every real-worker
 * test goes through this.
 */
export async function leakChecked(body: () => Promise<void>): Promise<void> {
  const baseline = await threads();
  await body();
  await expectNoLeak(baseline);
}
