/**
 * Ordered results (`relay.results({ ordered: true })`), the parts both
 * threads share: how a numbered message travels, and the window cell that
 * holds the origin (the first group's one sender) back while it is too far
 * ahead of the oldest message the main thread has not yet yielded.
 *
 * The origin numbers what it sends, 0, 1, 2, …; every later stage sends, for
 * each message it handled, either one message under the same number or a
 * "nothing for #n" marker; the main thread puts them back in order
 * (`host/reorder.ts`). The reorder buffer never holds an edge's credits:
 * the bound is kept at the origin instead, which may number message `n` only
 * once `n` is less than `window` ahead of the oldest message not yet
 * yielded (or dropped). So the buffer holds fewer than `window` messages, and
 * since the main thread always takes what arrives, every edge keeps
 * draining: the message the origin waits for always gets through.
 *
 * @module
 */

/** A message of an ordered run on a wire: its number and the message. */
export type Numbered = readonly [n: number, value: unknown];

/**
 * What travels on the wires of an ordered run: a numbered message, or a
 * bare number, the marker "nothing for #n" a stage sends for a message it
 * sent nothing for (a filter), which later stages pass on without calling
 * `recv()`.
 */
export type Envelope = Numbered | number;

/** Whether `envelope` is the marker "nothing for #n". */
export function isNothing(envelope: Envelope): envelope is number {
  return typeof envelope === "number";
}

// The cell: Int32 slots the threads wait and wake on, then Float64 counters
// only the origin writes and only the main thread reads (metrics).
/** Messages released (yielded or dropped) in order, modulo 2^32. */
const RELEASED = 0;
/** 1 while the origin waits on `RELEASED`: the main thread then wakes it. */
const WAITING = 1;
/** 1 once the run is over: a waiting origin gives up. */
const CLOSED = 2;
/** Float64 slots, after the four Int32 ones. */
const NUMBERED = 2;
const WAITS = 3;
const WAITED_MS = 4;
const BYTES = 5 * Float64Array.BYTES_PER_ELEMENT;

/**
 * How far message `n` is ahead of the oldest not yet released, from the
 * cell's `RELEASED` slot (which holds that oldest number modulo 2^32):
 * exact while the true distance is below 2^31, which the window keeps.
 */
export function aheadOf(n: number, released: number): number {
  return (n - released) | 0;
}

/** How an ordered run's origin is told its window. */
export interface OriginSpec {
  /** The window cell (see {@linkcode createWindowCell}). */
  readonly cell: SharedArrayBuffer;
  /** Most messages the origin may be ahead of the oldest not yet yielded. */
  readonly window: number;
}

/** Makes a window cell: nothing released, nothing numbered. */
export function createWindowCell(): SharedArrayBuffer {
  return new SharedArrayBuffer(BYTES);
}

/** What the origin counted, for metrics. */
export interface OriginCounts {
  /** Messages the origin sent (let through the window). */
  readonly numbered: number;
  /** Times it waited because it was a whole window ahead. */
  readonly waits: number;
  /** Time it spent waiting so, in ms. */
  readonly waitedMs: number;
}

/** The main thread's side of a window cell: it releases, and reads counts. */
export class WindowRelease {
  readonly #slots: Int32Array;
  readonly #counts: Float64Array;

  constructor(cell: SharedArrayBuffer) {
    this.#slots = new Int32Array(cell);
    this.#counts = new Float64Array(cell);
  }

  /** Says that every message before `next` was yielded or dropped. */
  release(next: number): void {
    Atomics.store(this.#slots, RELEASED, next | 0);
    if (Atomics.load(this.#slots, WAITING) !== 0) {
      Atomics.notify(this.#slots, RELEASED);
    }
  }

  /** Ends the run's window: an origin waiting on it gives up. */
  close(): void {
    Atomics.store(this.#slots, CLOSED, 1);
    Atomics.notify(this.#slots, RELEASED);
  }

  /** What the origin counted so far. */
  counts(): OriginCounts {
    return {
      numbered: this.#counts[NUMBERED],
      waits: this.#counts[WAITS],
      waitedMs: this.#counts[WAITED_MS],
    };
  }
}

/** A send function, as the origin's runtime or the input feed has one. */
export type Send<O> = (message: unknown, options?: O) => Promise<void>;

interface Pending<O> {
  readonly envelope: Numbered;
  readonly options: O | undefined;
  readonly resolve: () => void;
  readonly reject: (reason: unknown) => void;
}

/**
 * The origin's `send()` in an ordered run: numbers each message in call
 * order and passes it to `send` as `[n, message]`, at once while the window
 * has room, else once the main thread released enough (sends made
 * meanwhile queue behind, in call order, as an outlet's do). Nothing is
 * read from shared memory while the window is known to have room.
 */
export class OriginGate<O> {
  readonly #send: Send<O>;
  readonly #window: number;
  readonly #slots: Int32Array;
  readonly #counts: Float64Array;
  readonly #queue: Pending<O>[] = [];
  #numbered = 0;
  /** Messages let through the window so far. */
  #passed = 0;
  /** Messages below this number may go without looking at the cell. */
  #open: number;

  constructor(spec: OriginSpec, send: Send<O>) {
    this.#send = send;
    this.#window = spec.window;
    this.#slots = new Int32Array(spec.cell);
    this.#counts = new Float64Array(spec.cell);
    this.#open = spec.window;
  }

  /** Numbers `message` and sends it within the window. */
  readonly send = (message: unknown, options?: O): Promise<void> => {
    const n = this.#numbered++;
    const envelope: Numbered = [n, message];
    if (this.#queue.length === 0 && (n < this.#open || this.#fits(n))) {
      this.#counts[NUMBERED] = ++this.#passed;
      return this.#send(envelope, options);
    }
    return new Promise((resolve, reject) => {
      this.#queue.push({ envelope, options, resolve, reject });
      if (this.#queue.length === 1) this.#drain();
    });
  };

  /** Whether message `n` is inside the window now; moves `#open` on. */
  #fits(n: number): boolean {
    const ahead = aheadOf(n, Atomics.load(this.#slots, RELEASED));
    if (ahead >= this.#window) return false;
    this.#open = n - ahead + this.#window;
    return true;
  }

  async #drain(): Promise<void> {
    const queue = this.#queue;
    while (queue.length > 0) {
      const next = queue[0];
      const n = next.envelope[0];
      if (!this.#fits(n)) {
        if (Atomics.load(this.#slots, CLOSED) !== 0) {
          const error = new DOMException("The relay settled", "AbortError");
          for (const p of queue.splice(0)) p.reject(error);
          return;
        }
        await this.#wait(n);
        continue;
      }
      queue.shift();
      this.#counts[NUMBERED] = ++this.#passed;
      this.#send(next.envelope, next.options).then(next.resolve, next.reject);
    }
  }

  /** Waits until the main thread released something, or closed the cell. */
  async #wait(n: number): Promise<void> {
    const slots = this.#slots;
    Atomics.store(slots, WAITING, 1);
    // Read after raising the flag: a release in between is either seen
    // here or, seeing the flag, wakes the wait.
    const released = Atomics.load(slots, RELEASED);
    if (
      aheadOf(n, released) < this.#window ||
      Atomics.load(slots, CLOSED) !== 0
    ) {
      Atomics.store(slots, WAITING, 0);
      return;
    }
    this.#counts[WAITS]++;
    const started = performance.now();
    const result = Atomics.waitAsync(slots, RELEASED, released);
    if (result.async) await result.value;
    this.#counts[WAITED_MS] += performance.now() - started;
    Atomics.store(slots, WAITING, 0);
  }
}
