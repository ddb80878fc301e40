/**
 * A receiver's side of a restartable edge of the port transport (see
 * `replay.ts`): an inlet that knows which link each message came from,
 * counts a message handled (and gives back its credit) only once it is
 * safe to forget it, tells a redelivered message, and listens to a
 * restarted sender's new port.
 *
 * @module
 */

import { Inlet } from "../inlet.ts";
import type { Outlet } from "../outlet.ts";
import {
  PILL,
  type ReceiverCredit,
  type Wire,
  type WireItem,
} from "../transport.ts";
import { SharedReceiverCredit, wakeAt } from "./credit.ts";
import {
  fenced,
  type ReplayEnd,
  ReplayLayout,
  type ReplayPortEnd,
} from "./replay_cells.ts";
import { type ReplaySendWire, sendWiresOf } from "./replay_sender.ts";

/**
 * What a receiver of a restartable edge knows of the messages it handles:
 * which link each came from, which are handled and not yet counted, and
 * whether the one in hand may have been handled before.
 */
class ReceiverReplay {
  readonly #cells: Int32Array;
  readonly #layout: ReplayLayout;
  readonly #index: number;
  readonly #epochAt: number;
  readonly #epoch: number;
  readonly #credit: SharedReceiverCredit;
  readonly #chunk: number;
  /**
   * Handled messages not yet counted after which the outlet is flushed to
   * count them (see `took`).
   */
  #forceAt: number;
  readonly #maxsize: number;
  /** Whether a sender may wait for what this receiver counts. */
  readonly #notify: boolean;
  /** The link of each batch delivered and not yet taken whole, in order. */
  readonly #links: number[] = [];
  readonly #counts: number[] = [];
  #head = 0;
  /**
   * Per link: messages handled since the outlet last posted (their outputs
   * may not have gone out yet).
   */
  readonly #pending: number[];
  #pendingTotal = 0;
  /** Per link: the sequence number of the next message taken from it. */
  readonly #seqs: number[];
  /** Per link: below this, a message was taken by an old incarnation. */
  readonly #touchedBefore: number[];
  /**
   * Handled messages whose outputs were posted, waiting for the receivers
   * downstream to have handled those outputs: each with how far each wire
   * of the outlet had posted then.
   */
  readonly #sealed: { counts: number[]; total: number; marks: number[] }[] = [];
  /** The outlet's wires, when it replays (this actor's group restarts). */
  #downstream: ReplaySendWire[] | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #drained: PromiseWithResolvers<void> | undefined;
  #outlet: Outlet | undefined;
  /**
   * Whether the message in hand may have been handled before: an old
   * incarnation took it (its sequence number, the last taken, is below the
   * first one no old incarnation took).
   */
  get redelivered(): boolean {
    return this.#inHand && this.#seq - 1 < this.#touchedLimit;
  }
  /** A message was taken and has not settled yet. */
  #inHand = false;
  /**
   * The batch being taken, in scalars, so that a message costs no lookup
   * by link: its link (-1 before the first), the messages of it left to
   * take, the sequence number of the next, where its link's `touched` cell
   * is, the first sequence number no old incarnation took, and the
   * messages of it that settled since they were last added to `#pending`.
   */
  #link = -1;
  #left = 0;
  #seq = 0;
  #touchedAt = 0;
  #touchedLimit = 0;
  #settledHere = 0;

  constructor(
    credit: SharedReceiverCredit,
    end: ReplayEnd & { index: number; maxsize: number },
    layout: ReplayLayout,
  ) {
    this.#cells = new Int32Array(end.cells);
    this.#layout = layout;
    this.#index = end.index;
    this.#epochAt = layout.epochR(end.index);
    this.#epoch = end.epoch;
    this.#credit = credit;
    this.#chunk = credit.chunk;
    this.#forceAt = this.#chunk;
    this.#maxsize = end.maxsize;
    this.#notify = end.sendersRestart;
    this.#pending = new Array(layout.senders).fill(0);
    const links = Array.from({ length: layout.senders }, (_, s) => s);
    this.#seqs = links.map((s) =>
      Atomics.load(this.#cells, layout.handled(s, end.index))
    );
    this.#touchedBefore = links.map((s) =>
      end.epoch > 0
        ? Atomics.load(this.#cells, layout.touched(s, end.index))
        : 0
    );
  }

  #fenced(): boolean {
    return Atomics.load(this.#cells, this.#epochAt) !== this.#epoch;
  }

  /** A batch of `n` messages arrived from sender `link`. */
  arrived(link: number, n: number): void {
    this.#links.push(link);
    this.#counts.push(n);
  }

