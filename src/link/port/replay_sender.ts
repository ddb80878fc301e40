/**
 * A sender's side of a restartable edge of the port transport (see
 * `replay.ts`): wires that keep what they posted until it was handled and
 * post it again to a restarted receiver, and credits counted in shared
 * memory while held.
 *
 * @module
 */

import { grabSize, type Outlet } from "../outlet.ts";
import {
  PILL,
  type SenderCredit,
  type Wire,
  type WireItem,
} from "../transport.ts";
import { SharedSenderCredit } from "./credit.ts";
import { fenced, ReplayLayout, type ReplayPortEnd } from "./replay_cells.ts";

/** A sender's wire that keeps what it posted until the receiver handled it. */
export class ReplaySendWire implements Wire {
  #port: MessagePort;
  readonly #cells: Int32Array;
  readonly #postedAt: number;
  readonly #heldAt: number;
  readonly #logHeldAt: number;
  readonly #handledAt: number;
  readonly #relinkedAt: number;
  readonly #watchersAt: number;
  readonly #fenced: () => boolean;
  /** Posted batches not known to be handled, oldest first. */
  readonly #log: { start: number; batch: readonly unknown[] }[] = [];
  #posted: number;
  #pilled = false;

  constructor(
    port: MessagePort,
    cells: Int32Array,
    at: {
      posted: number;
      handled: number;
      relinked: number;
      held: number;
      logHeld: number;
      watchers: number;
    },
    isFenced: () => boolean,
  ) {
    this.#port = port;
    this.#cells = cells;
    this.#postedAt = at.posted;
    this.#heldAt = at.held;
    this.#logHeldAt = at.logHeld;
    this.#watchersAt = at.watchers;
    this.#handledAt = at.handled;
    this.#relinkedAt = at.relinked;
    this.#fenced = isFenced;
    // A new incarnation numbers on from what the old one posted.
    this.#posted = Atomics.load(cells, at.posted);
  }

  /** Messages posted on this wire, by every incarnation. */
  get posted(): number {
    return this.#posted;
  }

  /** Messages this incarnation posted on this wire (replays aside). */
  postedHere = 0;

