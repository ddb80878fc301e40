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

/**
 * A sender's wire that keeps what it posted until the receiver handled it,
 * when the receiver may restart (`keeps`).
 */
export class ReplaySendWire implements Wire {
  #port: MessagePort;
  readonly #cells: Int32Array;
  readonly #postedAt: number;
  readonly #heldAt: number;
  readonly #handledAt: number;
  readonly #relinkedAt: number;
  readonly #fenced: () => boolean;
  /** Posted batches not known to be handled, oldest first. */
  readonly #log: { start: number; batch: readonly unknown[] }[] = [];
  #posted: number;
  #pilled = false;
  /**
   * Whether the receiver may restart, so that this wire keeps what it
   * posted and the receiver counts what it handled.
   */
  readonly keeps: boolean;

  constructor(
    port: MessagePort,
    cells: Int32Array,
    at: { posted: number; handled: number; relinked: number; held: number },
    isFenced: () => boolean,
    keeps: boolean,
  ) {
    this.keeps = keeps;
    this.#port = port;
    this.#cells = cells;
    this.#postedAt = at.posted;
    this.#heldAt = at.held;
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

  /** Messages of this wire its receiver handled. */
  get handled(): number {
    return Atomics.load(this.#cells, this.#handledAt);
  }

  /**
   * Resolves once the receiver counted more than `seen` handled, or after
   * `ms` (a wait must not outlive a run).
   */
  whenHandled(seen: number, ms: number): Promise<unknown> {
    const wait = Atomics.waitAsync(this.#cells, this.#handledAt, seen, ms);
    return wait.async ? wait.value : Promise.resolve();
  }

  post(item: WireItem, transfer: Transferable[]): void {
    if (this.#fenced()) throw fenced();
    if (item === PILL) {
      this.#pilled = true;
      this.#port.postMessage(PILL);
      return;
    }
    if (this.keeps) this.#trim(Atomics.load(this.#cells, this.#handledAt));
    // No longer held once posted: counted off first, so that a worker
    // killed from outside between the two steps returns too few credits,
    // never more than the edge has (the receiver gives these back).
    Atomics.sub(this.#cells, this.#heldAt, item.length);
    try {
      // A batch kept to be posted again is copied, never transferred.
      if (this.keeps) this.#port.postMessage(item);
      else this.#port.postMessage(item, transfer);
    } catch (error) {
      Atomics.add(this.#cells, this.#heldAt, item.length);
      throw error;
    }
    if (this.keeps) this.#log.push({ start: this.#posted, batch: item });
    this.#posted += item.length;
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
 * A sender's credits on a restartable edge: the usual shared credits, and
 * what the sender holds (taken and not posted: its reserve and its unposted
 * batches) counted in shared memory, once per grab and once per post, so
 * that the run can return it if the sender dies.
 */
export class ReplaySenderCredit extends SharedSenderCredit {
  readonly #cells: Int32Array;
  readonly #heldAt: number;
  readonly #fenced: () => boolean;

  constructor(
    credit: SharedArrayBuffer,
    grab: number,
    cells: Int32Array,
    heldAt: number,
    isFenced: () => boolean,
  ) {
    super(credit, grab);
    this.#cells = cells;
    this.#heldAt = heldAt;
    this.#fenced = isFenced;
  }

  /** A message's credit from the reserve costs no more than on a plain edge. */
  protected override grab(): boolean {
    if (this.#fenced() || !super.grab()) return false;
    // A grab: the one taken and the rest of the reserve.
    Atomics.add(this.#cells, this.#heldAt, this.reserve + 1);
    return true;
  }

  override giveBack(): void {
    const reserve = this.reserve;
    // A fenced sender's reserve went back with its restart: not twice.
    if (reserve === 0 || this.#fenced()) return;
    // Counted off first, as in a post (see ReplaySendWire.post()).
    Atomics.sub(this.#cells, this.#heldAt, reserve);
    super.giveBack();
  }

  override wait(): Promise<void> {
    // A fenced sender never gets credit again: it must not spin on take().
    if (this.#fenced()) return new Promise(() => {});
    return super.wait();
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
    new ReplaySendWire(
      port,
      cells,
      {
        posted: layout.posted(s, r),
        handled: layout.handled(s, r),
        relinked: layout.relinked(s, r),
        held: layout.held(s),
      },
      isFenced,
      end.replay.receiversRestart,
    )
  );
  const outlet = make(
    wires,
    new ReplaySenderCredit(
      end.cells,
      grabSize(end.maxsize, end.senders),
      cells,
      layout.held(s),
      isFenced,
    ),
  );
  SEND_WIRES.set(outlet, wires);
  return outlet;
}