  /**
   * The inlet is about to hand the next message to the handler: the one
   * before it, if any, settled (a restarting group handles one message at
   * a time, and the inlet takes the next only once the last one's handling
   * fulfilled). So each message is counted without a promise of its own.
   */
  #take(): void {
    // A plain read, as cheap as a field's: the run's store is seen before
    // the next message or soon after, and a handler's call between two
    // reads keeps the compiler from reusing one.
    if (this.#cells[this.#epochAt] !== this.#epoch) throw fenced();
    if (this.#inHand) this.#done();
    if (this.#left === 0) this.#nextBatch();
    this.#left--;
    const seq = this.#seq++;
    // A plain store: read only by a later incarnation, after this one ended.
    this.#cells[this.#touchedAt] = seq + 1;
    this.#inHand = true;
  }

  /** Moves on to the next batch delivered. */
  #nextBatch(): void {
    this.#fold();
    const head = this.#head;
    const link = this.#link = this.#links[head];
    this.#left = this.#counts[head];
    if (++this.#head === this.#links.length) {
      this.#links.length = 0;
      this.#counts.length = 0;
      this.#head = 0;
    } else if (this.#head > 1024) {
      this.#links.splice(0, this.#head);
      this.#counts.splice(0, this.#head);
      this.#head = 0;
    }
    this.#seq = this.#seqs[link];
    this.#touchedAt = this.#layout.touched(link, this.#index);
    this.#touchedLimit = this.#touchedBefore[link];
  }

  /** Adds what settled of the current batch to its link's counts. */
  #fold(): void {
    const link = this.#link;
    if (link < 0) return;
    this.#pending[link] += this.#settledHere;
    this.#settledHere = 0;
    this.#seqs[link] = this.#seq;
  }

