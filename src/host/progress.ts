/**
 * Terminal progress: one bar per group, as in the original's demo, drawn by
 * `cli-progress` from the run's live metrics. Off when standard error is not
 * a terminal.
 *
 * @module
 */

// @ts-types="npm:@types/cli-progress@^3.11.6"
import cliProgress from "cli-progress";
import type { RelayMetrics } from "../metrics.ts";

/** One bar per group, redrawn every `intervalMs` until stopped. */
export class Progress {
  readonly #multi: cliProgress.MultiBar;
  readonly #bars: cliProgress.SingleBar[];
  readonly #read: () => RelayMetrics;
  readonly #timer: ReturnType<typeof setInterval>;

  constructor(
    groups: readonly string[],
    read: () => RelayMetrics,
    intervalMs = 100,
  ) {
    const width = Math.max(...groups.map((g) => g.length));
    this.#read = read;
    this.#multi = new cliProgress.MultiBar({
      format: "{group} |{bar}| {value}/{total} messages · {rate}/s",
      hideCursor: true,
      clearOnComplete: false,
      stopOnComplete: false,
      barsize: 30,
      etaBuffer: 50,
    }, cliProgress.Presets.shades_classic);
    this.#bars = groups.map((group) =>
      this.#multi.create(1, 0, { group: group.padEnd(width), rate: "0" })
    );
    this.#timer = setInterval(() => this.update(), intervalMs);
  }

  /** Whether bars can be drawn here: standard error is a terminal. */
  static available(): boolean {
    return Deno.stderr.isTerminal();
  }

  /** Redraws the bars from the current metrics. */
  update(): void {
    const metrics = this.#read();
    const seconds = Math.max(metrics.elapsedMs / 1000, 0.001);
    metrics.groups.forEach((group, i) => {
      // A source's progress is what it sent; a receiver's, what it took of
      // what was sent to it so far.
      const value = i === 0 ? group.sent : group.received;
      const offered = i === 0 ? group.sent : metrics.groups[i - 1].sent;
      const bar = this.#bars[i];
      bar.setTotal(Math.max(offered, value, 1));
      bar.update(value, { rate: Math.round(value / seconds).toString() });
    });
  }

  /** Draws the last state and stops. */
  stop(): void {
    clearInterval(this.#timer);
    this.update();
    this.#multi.stop();
  }
}
