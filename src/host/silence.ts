/**
 * How a failed run waits for its members' last words: after it asked them
 * to stop, it waits until none has spoken for a grace period (their last
 * log records are still arriving while they speak), and at most a limit in
 * all, then gives up on whoever is left.
 *
 * @module
 */

/**
 * How long a failed run waits, after the last message from a member, for
 * the other actors' last log records (they answer `stop` after them).
 */
const STOP_GRACE_MS = 250;

/**
 * The most a failed run waits for members that keep talking (a flood of log
 * records still arriving) to answer `stop`; a silent one is cut after
 * `STOP_GRACE_MS`.
 */
const STOP_LIMIT_MS = 30_000;

/** Calls `onSilent` once the members fell silent, or the limit passed. */
export class SilenceWatch {
  readonly #onSilent: () => void;
  #lastHeard = 0;
  #started = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(onSilent: () => void) {
    this.#onSilent = onSilent;
  }

  /** A member spoke. */
  heard(): void {
    this.#lastHeard = performance.now();
  }

  /** Starts watching (again, from now). */
  start(): void {
    this.cancel();
    this.#started = this.#lastHeard = performance.now();
    this.#wait(STOP_GRACE_MS);
  }

  /** Stops watching; `onSilent` will not be called. */
  cancel(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #wait(ms: number): void {
    this.#timer = setTimeout(() => {
      const now = performance.now();
      const quiet = now - this.#lastHeard;
      const left = this.#started + STOP_LIMIT_MS - now;
      if (quiet >= STOP_GRACE_MS || left <= 0) this.#onSilent();
      else this.#wait(Math.min(STOP_GRACE_MS - quiet, left));
    }, ms);
  }
}
