/**
 * The board of a benchmark run: a small `SharedArrayBuffer` that every
 * thread of the run (the main thread, baton's actors, raw workers) sees. It
 * holds a start barrier, so that no clock starts before every worker is up,
 * a hold the main thread releases (to read memory while every worker lives),
 * and per-slot timestamps and counts, read by the main thread at the end.
 *
 * Timestamps are `performance.timeOrigin + performance.now()`: milliseconds
 * since the epoch with sub-millisecond precision, comparable across threads.
 *
 * @module
 */

const READY = 0;
const HELD = 1;
const HEADER = 8; // bytes of Int32 cells before the Float64 cells

/** Milliseconds since the epoch, comparable across the threads of a process. */
export function now(): number {
  return performance.timeOrigin + performance.now();
}

/** What a run measured: first start, last end, messages counted. */
export interface Span {
  readonly start: number;
  readonly end: number;
  readonly count: number;
}

/** A view of a run's shared board. */
export class Board {
  readonly buffer: SharedArrayBuffer;
  readonly #cells: Int32Array;
  readonly #times: Float64Array;
  readonly #slots: number;

  /** A new board with `slots` slots, held if `hold` is true. */
  static create(slots: number, hold = false): Board {
    const buffer = new SharedArrayBuffer(HEADER + slots * 3 * 8);
    const board = new Board(buffer);
    if (hold) Atomics.store(board.#cells, HELD, 1);
    return board;
  }

  constructor(buffer: SharedArrayBuffer) {
    this.buffer = buffer;
    this.#cells = new Int32Array(buffer, 0, 2);
    this.#slots = (buffer.byteLength - HEADER) / 24;
    this.#times = new Float64Array(buffer, HEADER, this.#slots * 3);
  }

  /** Counts one more worker as up. */
  arrive(): void {
    Atomics.add(this.#cells, READY, 1);
    Atomics.notify(this.#cells, READY);
  }

  /** Workers up so far. */
  get arrived(): number {
    return Atomics.load(this.#cells, READY);
  }

  /** Resolves once `n` workers are up. */
  async gather(n: number): Promise<void> {
    for (;;) {
      const seen = Atomics.load(this.#cells, READY);
      if (seen >= n) return;
      const result = Atomics.waitAsync(this.#cells, READY, seen);
      if (result.async) await result.value;
    }
  }

  /** Resolves once the main thread released the hold (at once if none). */
  async released(): Promise<void> {
    for (;;) {
      if (Atomics.load(this.#cells, HELD) === 0) return;
      const result = Atomics.waitAsync(this.#cells, HELD, 1);
      if (result.async) await result.value;
    }
  }

  /** Releases the hold. */
  release(): void {
    Atomics.store(this.#cells, HELD, 0);
    Atomics.notify(this.#cells, HELD);
  }

  /** Records that the worker of `slot` started sending. */
  started(slot: number): void {
    this.#times[slot * 3] = now();
  }

  /** Records that the worker of `slot` received its last of `count` messages. */
  ended(slot: number, count: number): void {
    this.#times[slot * 3 + 1] = now();
    this.#times[slot * 3 + 2] = count;
  }

  /** The first start, the last end and the total count over every slot. */
  span(): Span {
    let start = Infinity;
    let end = -Infinity;
    let count = 0;
    for (let s = 0; s < this.#slots; s++) {
      const t0 = this.#times[s * 3];
      const t1 = this.#times[s * 3 + 1];
      if (t0 > 0 && t0 < start) start = t0;
      if (t1 > 0 && t1 > end) end = t1;
      count += this.#times[s * 3 + 2];
    }
    return { start, end, count };
  }
}
