/**
 * Terminal progress: one bar per group, as in the original's demo, drawn by
 * `cli-progress` on standard error from the run's live metrics. While the
 * bars are drawn, whatever the program writes to the console (LogTape's
 * console sink among it) goes above them, whole lines, and the last lines
 * written before the bars stop stay on the screen.
 *
 * A bar has a true total only where one is known: the first group's, when
 * the input's length or `progress: { total }` says how many messages there
 * are. Every later group's bar counts what it took of what was sent to it so
 * far; a first group without a total shows its count and rate.
 *
 * @module
 */

// @ts-types="npm:@types/cli-progress@^3.11.6"
import cliProgress from "cli-progress";
import type { RelayMetrics } from "../metrics.ts";

const METHODS = ["log", "info", "warn", "error", "debug", "trace"] as const;

/** One bar per group, redrawn every `intervalMs` until stopped. */
export class Progress {
  readonly #multi: cliProgress.MultiBar;
  readonly #bars: cliProgress.SingleBar[];
  readonly #read: () => RelayMetrics;
  readonly #total: number | undefined;
  readonly #timer: ReturnType<typeof setInterval>;
  readonly #console: Partial<Record<(typeof METHODS)[number], unknown>> = {};

  /**
   * Draws bars for `groups`; `total` is how many messages the first group
   * handles, if known.
   */
  constructor(
    groups: readonly string[],
    read: () => RelayMetrics,
    options: { total?: number; intervalMs?: number } = {},
  ) {
    const width = Math.max(...groups.map((g) => g.length));
    this.#read = read;
    this.#total = options.total;
    this.#multi = new cliProgress.MultiBar({
      format: "{group} |{bar}| {value}/{total} messages · {rate}/s",
      hideCursor: true,
      clearOnComplete: false,
      stopOnComplete: false,
      barsize: 30,
      etaBuffer: 50,
      // Never cut a log line in two: a line longer than the terminal wraps.
      linewrap: null,
      stream: syncStderr() as unknown as NodeJS.WritableStream,
    }, cliProgress.Presets.shades_classic);
    this.#bars = groups.map((group, i) =>
      this.#multi.create(
        i === 0 ? this.#total ?? 0 : 1,
        0,
        { group: group.padEnd(width), rate: "0" },
        i === 0 && this.#total === undefined
          ? { format: "{group} {value} messages · {rate}/s" }
          : {},
      )
    );
    this.#captureConsole();
    this.#timer = setInterval(() => this.update(), options.intervalMs ?? 100);
  }

  /**
   * Sends console output above the bars while they are drawn: each call
   * becomes whole lines, written before the next redraw.
   */
  #captureConsole(): void {
    const target = console as unknown as Record<string, unknown>;
    for (const method of METHODS) {
      this.#console[method] = target[method];
      target[method] = (...args: unknown[]) => {
        this.#multi.log(`${format(args)}\n`);
      };
    }
  }

  #restoreConsole(): void {
    const target = console as unknown as Record<string, unknown>;
    for (const method of METHODS) target[method] = this.#console[method];
  }

  /** Sets the bars from the current metrics. */
  update(): void {
    const metrics = this.#read();
    const seconds = Math.max(metrics.elapsedMs / 1000, 0.001);
    metrics.groups.forEach((group, i) => {
      // A source's progress is what it sent; a receiver's, what it took of
      // what was sent to it so far.
      const value = i === 0 && group.received === 0
        ? group.sent
        : group.received;
      const bar = this.#bars[i];
      if (i === 0) {
        if (this.#total !== undefined) {
          bar.setTotal(Math.max(this.#total, value));
        }
      } else {
        bar.setTotal(Math.max(metrics.groups[i - 1].sent, value, 1));
      }
      bar.update(value, { rate: Math.round(value / seconds).toString() });
    });
  }

  /** Draws the last state, writes what the console still holds, stops. */
  stop(): void {
    clearInterval(this.#timer);
    this.update();
    // The multibar's redraw writes the lines logged since the last one.
    (this.#multi as unknown as { update(): void }).update();
    this.#multi.stop();
    this.#restoreConsole();
  }
}

/**
 * Standard error as the stream `cli-progress` writes to, each write done at
 * once. The bars move the cursor up and redraw relative to where they last
 * wrote: a write still queued when the program prints its next line (its
 * `console.log` after the run) would land on the wrong lines.
 */
function syncStderr(): {
  isTTY: boolean;
  readonly columns: number;
  write(data: string | Uint8Array, callback?: () => void): boolean;
} {
  const encoder = new TextEncoder();
  return {
    isTTY: true,
    get columns(): number {
      try {
        return Deno.consoleSize().columns;
      } catch {
        return 80;
      }
    },
    write(data, callback) {
      const bytes = typeof data === "string" ? encoder.encode(data) : data;
      for (let n = 0; n < bytes.length;) {
        n += Deno.stderr.writeSync(bytes.subarray(n));
      }
      callback?.();
      return true;
    },
  };
}

/** A console call's arguments as one line, as the console would print them. */
function format(args: readonly unknown[]): string {
  const parts = [...args];
  let head = "";
  if (typeof parts[0] === "string") {
    head = parts.shift() as string;
    // Substitutions: %c takes a style (ignored in a terminal), %s %d %i %f
    // %o %O a value.
    head = head.replace(/%([csdifoO%])/g, (match, code: string) => {
      if (code === "%") return "%";
      if (parts.length === 0) return match;
      const value = parts.shift();
      return code === "c"
        ? ""
        : typeof value === "string"
        ? value
        : Deno.inspect(value, { colors: false });
    });
  }
  const rest = parts.map((p) =>
    typeof p === "string" ? p : Deno.inspect(p, { colors: false })
  );
  return [head, ...rest].filter((p, i) => i > 0 || p !== "").join(" ");
}
