/**
 * The sender's side of an edge. Every sender of a group is linked to every
 * receiver of the next by a wire of the edge's transport (`transport.ts`).
 * An {@linkcode Outlet} takes a credit per message, hands the message to the
 * receiver with the shortest queue (in runs of a few dozen messages once it
 * has been sending for a while), and batches what it queues for a wire into
 * one post: when the batch is full (half the edge's window at most), when
 * credit runs out, or once the sender's task is over. Its pills follow its
 * last message.
 *
 * @module
 */

import { PILL, type SenderCredit, type Wire } from "./transport.ts";

/** Most messages in one post. */
export const BATCH = 1024;

/**
 * Most messages in one post from one of `senders` senders on an edge of
 * `maxsize`: half the sender's share of the window (and at most
 * {@linkcode BATCH}), so that posts overlap inside it: the sender fills the
 * next batch while the receiver drains the last. A batch as big as the
 * window made a link stop-and-wait: post, then idle until the receiver had
 * drained it. A batch being filled holds its credits, so the senders' batches
 * together must leave room for what is posted: two CPU-bound middle stages
 * each filling half the window's worth towards one sink left none, and each
 * waited for the sink's wake-up every batch. (A quarter of the window
 * measured no better at one sender: more posts, more wake-ups, where the
 * workers outnumber the cores.)
 */
export function batchSize(maxsize: number, senders = 1): number {
  return Math.max(
    1,
    Math.min(BATCH, Math.floor(maxsize / (2 * Math.max(1, senders)))),
  );
}

/**
 * How long, in milliseconds, a partial batch may wait while its sender
 * keeps sending (see `#flushDue`): a timer's, so 1–2 ms in Deno.
 */
const LINGER_MS = 1;

/**
 * Below this streak a sender is sparse: its due flush is found by
 * microtasks (see `#check`), not by a message to itself.
 */
const SPARSE = 64;

/** Microtask turns without a send after which a sparse sender is flushed. */
const QUIET = 4;

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

/**
 * Whether what a handler (`recv()`, or a wrap of it) returned is a promise
 * to await: not `undefined`, `null` or {@linkcode RESOLVED}, and thenable.
 * The one test every layer that wraps a handler uses.
 */
export function isPending(result: unknown): result is Promise<unknown> {
  return result !== undefined && result !== RESOLVED && result !== null &&
    typeof (result as Promise<unknown>).then === "function";
}

interface Pending {
  readonly message: unknown;
  readonly transfer: Transferable[] | undefined;
  readonly resolve: () => void;
  readonly reject: (reason: unknown) => void;
}

/** Raised when a batch cannot be posted (most often a `DataCloneError`). */
export type PostFailure = (error: unknown, batch: readonly unknown[]) => void;

/**
 * The inlets of this thread that are running, each telling whether it holds
 * messages not yet handled (see {@linkcode watchBacklog}).
 */
const backlogs: (() => boolean)[] = [];

/**
 * Lets `backlog` tell this thread's outlets that the actor's task is not
 * over while its inlet holds messages: a handler that awaits its sends
 * (and the wrappers of a failure policy around it) leaves several microtask
 * turns between one message's send and the next, which `#check` would take
 * for a sender gone quiet and flush a post per message. Returns how to stop.
 */
export function watchBacklog(backlog: () => boolean): () => void {
  backlogs.push(backlog);
  return () => {
    const at = backlogs.indexOf(backlog);
    if (at >= 0) backlogs.splice(at, 1);
  };
}

function anyBacklog(): boolean {
  for (let i = 0; i < backlogs.length; i++) if (backlogs[i]()) return true;
  return false;
}

/** The outlets of this thread with a flush due, in the order they asked. */
const due: Outlet[] = [];

/**
 * Flushes now every outlet of this thread whose flush is due: an inlet
 * calls it when its queue runs empty, since its actor's task is then over,
 * so a middle stage posts what it sent without waiting for its flush to
 * come round (one message on a private channel, 5–20 µs).
 */
export function flushDue(): void {
  for (let i = 0; i < due.length; i++) due[i].flushIfDue();
  due.length = 0;
}

