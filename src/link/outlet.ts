/**
 * The sender's side of an edge. Every sender of a group is linked to every
 * receiver of the next by a wire of the edge's transport (`transport.ts`).
 * An {@linkcode Outlet} takes a credit per message and fills one batch at a
 * time, for the receiver with the shortest queue when the batch starts; a
 * batch is posted when full (half the edge's window at most), when credit
 * runs out, or once the sender's task is over. Its pills follow its last
 * message.
 *
 * @module
 */

import { PILL, type SenderCredit, type Wire } from "./transport.ts";

/** Most messages in one post. */
export const BATCH = 1024;

/**
 * Most messages in one post on an edge of `maxsize`: half the window (and at
 * most {@linkcode BATCH}), so that posts overlap inside it: the sender fills
 * the next batch while the receiver drains the last. A batch as big as the
 * window made a link stop-and-wait: post, then idle until the receiver had
 * drained it. (A quarter measured no better: more posts, more wake-ups, where
 * the workers outnumber the cores.)
 */
export function batchSize(maxsize: number): number {
  return Math.max(1, Math.min(BATCH, Math.floor(maxsize / 2)));
}

/**
 * The longest a partial batch waits, in milliseconds, while its sender keeps
 * sending (see `#flushDue`). A sender that goes quiet has its batch posted
 * at once; one that keeps sending has it posted when full or after this
 * long. Longer than a time slice of a busy machine, where a thread
 * descheduled for a moment would otherwise cut its batches short.
 */
const LINGER_MS = 1;

/**
 * How many credits a sender of an edge takes at a time: at most a batch, and
 * little enough that the reserves of all its senders together hold at most
 * half of the edge's bound.
 */
export function grabSize(maxsize: number, senders: number): number {
  return Math.min(BATCH, Math.floor(maxsize / (2 * senders)));
}

/**
 * Estimated bytes after which a batch is posted. A post has a fixed cost
 * (waking the receiver, dispatching an event) worth cloning tens of KB, so
 * small messages are worth batching by the hundred; but a batch is cloned
 * whole before the receiver sees any of it, so big messages go a few at a
 * time and the receiver works on one batch while the sender clones the next.
 */
const BATCH_BYTES = 64 * 1024;

/** The estimate for an object whose size is unknown (and for transfers). */
const OBJECT_BYTES = 1024;

/** A cheap estimate, in bytes, of what cloning a message costs. */
function weightOf(
  message: unknown,
  transfer: Transferable[] | undefined,
): number {
  if (typeof message !== "object" || message === null) {
    return typeof message === "string" ? 16 + message.length : 16;
  }
  // A transferred buffer moves without a copy.
  if (transfer !== undefined) return OBJECT_BYTES;
  if (ArrayBuffer.isView(message) || message instanceof ArrayBuffer) {
    return message.byteLength;
  }
  return OBJECT_BYTES;
}

/** What `send()` returns when the edge had room: the inlet need not await it. */
export const RESOLVED: Promise<void> = Promise.resolve();

interface Pending {
  readonly message: unknown;
  readonly transfer: Transferable[] | undefined;
  readonly resolve: () => void;
  readonly reject: (reason: unknown) => void;
}

/** Raised when a batch cannot be posted (most often a `DataCloneError`). */
export type PostFailure = (error: unknown, batch: readonly unknown[]) => void;

/** What shapes an outlet's batches. */
export interface OutletOptions {
  /** The edge's bound: it sizes the batches (see {@linkcode batchSize}). */
  readonly maxsize?: number;
}

