/**
 * Test harness for real-worker and inline tests: a log capture through
 * LogTape, a watchdog that turns a hang into a failure with the relay's
 * state, the thread-count leak check of docs/faults.md, and the two modes
 * a relay runs its actors in.
 *
 * The thread count is read from `/proc/<pid>/status` by `cat` (Deno reads
 * `/proc` only with --allow-all): tests run with `--allow-run=cat`.
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

/** The number of threads of this process. */
export async function threads(): Promise<number> {
  const { stdout } = await new Deno.Command("cat", {
    args: [`/proc/${Deno.pid}/status`],
    stdout: "piped",
  }).output();
  const match = /^Threads:\s+(\d+)$/m.exec(new TextDecoder().decode(stdout));
  if (match === null) throw new Error("no Threads: line in /proc status");
  return Number(match[1]);
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
        `thread leak: ${now} threads ${ms} ms after the relay settled, ${baseline} before it started`,
      );
    }
    // No event tells when a terminated worker's thread is gone: poll /proc.
    await new Promise((resolve) => setTimeout(resolve, 20));
    now = await threads();
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