/** What shapes an outlet's batches. */
export interface OutletOptions {
  /** The edge's bound: it sizes the batches (see {@linkcode batchSize}). */
  readonly maxsize?: number;
  /** The edge's senders, sharing its bound (default 1). */
  readonly senders?: number;
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
  /** The receiver of the current run, and how many more messages it gets. */
  #current = 0;
  #runLeft = 0;
  /** Most messages in a run (see `#pick`). */
  readonly #runCap: number;
  /** Messages sent since the outlet last went quiet (see `#pick`). */
  #streak = 0;
  /** A flush is due once the current task ends. */
  #due = false;
  /** `sent` when the due flush was asked for. */
  #dueSent = 0;
  /**
   * The backstop of a due flush whose sender kept sending. Left to fire
   * when the batch went out earlier (it then flushes what is due, or
   * nothing): clearing and setting a timer per batch cost more than it.
   */
  #linger: ReturnType<typeof setTimeout> | undefined;
  /** In the list of {@linkcode flushDue}. */
  #listed = false;
  /** `sent` at the last look of `#check`, and its looks since a send. */
  #checkSent = 0;
  #quiet = 0;
  /** Where the outlet posts itself its due flush (made on first need). */
  #flusher: MessageChannel | undefined;
  /** Where the next pick starts looking (see `#pick`). */
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
  /**
   * Called at the end of every flush, once everything queued was posted
   * (a replaying receiver counts its handled messages then).
   */
  afterFlush: (() => void) | undefined = undefined;
  #unposted = 0;
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
    const maxsize = options.maxsize ?? 2 * BATCH;
    this.#limit = batchSize(maxsize, options.senders);
    this.#runCap = Math.max(1, Math.floor(maxsize / 4));
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
    for (let i = 0; i < this.#batches.length; i++) {
      if (this.#batches[i].length > 0) this.#post(i);
    }
    this.#runLeft = 0;
    this.#credit.giveBack();
    this.afterFlush?.();
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

  /** Flushes if a flush is due (see {@linkcode flushDue}). */
  flushIfDue(): void {
    this.#listed = false;
    if (this.#due) this.flush();
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

  /** Messages accepted and not yet posted. */
  get unposted(): number {
    return this.#unposted;
  }

  /** Most messages in one post. */
  get batchLimit(): number {
    return this.#limit;
  }

  #put(message: unknown, transfer: Transferable[] | undefined): void {
    this.sent++;
    this.#unposted++;
    this.#streak++;
    let i = this.#current;
    if (this.#runLeft > 0) this.#runLeft--;
    else i = this.#current = this.#pick();
    const batch = this.#batches[i];
    batch.push(message);
    if (transfer !== undefined) this.#transfers[i].push(...transfer);
    const weight = this.#weights[i] += weightOf(message, transfer);
    if (batch.length >= this.#limit || weight >= BATCH_BYTES) {
      this.#post(i);
      this.#runLeft = 0;
    } else if (!this.#due) {
      // A source that sends and then awaits something else must not leave
      // its batch behind: flush once the current task is over.
      this.#due = true;
      if (this.#streak < SPARSE) {
        this.#checkSent = this.sent;
        this.#quiet = 0;
        this.#list();
        queueMicrotask(this.#check);
      } else {
        this.#flushLater();
      }
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
    this.#dueSent = this.sent;
    flusher.port2.postMessage(null);
    this.#list();
  }

  #list(): void {
    if (!this.#listed) {
      this.#listed = true;
      due.push(this);
    }
  }

  /**
   * The due flush of a sparse sender, a microtask that looks again while
   * the sender sends: once it saw {@linkcode QUIET} turns in a row without
   * a send, the sender is awaiting something else (the next message of a
   * source, a timer), so its task is as good as over and the batch goes at
   * once, where the message to itself would take 5–20 µs more. A sender
   * whose streak grows to {@linkcode SPARSE} meanwhile is handed to that
   * message: looking once per microtask turn costs a dense stream too much.
   */
  readonly #check = (): void => {
    if (!this.#due) return;
    if (this.sent !== this.#checkSent) {
      this.#checkSent = this.sent;
      this.#quiet = 0;
      if (this.#streak >= SPARSE) {
        this.#flushLater();
        return;
      }
    } else if (++this.#quiet >= QUIET) {
      // Quiet only between two messages of the inlet's backlog: the next
      // send comes once the handler settles. The message to itself (and its
      // linger timer) decides, or the inlet running dry (`flushDue`).
      if (anyBacklog()) {
        this.#flushLater();
        return;
      }
      this.#streak = 0;
      this.flush();
      return;
    }
    queueMicrotask(this.#check);
  };

  /**
   * The due flush. Deno hands a port's messages to their listeners between
   * the microtasks of a busy task while its ports have a backlog, so the
   * flush "after the task" may come while the sender is still sending (a
   * middle stage working through a batch): flushing then cut its posts to
   * about 20 messages, and asking again each time it came cost a message
   * to itself per few messages sent. So a flush that finds the sender still
   * sending leaves the batch to fill: it is posted when full, when credit
   * runs out, when the thread's inlet runs dry (`flushDue`), or by a timer
   * after {@linkcode LINGER_MS}; a sender that went quiet (one message at a
   * time) is flushed at once.
   */
  #flushDue(): void {
    if (this.sent !== this.#dueSent) {
      if (this.#due && this.#linger === undefined) {
        this.#linger = setTimeout(this.#lingered, LINGER_MS);
      }
      return;
    }
    // Nothing sent since the ask: the sender went quiet, its streak ends.
    this.#streak = 0;
    if (this.#due) this.flush();
  }

  readonly #lingered = (): void => {
    this.#linger = undefined;
    if (this.#due) this.flush();
  };

  /** Closes the private channel: an open port keeps its thread alive. */
  #stopFlusher(): void {
    this.#due = false;
    if (this.#linger !== undefined) {
      clearTimeout(this.#linger);
      this.#linger = undefined;
    }
    const flusher = this.#flusher;
    if (flusher !== undefined) {
      flusher.port1.close();
      flusher.port2.close();
    }
  }

  /**
   * Picks the receiver of the next run: the one with the shortest queue (as
   * its shared counter and this outlet's own unposted batch tell).
   *
   * A run is one message while the sender's streak is short, so a few
   * messages sent at once (ten heavy jobs for two workers) are shared out
   * one by one; it grows with the streak to at most `maxsize / 4`, so
   * that a long stream fills a post per receiver in turn instead of
   * spreading every window over all of them: one message each round a 1024
   * window over 64 receivers made posts of 16 messages, and the pick read
   * every receiver's counter per message. A quarter rather than an eighth
   * (the grain at which receivers give credit back): a window's messages go
   * to 4 receivers at a time instead of 8, in about half the posts (1→16:
   * 887–909 posts per 2e5 messages against 1614–1624), and fan-out
   * 1→16 and 1→64 ran at 0.58 and 0.66 of raw against 0.46–0.49 and 0.52
   * (`bench/README.md`, "Runs of a quarter of the window"); half the window
   * measured no better than a quarter.
   *
   * Ties go in turn while the streak is long, and to the receiver picked
   * last while it is short: one message at a time then keeps going to the
   * same, recently woken, receiver (a thread that slept through the
   * messages that went to its siblings wakes more slowly: 1→2→1 one message
   * at a time measured a p50 of 1.5–2 × raw this way, 3–4 × taking ties in
   * turn). A stream takes them in turn because a receiver that gives its
   * credit back before it handles a message (a give-back chunk of 1, at
   * maxsize below 16) looks idle while busy: sticking to it serialised
   * 1→4→1 at maxsize 1 on one middle stage.
   */
  #pick(): number {
    const n = this.#wires.length;
    if (n === 1) {
      this.#runLeft = Infinity;
      return 0;
    }
    const first = this.#next;
    let best = first;
    let shortest = Infinity;
    for (let k = 0; k < n; k++) {
      let i = first + k;
      if (i >= n) i -= n;
      const length = this.#credit.queueLength(i) + this.#batches[i].length;
      if (length < shortest) {
        best = i;
        shortest = length;
        if (length === 0) break;
      }
    }
    const run = Math.floor(this.#streak / (4 * n));
    this.#next = run < 1 ? best : best + 1 === n ? 0 : best + 1;
    this.#runLeft = run < 1 ? 0 : (run < this.#runCap ? run : this.#runCap) - 1;
    return best;
  }

  #post(i: number): void {
    const batch = this.#batches[i];
    const transfer = this.#transfers[i];
    this.#batches[i] = [];
    this.#weights[i] = 0;
    this.#unposted -= batch.length;
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