/** A sender's side of an edge. */
export class Outlet {
  readonly #wires: Wire[];
  readonly #credit: SenderCredit;
  readonly #onFailure: PostFailure;
  readonly #batches: unknown[][];
  readonly #transfers: Transferable[][];
  readonly #weights: number[];
  /** Most messages in one post. */
  readonly #limit: number;
  readonly #waiting: Pending[] = [];
  /**
   * The receiver the current batch goes to, or -1: a batch is filled for
   * one receiver, picked when it starts, and the next is picked once it is
   * posted. Only the current batch is ever partly filled.
   */
  #current = -1;
  /** A flush is due once the current task ends. */
  #due = false;
  /** When the due flush was asked for, and `sent` at its last post. */
  #dueSince = 0;
  #dueSent = 0;
  /** Where the outlet posts itself its due flush (made on first need). */
  #flusher: MessageChannel | undefined;
  #next = 0;
  #closed = false;
  /**
   * Set by close(), settled when the pills are posted (or never will be:
   * aborted). Set while not yet closed: sends are waiting, the pills go
   * after them.
   */
  #pills: PromiseWithResolvers<void> | undefined;
  #failure: unknown = undefined;
  /** Messages accepted so far. */
  sent = 0;
  /** Milliseconds spent waiting for credit. */
  waitedMs = 0;

  constructor(
    wires: Wire[],
    credit: SenderCredit,
    onFailure: PostFailure,
    options: OutletOptions = {},
  ) {
    this.#wires = wires;
    this.#credit = credit;
    this.#onFailure = onFailure;
    this.#limit = options.maxsize === undefined
      ? BATCH
      : batchSize(options.maxsize);
    this.#batches = wires.map(() => []);
    this.#transfers = wires.map(() => []);
    this.#weights = wires.map(() => 0);
  }

