/**
 * Credit-based flow control for one edge, in shared memory.
 *
 * An edge (every sender of one group to every receiver of the next) owns one
 * small `SharedArrayBuffer`. Its first cell counts the credits left: a sender
 * takes one per message, a receiver gives it back when it takes the message
 * off its queue to handle it. So at most `maxsize` messages are in flight on
 * the edge, however many links it has, and no credit message ever crosses a
 * port. The other cells count, per receiver, the messages queued for it, so a
 * sender can hand each message to the receiver with the shortest queue.
 *
 * @module
 */

import type { ReceiverCredit, SenderCredit } from "../transport.ts";

// Each counter has a cache line of its own: the sender's compare-exchange on
// AVAILABLE and each receiver's writes to its QUEUED cell would otherwise
// bounce one line between cores on every batch.
const STRIDE = 16; // Int32 cells per 64-byte cache line
const AVAILABLE = 0;
const WAITERS = STRIDE;
const QUEUED = 2 * STRIDE;

/** Creates the shared cells of an edge with `receivers` receivers. */
export function createCells(
  maxsize: number,
  receivers: number,
): SharedArrayBuffer {
  const buffer = new SharedArrayBuffer(
    (QUEUED + receivers * STRIDE) * Int32Array.BYTES_PER_ELEMENT,
  );
  Atomics.store(new Int32Array(buffer), AVAILABLE, maxsize);
  return buffer;
}

/** Reads the counters of an edge, for metrics and for the watchdog. */
export function readCells(
  buffer: SharedArrayBuffer,
): { available: number; waiters: number; queued: number[] } {
  const cells = new Int32Array(buffer);
  const queued: number[] = [];
  for (let i = QUEUED; i < cells.length; i += STRIDE) {
    queued.push(Atomics.load(cells, i));
  }
  return {
    available: Atomics.load(cells, AVAILABLE),
    waiters: Atomics.load(cells, WAITERS),
    queued,
  };
}

/**
 * A sender's view of an edge's credits. It takes credits a few at a time and
 * keeps the spare ones in a local reserve, so that the shared counter is
 * touched once per batch, not once per message; `giveBack()` returns the
 * reserve when the sender flushes, so no credit idles in a sender.
 */
export class SharedSenderCredit implements SenderCredit {
  readonly #cells: Int32Array;
  readonly #grab: number;
  #reserve = 0;

  constructor(buffer: SharedArrayBuffer, grab: number) {
    this.#cells = new Int32Array(buffer);
    this.#grab = Math.max(1, grab);
  }

  /** Takes one credit if there is one; never waits. */
  take(): boolean {
    if (this.#reserve > 0) {
      this.#reserve--;
      return true;
    }
    return this.grab();
  }

  /**
   * Takes a grab of credits from the edge, one of them for the message at
   * hand and the rest into the reserve, if the edge has any.
   */
  protected grab(): boolean {
    const cells = this.#cells;
    let available = Atomics.load(cells, AVAILABLE);
    while (available > 0) {
      const n = available < this.#grab ? available : this.#grab;
      const seen = Atomics.compareExchange(
        cells,
        AVAILABLE,
        available,
        available - n,
      );
      if (seen === available) {
        this.#reserve = n - 1;
        return true;
      }
      available = seen;
    }
    return false;
  }

  /** Credits taken and not used yet (a restartable edge counts them). */
  get reserve(): number {
    return this.#reserve;
  }