  #done(): void {
    this.#inHand = false;
    this.#settledHere++;
    this.#pendingTotal++;
  }

  /** The inlet took a message: counts the handled ones now and then. */
  took(): void {
    this.#take();
    const pending = this.#pendingTotal;
    if (pending >= this.#chunk) {
      const outlet = this.#outlet;
      // Every output of the handled messages went out in the outlet's own
      // posts: counted without cutting its batch short. Else flushed, but
      // only once a batch's worth more is waiting, so that the outlet's
      // posts keep their size (a flush per chunk doubled a middle's posts).
      if (outlet !== undefined && outlet.unposted === 0) this.#seal();
      else if (pending >= this.#forceAt) this.settle();
    } else if (this.#sealed.length > 0) this.#count();
  }

  /**
   * The inlet's queue ran empty, or its run ended: every message it took
   * settled. Counts what can be counted.
   */
  idle(): void {
    // Counted in shared memory only while not fenced (`#count`).
    if (this.#inHand) this.#done();
    this.settle();
  }

  /** Counts what can be counted of the messages that settled. */
  settle(): void {
    // The outlet's flush seals them once its batches are posted.
    if (this.#pendingTotal > 0 && this.#outlet !== undefined) {
      this.#outlet.flush();
    } else this.#seal();
  }

  /**
   * The outlet posted everything it was given: the messages handled so far
   * sent all their outputs. They count as handled once those outputs were
   * handled downstream where the outlet keeps what it posted (the receivers
   * downstream may restart, and what this actor sent would die with its
   * log if it restarted too), else now.
   */
  #seal(): void {
    const outlet = this.#outlet;
    if (
      this.#pendingTotal > 0 && (outlet === undefined || outlet.waiting === 0)
    ) {
      this.#fold();
      const total = this.#pendingTotal;
      this.#pendingTotal = 0;
      const counts = this.#pending.slice();
      this.#pending.fill(0);
      const marks = this.#downstream?.map((w) => w.posted) ?? [];
      this.#sealed.push({ counts, total, marks });
    }
    this.#count();
  }

  /** Counts as handled, and gives back the credits of, what is settled. */
  #count(): void {
    if (this.#fenced()) return;
    const sealed = this.#sealed;
    const wires = this.#downstream;
    let n = 0;
    let blocked: { wire: ReplaySendWire; seen: number } | undefined;
    while (sealed.length > 0) {
      const { counts, total, marks } = sealed[0];
      if (wires !== undefined) {
        const j = marks.findIndex((m, j) => wires[j].handled < m);
        if (j >= 0) {
          blocked = { wire: wires[j], seen: wires[j].handled };
          break;
        }
      }
      sealed.shift();
      for (let s = 0; s < counts.length; s++) {
        if (counts[s] > 0) {
          const at = this.#layout.handled(s, this.#index);
          Atomics.add(this.#cells, at, counts[s]);
          // A restarting sender may wait for it (see below).
          if (this.#notify) Atomics.notify(this.#cells, at);
        }
      }
      n += total;
    }
    this.#credit.give(n);
    if (sealed.length === 0) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
      if (this.#pendingTotal === 0) this.#drained?.resolve();
    } else if (this.#timer === undefined && blocked !== undefined) {
      // Waits for the receiver downstream to count more (it notifies), for
      // 20 ms at most, then looks again.
      let woken = false;
      const again = () => {
        if (woken) return;
        woken = true;
        clearTimeout(this.#timer);
        this.#timer = undefined;
        this.#count();
      };
      this.#timer = setTimeout(again, 25);
      blocked.wire.whenHandled(blocked.seen, 20).then(again);
    }
  }

  /**
   * Resolves once every message handled so far counts as handled: called
   * once the inlet's run ended.
   */
  drained(): Promise<void> {
    this.idle();
    if (this.#sealed.length === 0 && this.#pendingTotal === 0) {
      return Promise.resolve();
    }
    return (this.#drained ??= Promise.withResolvers()).promise;
  }

  /** Stops looking (the inlet is closed). */
  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Handled messages count only once `outlet` posted what they sent. */
  chain(outlet: Outlet): void {
    this.#outlet = outlet;
    this.#forceAt = Math.max(
      this.#chunk,
      Math.min(this.#chunk + outlet.batchLimit, Math.floor(this.#maxsize / 2)),
    );
    // Outputs need waiting for only where they are kept to be posted again
    // (the receivers downstream may restart); elsewhere, once posted they
    // are in their receiver's queue, which outlives this actor.
    const wires = sendWiresOf(outlet);
    this.#downstream = wires?.every((w) => w.keeps) ? wires : undefined;
    // Every flush of the outlet (at the end of a task, before it waits for
    // credit, before its pills) is when its outputs went out.
    outlet.afterFlush = () => this.#seal();
  }
}

/** The inlet's view of the credits: the replay gives them back. */
class ReplayReceiverCredit implements ReceiverCredit {
  readonly #replay: ReceiverReplay;
  constructor(replay: ReceiverReplay) {
    this.#replay = replay;
  }
  took(): void {
    this.#replay.took();
  }
  flush(): void {
    this.#replay.idle();
  }
}

/** A receiver's wire for one sender, which a restarted sender relinks. */
class ReplayReceiveWire implements Wire {
  readonly #ports: MessagePort[];
  readonly #link: number;
  readonly #replay: ReceiverReplay | undefined;
  #deliver: ((item: WireItem) => void) | undefined;

  constructor(
    port: MessagePort,
    link: number,
    replay: ReceiverReplay | undefined,
  ) {
    this.#ports = [port];
    this.#link = link;
    this.#replay = replay;
  }

  post(): void {
    throw new TypeError("A receiver's wire does not post");
  }

  listen(deliver: (item: WireItem) => void): void {
    this.#deliver = deliver;
    this.#listenOn(this.#ports[0]);
  }

  #listenOn(port: MessagePort): void {
    const replay = this.#replay;
    const deliver = this.#deliver!;
    port.onmessage = replay === undefined
      ? (event) => deliver(event.data)
      : (event) => {
        const item = event.data as WireItem;
        if (item !== PILL) replay.arrived(this.#link, item.length);
        deliver(item);
      };
  }

  /**
   * The sender restarted: listens on `port` too (what the old incarnation
   * posted still arrives on the old one).
   */
  attach(port: MessagePort): void {
    this.#ports.push(port);
    if (this.#deliver !== undefined) this.#listenOn(port);
  }

  close(): void {
    for (const port of this.#ports) port.close();
  }
}

/**
 * An inlet of a restartable edge. Where only the senders restart, it counts
 * nothing (`replay` undefined): it gives credits back as a plain inlet does
 * and only listens to a restarted sender's new port too.
 */
export class ReplayInlet extends Inlet {
  readonly #replay: ReceiverReplay | undefined;
  readonly #wires: ReplayReceiveWire[];

  constructor(
    wires: ReplayReceiveWire[],
    replay: ReceiverReplay | undefined,
    credit: ReceiverCredit,
  ) {
    super(
      wires,
      replay === undefined ? credit : new ReplayReceiverCredit(replay),
    );
    this.#replay = replay;
    this.#wires = wires;
  }

  /** Whether the message in hand may have been handled before. */
  get redelivered(): boolean {
    return this.#replay?.redelivered ?? false;
  }

  /** Listens to a restarted sender on `port`. */
  attach(peer: number, port: MessagePort): void {
    this.#wires[peer].attach(port);
  }

  /** See {@linkcode ReceiverReplay.chain}. */
  chain(outlet: Outlet): void {
    this.#replay?.chain(outlet);
  }

  /** Resolves once every message handled so far counts as handled. */
  drained(): Promise<void> {
    return this.#replay?.drained() ?? Promise.resolve();
  }

  override close(): void {
    this.#replay?.stop();
    super.close();
  }
}

export function openReplayReceiver(end: ReplayPortEnd): ReplayInlet {
  // Where only the senders restart, it gives credits back as a plain inlet
  // does, waking its senders as late (`credit.ts`); a replay gives them
  // back as its counts settle, and wakes at each.
  const credit = new SharedReceiverCredit(
    end.cells,
    end.index,
    end.maxsize,
    end.replay.receiversRestart ? 1 : wakeAt(end.maxsize),
  );
  const replay = end.replay.receiversRestart
    ? new ReceiverReplay(credit, {
      ...end.replay,
      index: end.index,
      maxsize: end.maxsize,
    }, new ReplayLayout(end.senders, end.receivers))
    : undefined;
  return new ReplayInlet(
    end.ports.map((port, s) => new ReplayReceiveWire(port, s, replay)),
    replay,
    credit,
  );
}