  /**
   * Queues a message; the promise resolves once the edge had room for it.
   * Messages queue in call order, whether or not each send is awaited. A
   * message is cloned when its batch is posted (at the latest when the
   * current task ends), not by this call: the caller must not change it
   * afterwards, and the same object sent twice in one batch arrives as one.
   */
  send(message: unknown, transfer?: Transferable[]): Promise<void> {
    if (this.#closed || this.#pills !== undefined) {
      return Promise.reject(
        this.#failure ??
          new Error("Cannot send: the actor already sent its poison pills"),
      );
    }
    if (this.#waiting.length === 0 && this.#credit.take()) {
      this.#put(message, transfer);
      return RESOLVED;
    }
    return new Promise((resolve, reject) => {
      this.#waiting.push({ message, transfer, resolve, reject });
      if (this.#waiting.length === 1) this.#drain();
    });
  }

  /** Posts every queued batch now and returns spare credits. */
  flush(): void {
    this.#due = false;
    const i = this.#current;
    if (i >= 0 && this.#batches[i].length > 0) this.#post(i);
    this.#current = -1;
    this.#credit.giveBack();
  }

  /**
   * Flushes, then sends a poison pill on every wire: at once, or, if sends
   * are still waiting for credit, right after the last of them went out.
   * Resolves once the pills are posted; rejects if the outlet is aborted
   * first. Calling it again returns the same promise.
   */
  close(): Promise<void> {
    if (this.#pills !== undefined) return this.#pills.promise;
    const pills = this.#pills = Promise.withResolvers<void>();
    if (this.#closed) {
      pills.reject(
        this.#failure ?? new Error("Cannot close: the outlet is closed"),
      );
    } else if (this.#waiting.length === 0) {
      this.#seal();
    }
    return pills.promise;
  }

  #seal(): void {
    this.flush();
    this.#closed = true;
    this.#stopFlusher();
    for (const wire of this.#wires) wire.post(PILL, []);
    this.#pills?.resolve();
  }

  /** Closes every wire at once, pills or not (the actor is gone). */
  closeWires(): void {
    for (const wire of this.#wires) wire.close();
  }

  /** Rejects every waiting send and a pending close(), refuses new ones. */
  abort(reason: unknown): void {
    this.#closed = true;
    this.#failure = reason;
    this.#stopFlusher();
    for (const pending of this.#waiting.splice(0)) pending.reject(reason);
    // No effect once the pills went out.
    this.#pills?.reject(reason);
  }

  /** Sends still waiting for credit. */
  get waiting(): number {
    return this.#waiting.length;
  }

  #put(message: unknown, transfer: Transferable[] | undefined): void {
    this.sent++;
    let i = this.#current;
    if (i < 0) i = this.#current = this.#pick();
    const batch = this.#batches[i];
    batch.push(message);
    if (transfer !== undefined) this.#transfers[i].push(...transfer);
    const weight = this.#weights[i] += weightOf(message, transfer);
    if (batch.length >= this.#limit || weight >= BATCH_BYTES) {
      this.#post(i);
      this.#current = -1;
    } else if (!this.#due) {
      // A source that sends and then awaits something else must not leave
      // its batch behind: flush once the current task is over.
      this.#due = true;
      this.#flushLater();
    }
  }

  /**
   * Flushes in a task of its own, as soon as the current one ends: a
   * message to itself on a private channel arrives after every send of the
   * current task (so they share a batch) and about 5 µs later, where a 0 ms
   * timer fires 1–2 ms later. A flush done in between makes it a no-op.
   */
  #flushLater(): void {
    let flusher = this.#flusher;
    if (flusher === undefined) {
      flusher = this.#flusher = new MessageChannel();
      flusher.port1.onmessage = () => this.#flushDue();
    }
    this.#dueSince = performance.now();
    this.#dueSent = this.sent;
    flusher.port2.postMessage(null);
  }

  /**
   * The due flush. Deno hands a port's messages to their listeners between
   * the microtasks of a busy task while its ports have a backlog, so the
   * flush "after the task" may come while the sender is still sending (a
   * middle stage working through a batch): flushing then cut its posts to
   * a few dozen messages. While the sender sent since the last ask, the
   * flush asks again instead, for at most {@linkcode LINGER_MS}; a sender
   * that went quiet (one message at a time) is flushed at once.
   */
  #flushDue(): void {
    if (!this.#due) return;
    if (
      this.sent !== this.#dueSent &&
      performance.now() - this.#dueSince < LINGER_MS
    ) {
      this.#dueSent = this.sent;
      this.#flusher!.port2.postMessage(null);
      return;
    }
    this.flush();
  }

  /** Closes the private channel: an open port keeps its thread alive. */
  #stopFlusher(): void {
    this.#due = false;
    const flusher = this.#flusher;
    if (flusher !== undefined) {
      flusher.port1.close();
      flusher.port2.close();
    }
  }

  /** The receiver with the shortest queue, ties taken in turn. */
  #pick(): number {
    const n = this.#wires.length;
    if (n === 1) return 0;
    let best = this.#next;
    let shortest = Infinity;
    for (let k = 0; k < n; k++) {
      let i = this.#next + k;
      if (i >= n) i -= n;
      const length = this.#credit.queueLength(i);
      if (length < shortest) {
        best = i;
        shortest = length;
        if (length === 0) break;
      }
    }
    this.#next = best + 1 === n ? 0 : best + 1;
    return best;
  }

  #post(i: number): void {
    const batch = this.#batches[i];
    const transfer = this.#transfers[i];
    this.#batches[i] = [];
    this.#weights[i] = 0;
    if (transfer.length > 0) this.#transfers[i] = [];
    try {
      this.#wires[i].post(batch, transfer);
    } catch (error) {
      this.abort(error);
      this.#onFailure(error, batch);
      return;
    }
    this.#credit.queued(i, batch.length);
  }

  async #drain(): Promise<void> {
    const waiting = this.#waiting;
    while (waiting.length > 0 && !this.#closed) {
      if (this.#credit.take()) {
        const pending = waiting.shift()!;
        this.#put(pending.message, pending.transfer);
        pending.resolve();
        continue;
      }
      // Receivers can only give credit back for what they were sent.
      this.flush();
      const started = performance.now();
      await this.#credit.wait();
      this.waitedMs += performance.now() - started;
    }
    if (this.#pills !== undefined && !this.#closed) this.#seal();
  }
}