  /** Returns the unused reserve to the edge. */
  giveBack(): void {
    if (this.#reserve > 0) {
      release(this.#cells, this.#reserve);
      this.#reserve = 0;
    }
  }

  /** Records that `n` messages were posted to receiver `index`. */
  queued(index: number, n: number): void {
    Atomics.add(this.#cells, QUEUED + index * STRIDE, n);
  }

  /** Messages posted to receiver `index` and not yet taken by it. */
  queueLength(index: number): number {
    return Atomics.load(this.#cells, QUEUED + index * STRIDE);
  }

  /**
   * Resolves once a receiver has given credits back (or at once if some are
   * there already). Call `take()` again after it: another sender may win.
   */
  wait(): Promise<void> {
    const cells = this.#cells;
    Atomics.add(cells, WAITERS, 1);
    const result = Atomics.waitAsync(cells, AVAILABLE, 0);
    if (!result.async) {
      Atomics.sub(cells, WAITERS, 1);
      return Promise.resolve();
    }
    return result.value.then(() => {
      Atomics.sub(cells, WAITERS, 1);
    });
  }

  /** Wakes every sender waiting on this edge (used when tearing down). */
  wakeAll(): void {
    Atomics.notify(this.#cells, AVAILABLE);
  }
}

/** Wakes every sender waiting on the edge of `buffer`. */
export function wakeSenders(buffer: SharedArrayBuffer): void {
  Atomics.notify(new Int32Array(buffer), AVAILABLE);
}

/**
 * How many of an edge's credits must be free before a plain inlet wakes its
 * waiting senders ({@linkcode SharedReceiverCredit}): half the window, so that a
 * sender woken has a batch's worth to send. Measured against a quarter and
 * three quarters in `bench/README.md`.
 */
export function wakeAt(maxsize: number): number {
  return Math.max(1, Math.floor(maxsize / 2));
}

/** Reads of the queue counter between two looks at the clock in `spin()`. */
const SPIN_READS = 64;

/**
 * A receiver's view of an edge's credits. It counts the messages it takes off
 * its queue and gives their credits back in chunks.
 *
 * With `wakeAt`, it wakes the senders waiting for credit only once that many
 * credits of the edge are free, or once it has given back that many since it
 * last woke them (so that a sender woken late is still woken), or when its
 * queue ran dry with nothing on its way to it: a sender woken at every chunk
 * took that chunk, posted it and slept again, a wake-up (a system call on
 * each side) per chunk where the receiver was the slower side (1→1 of 1 KB
 * objects: 4,019 waits for 4,687 posts; 218 with half the window, and 0.91
 * → 0.96–0.97 of raw, `bench/README.md`, "Waking a sender once half the
 * window is free"). Without it, every give-back wakes them.
 */
export class SharedReceiverCredit implements ReceiverCredit {
  readonly #cells: Int32Array;
  readonly #queued: number;
  readonly #chunk: number;
  readonly #wakeAt: number;
  #taken = 0;
  /** Credits given back since the waiting senders were last woken. */
  #unwoken = 0;

  /** Messages whose credits go back together. */
  get chunk(): number {
    return this.#chunk;
  }

  constructor(
    buffer: SharedArrayBuffer,
    index: number,
    maxsize: number,
    wakeAt = 1,
  ) {
    this.#cells = new Int32Array(buffer);
    this.#queued = QUEUED + index * STRIDE;
    // Giving back in chunks saves atomics; a chunk of an eighth of the window
    // keeps senders busy.
    this.#chunk = Math.max(1, Math.floor(maxsize / 8));
    this.#wakeAt = Math.max(1, Math.min(wakeAt, maxsize));
  }

  /**
   * Reads this receiver's queue counter until it says a post is on its way
   * (posted, not yet delivered to the inlet) or `ms` passed; whether one
   * is. The clock is read every {@linkcode SPIN_READS} reads.
   */
  spin(ms: number): boolean {
    const cells = this.#cells;
    const at = this.#queued;
    const until = performance.now() + ms;
    for (;;) {
      for (let i = 0; i < SPIN_READS; i++) {
        if (Atomics.load(cells, at) > 0) return true;
      }
      if (performance.now() >= until) return false;
    }
  }

  /** Records that one message was taken off the queue to be handled. */
  took(): void {
    if (++this.#taken >= this.#chunk) this.#give(false);
  }

  /** Gives back the credits of `n` more messages at once, and wakes. */
  give(n: number): void {
    this.#taken += n;
    this.#give(true);
  }

  /**
   * Gives back the credits of every message taken so far: the inlet's queue
   * ran dry. Wakes the waiting senders if nothing more is on its way to
   * this receiver (else it will run dry again once that came).
   */
  flush(): void {
    this.#give(Atomics.load(this.#cells, this.#queued) <= this.#taken);
  }

  #give(wake: boolean): void {
    const cells = this.#cells;
    const n = this.#taken;
    let free: number;
    if (n > 0) {
      this.#taken = 0;
      Atomics.sub(cells, this.#queued, n);
      free = Atomics.add(cells, AVAILABLE, n) + n;
      this.#unwoken += n;
    } else {
      // Ran dry just after a chunk went back: wake for that chunk.
      if (!wake || this.#unwoken === 0) return;
      free = Atomics.load(cells, AVAILABLE);
    }
    if (Atomics.load(cells, WAITERS) === 0) {
      this.#unwoken = 0;
      return;
    }
    if (wake || free >= this.#wakeAt || this.#unwoken >= this.#wakeAt) {
      this.#unwoken = 0;
      Atomics.notify(cells, AVAILABLE);
    }
  }
}

function release(cells: Int32Array, n: number): void {
  Atomics.add(cells, AVAILABLE, n);
  if (Atomics.load(cells, WAITERS) > 0) Atomics.notify(cells, AVAILABLE);
}

/**
 * Returns `n` credits to the edge of `buffer` and wakes its waiting senders:
 * those a sender that is gone held (a restart, `replay.ts`).
 */
export function returnCredits(buffer: SharedArrayBuffer, n: number): void {
  if (n > 0) release(new Int32Array(buffer), n);
}