  /** Messages of this wire its receiver handled. */
  get handled(): number {
    return Atomics.load(this.#cells, this.#handledAt);
  }

  /**
   * Resolves once the receiver counted more than `seen` handled, or after
   * `ms` (a wait must not outlive a run).
   */
  whenHandled(seen: number, ms: number): Promise<unknown> {
    const cells = this.#cells;
    // Counted first: the receiver, which adds to HANDLED and then reads
    // this, either notifies or changed HANDLED before the wait began.
    Atomics.add(cells, this.#watchersAt, 1);
    const wait = Atomics.waitAsync(cells, this.#handledAt, seen, ms);
    if (!wait.async) {
      Atomics.sub(cells, this.#watchersAt, 1);
      return Promise.resolve();
    }
    return wait.value.then(() => Atomics.sub(cells, this.#watchersAt, 1));
  }

  post(item: WireItem, _transfer: Transferable[]): void {
    if (this.#fenced()) throw fenced();
    if (item === PILL) {
      this.#pilled = true;
      this.#port.postMessage(PILL);
      return;
    }
    this.#trim(Atomics.load(this.#cells, this.#handledAt));
    // No longer held once posted: counted off first, so that a worker
    // killed from outside between the two steps returns too few credits,
    // never more than the edge has (the receiver gives these back).
    // Its log credits go with the batch: the receiver gives them back.
    Atomics.sub(this.#cells, this.#heldAt, item.length);
    Atomics.sub(this.#cells, this.#logHeldAt, item.length);
    try {
      // Copied, not transferred: the batch is kept to be posted again.
      this.#port.postMessage(item, []);
    } catch (error) {
      Atomics.add(this.#cells, this.#heldAt, item.length);
      Atomics.add(this.#cells, this.#logHeldAt, item.length);
      throw error;
    }
    this.#log.push({ start: this.#posted, batch: item });
    this.#posted += item.length;
    this.postedHere += item.length;
    Atomics.store(this.#cells, this.#postedAt, this.#posted);
  }

  listen(): void {
    throw new TypeError("A sender's wire does not listen");
  }

  close(): void {
    this.#port.close();
  }

  /**
   * The receiver restarted: posts on `port` (to its new incarnation, `epoch`)
   * every message it had not handled, in order, then the pill if it was
   * sent; later posts go there too.
   */
  relink(port: MessagePort, epoch: number): void {
    this.#port.close();
    this.#port = port;
    if (this.#fenced()) return;
    const handled = Atomics.load(this.#cells, this.#handledAt);
    this.#trim(handled);
    for (const { start, batch } of this.#log) {
      port.postMessage(start >= handled ? batch : batch.slice(handled - start));
    }
    if (this.#pilled) port.postMessage(PILL);
    Atomics.store(this.#cells, this.#relinkedAt, epoch);
  }

  #trim(handled: number): void {
    const log = this.#log;
    let k = 0;
    while (k < log.length && log[k].start + log[k].batch.length <= handled) k++;
    if (k > 0) log.splice(0, k);
  }
}

/**
 * The replay log credits of an edge, in its replay cells: one per message a
 * sender keeps for replay, taken with the message's window credit, given
 * back by the receiver once it counts the message handled. They bound what
 * the senders keep (`replay.ts`), where the window credits, given back at
 * take time, bound what is queued.
 */
export class LogCredit {
  readonly #cells: Int32Array;
  readonly #at: number;
  readonly #waitersAt: number;
  readonly #grab: number;
  /** Taken and not used yet. */
  reserve = 0;

  constructor(cells: Int32Array, layout: ReplayLayout, grab: number) {
    this.#cells = cells;
    this.#at = layout.log();
    this.#waitersAt = layout.logWaiters();
    this.#grab = Math.max(1, grab);
  }

  /** Takes up to a grab into the reserve; how many (0: none left). */
  grab(): number {
    const cells = this.#cells;
    let available = Atomics.load(cells, this.#at);
    while (available > 0) {
      const n = available < this.#grab ? available : this.#grab;
      const seen = Atomics.compareExchange(
        cells,
        this.#at,
        available,
        available - n,
      );
      if (seen === available) {
        this.reserve = n;
        return n;
      }
      available = seen;
    }
    return 0;
  }

  /** Returns the reserve to the edge. */
  giveBack(): void {
    if (this.reserve > 0) {
      releaseLog(this.#cells, this.#at, this.#waitersAt, this.reserve);
      this.reserve = 0;
    }
  }

  /** Resolves once some came back (or at once if some are there). */
  wait(): Promise<void> {
    const cells = this.#cells;
    Atomics.add(cells, this.#waitersAt, 1);
    const result = Atomics.waitAsync(cells, this.#at, 0);
    if (!result.async) {
      Atomics.sub(cells, this.#waitersAt, 1);
      return Promise.resolve();
    }
    return result.value.then(() => {
      Atomics.sub(cells, this.#waitersAt, 1);
    });
  }

  /** Wakes every sender waiting for them (used when tearing down). */
  wakeAll(): void {
    Atomics.notify(this.#cells, this.#at);
  }
}

/** Gives `n` replay log credits back to the edge and wakes its waiters. */
export function releaseLog(
  cells: Int32Array,
  at: number,
  waitersAt: number,
  n: number,
): void {
  Atomics.add(cells, at, n);
  if (Atomics.load(cells, waitersAt) > 0) Atomics.notify(cells, at);
}

/**
 * A sender's credits on a restartable edge: per message a window credit
 * (the usual shared credits, given back by the receiver when it takes the
 * message) and a replay log credit (given back once the message counts as
 * handled). What the sender holds of each (taken and not posted: its
 * reserves and its unposted batches) is counted in shared memory, once per
 * grab and once per post, so that the run can return it if the sender dies.
 */
export class ReplaySenderCredit implements SenderCredit {
  readonly #inner: SharedSenderCredit;
  readonly #log: LogCredit;
  readonly #cells: Int32Array;
  readonly #heldAt: number;
  readonly #logHeldAt: number;
  readonly #fenced: () => boolean;
  /** What the last take() that failed ran out of. */
  #short: "window" | "log" = "window";

  constructor(
    credit: SharedArrayBuffer,
    grab: number,
    cells: Int32Array,
    layout: ReplayLayout,
    index: number,
    isFenced: () => boolean,
  ) {
    this.#inner = new SharedSenderCredit(credit, grab);
    this.#log = new LogCredit(cells, layout, grab);
    this.#cells = cells;
    this.#heldAt = layout.held(index);
    this.#logHeldAt = layout.logHeld(index);
    this.#fenced = isFenced;
  }

  take(): boolean {
    const inner = this.#inner;
    const log = this.#log;
    if (inner.reserve > 0 && log.reserve > 0) {
      log.reserve--;
      return inner.take();
    }
    if (this.#fenced()) return false;
    if (log.reserve === 0) {
      const n = log.grab();
      if (n === 0) {
        this.#short = "log";
        return false;
      }
      Atomics.add(this.#cells, this.#logHeldAt, n);
    }
    if (inner.reserve === 0) {
      if (!inner.take()) {
        this.#short = "window";
        return false;
      }
      // A grab: the one taken and the rest of the reserve.
      Atomics.add(this.#cells, this.#heldAt, inner.reserve + 1);
    } else inner.take();
    log.reserve--;
    return true;
  }
  giveBack(): void {
    // A fenced sender's reserves went back with its restart: not twice.
    if (this.#fenced()) return;
    const reserve = this.#inner.reserve;
    if (reserve > 0) {
      // Counted off first, as in a post (see ReplaySendWire.post()).
      Atomics.sub(this.#cells, this.#heldAt, reserve);
      this.#inner.giveBack();
    }
    const logged = this.#log.reserve;
    if (logged > 0) {
      Atomics.sub(this.#cells, this.#logHeldAt, logged);
      this.#log.giveBack();
    }
  }
  /** The wire counted the posted messages off what is held. */
  queued(index: number, n: number): void {
    this.#inner.queued(index, n);
  }
  queueLength(index: number): number {
    return this.#inner.queueLength(index);
  }
  wait(): Promise<void> {
    // A fenced sender never gets credit again: it must not spin on take().
    if (this.#fenced()) return new Promise(() => {});
    return this.#short === "log" ? this.#log.wait() : this.#inner.wait();
  }
  wakeAll(): void {
    this.#inner.wakeAll();
    this.#log.wakeAll();
  }
}

/** The wires of every replaying outlet, to relink them. */
const SEND_WIRES = new WeakMap<Outlet, ReplaySendWire[]>();

/** The replaying wires of `outlet`, by receiver; none for a plain outlet. */
export function sendWiresOf(outlet: Outlet): ReplaySendWire[] | undefined {
  return SEND_WIRES.get(outlet);
}

/** Opens a sender's end of a restartable edge. */
export function openReplaySender(
  end: ReplayPortEnd,
  make: (wires: Wire[], credit: SenderCredit) => Outlet,
): Outlet {
  const layout = new ReplayLayout(end.senders, end.receivers);
  const cells = new Int32Array(end.replay.cells);
  const epochAt = layout.epochS(end.index);
  const epoch = end.replay.epoch;
  const isFenced = () => Atomics.load(cells, epochAt) !== epoch;
  const s = end.index;
  const wires = end.ports.map((port, r) =>
    new ReplaySendWire(port, cells, {
      posted: layout.posted(s, r),
      handled: layout.handled(s, r),
      relinked: layout.relinked(s, r),
      held: layout.held(s),
      logHeld: layout.logHeld(s),
      watchers: layout.watchers(r),
    }, isFenced)
  );
  const outlet = make(
    wires,
    new ReplaySenderCredit(
      end.cells,
      grabSize(end.maxsize, end.senders),
      cells,
      layout,
      s,
      isFenced,
    ),
  );
  SEND_WIRES.set(outlet, wires);
  return outlet;
}
