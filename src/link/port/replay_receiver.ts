/**
 * A receiver's side of a restartable edge of the port transport (see
 * `replay.ts`): an inlet that knows which link each message came from,
 * gives back each message's window credit once (when taken, or when
 * counted handled), counts a message handled (and gives back its replay
 * log credit) only once it is safe to forget it, tells a redelivered
 * message, and listens to a restarted sender's new port.
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
import { SharedReceiverCredit } from "./credit.ts";
import {
  fenced,
  type ReplayEnd,
  ReplayLayout,
  type ReplayPortEnd,
} from "./replay_cells.ts";
import {
  releaseLog,
  type ReplaySendWire,
  sendWiresOf,
} from "./replay_sender.ts";

/**
 * What a receiver of a restartable edge knows of the messages it handles:
 * which link each came from, which are handled and not yet counted, and
 * whether the one in hand may have been handled before. The inlet's credit
 * too: it gives back both kinds (`replay.ts`).
 */
class ReceiverReplay implements ReceiverCredit {
  readonly #cells: Int32Array;
  readonly #layout: ReplayLayout;
  readonly #index: number;
  readonly #epochAt: number;
  readonly #epoch: number;
  readonly #credit: SharedReceiverCredit;
  readonly #chunk: number;
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
  /** Per link: where its count of messages taken is. */
  readonly #touchedAt: number[];
  /** Per link: where its counts of messages handled and credited are. */
  readonly #handledAt: number[];
  readonly #creditedAt: number[];
  /** Per link: below this, a message's window credit was given back. */
  readonly #creditedBefore: number[];
  /** Per link: messages taken whose window credit is not yet given back. */
  readonly #owed: number[];
  #owedTotal = 0;
  /** The link of the message in hand, until it counts as handled; or -1. */
  #inHand = -1;
  readonly #logAt: number;
  readonly #watchersAt: number;
  readonly #logWaitersAt: number;
  /**
   * Handled messages whose outputs were posted, waiting for the receivers
   * downstream to have handled those outputs: each with how far each wire
   * of the outlet had posted then.
   */
  readonly #sealed: { counts: number[]; total: number; marks: number[] }[] = [];
  /**
   * The wire downstream the oldest sealed messages wait for, and what it
   * had counted handled when last looked at: nothing to count before that
   * changes.
   */
  #blocked: ReplaySendWire | undefined;
  #blockedSeen = 0;
  /** Per link: what one count adds up (reused). */
  readonly #counted: number[];
  /** The outlet's wires, when it replays (this actor's group restarts). */
  #downstream: ReplaySendWire[] | undefined;
  /** Waiting for the receiver downstream to count more. */
  #watching = false;
  /** The inlet's queue ran empty, and it took nothing since. */
  #idle = false;
  #stopped = false;
  #drained: PromiseWithResolvers<void> | undefined;
  #outlet: Outlet | undefined;
  /** Whether the message in hand may have been handled before. */
  redelivered = false;

  constructor(
    credit: SharedArrayBuffer,
    end: ReplayEnd & { index: number; maxsize: number },
    layout: ReplayLayout,
  ) {
    this.#cells = new Int32Array(end.cells);
    this.#layout = layout;
    this.#index = end.index;
    this.#epochAt = layout.epochR(end.index);
    this.#epoch = end.epoch;
    this.#credit = new SharedReceiverCredit(credit, end.index, end.maxsize);
    this.#chunk = Math.max(1, Math.floor(end.maxsize / 8));
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
    this.#creditedBefore = links.map((s) =>
      Atomics.load(this.#cells, layout.credited(s, end.index))
    );
    this.#touchedAt = links.map((s) => layout.touched(s, end.index));
    this.#handledAt = links.map((s) => layout.handled(s, end.index));
    this.#creditedAt = links.map((s) => layout.credited(s, end.index));
    this.#owed = new Array(layout.senders).fill(0);
    this.#counted = new Array(layout.senders).fill(0);
    this.#logAt = layout.log();
    this.#watchersAt = layout.watchers(end.index);
    this.#logWaitersAt = layout.logWaiters();
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
   * The inlet takes the next message: the one before it (if any) was
   * handled, since the inlet hands out one at a time and only once the
   * last one's handling ended (a rejection given to a failure policy that
   * retried or skipped it ends it too; one that restarts the actor never
   * returns). Where the actor sends on a replaying outlet, gives back the
   * message's window credit now (a few at a time), as a plain edge's
   * receiver does, unless an old incarnation did: its input must not wait
   * for the queue downstream too. Other receivers give it back as they
   * count the message handled (see `#count`).
   */
  took(): void {
    this.#idle = false;
    const before = this.#inHand;
    if (before >= 0) {
      this.#pending[before]++;
      this.#pendingTotal++;
    }
    if (this.#fenced()) {
      this.#inHand = -1;
      throw fenced();
    }
    const link = this.#next();
    this.#inHand = link;
    const seq = this.#seqs[link]++;
    this.redelivered = seq < this.#touchedBefore[link];
    // A plain store: read only by a later incarnation, after this one ended.
    this.#cells[this.#touchedAt[link]] = seq + 1;
    if (this.#downstream !== undefined && seq >= this.#creditedBefore[link]) {
      this.#owed[link]++;
      if (++this.#owedTotal >= this.#chunk) this.#giveCredit();
    }
    const pending = this.#pendingTotal;
    if (
      pending >= this.#chunk && (pending >= 4 * this.#chunk || this.#posted())
    ) {
      this.settle();
    } else if (
      this.#sealed.length > 0 &&
      (this.#blocked === undefined ||
        this.#blocked.handled !== this.#blockedSeen)
    ) this.#count();
  }

  /**
   * The inlet's view of the credits (this is the inlet's credit): its queue
   * ran empty, see {@linkcode ReceiverReplay.idle}.
   */
  flush(): void {
    this.idle();
  }

  /**
   * The inlet's queue ran empty (or its run ended): the message in hand was
   * handled; gives back every window credit owed and counts what can be
   * counted.
   */
  idle(): void {
    this.#idle = true;
    const before = this.#inHand;
    if (before >= 0) {
      this.#inHand = -1;
      this.#pending[before]++;
      this.#pendingTotal++;
    }
    this.#giveCredit();
    this.settle();
  }

  /**
   * Gives back the window credits of the messages taken: per link, counted
   * first as given back (a worker killed in between leaves the edge short,
   * never over its bound), so that a new incarnation that gets them again
   * gives none back twice.
   */
  #giveCredit(): void {
    const total = this.#owedTotal;
    if (total === 0 || this.#fenced()) return;
    this.#owedTotal = 0;
    const owed = this.#owed;
    for (let s = 0; s < owed.length; s++) {
      if (owed[s] > 0) {
        Atomics.add(this.#cells, this.#creditedAt[s], owed[s]);
        owed[s] = 0;
      }
    }
    this.#credit.giveBack(total);
  }

  #next(): number {
    const head = this.#head;
    const link = this.#links[head];
    if (--this.#counts[head] === 0) {
      if (++this.#head === this.#links.length) {
        this.#links.length = 0;
        this.#counts.length = 0;
        this.#head = 0;
      } else if (this.#head > 1024) {
        this.#links.splice(0, this.#head);
        this.#counts.splice(0, this.#head);
        this.#head = 0;
      }
    }
    return link;
  }

  /**
   * Whether the outlet posted every message it accepted: then what the
   * messages handled so far sent is out, and they can be sealed without a
   * flush (which would post a partial batch). A middle stage's batches
   * fill as it goes, so it seals right after a full one went out; only a
   * backlog of four chunks forces a flush.
   */
  #posted(): boolean {
    const outlet = this.#outlet;
    const wires = this.#downstream;
    if (outlet === undefined) return true;
    // A plain outlet does not tell: flush it.
    if (wires === undefined) return false;
    let posted = 0;
    for (let j = 0; j < wires.length; j++) posted += wires[j].postedHere;
    return posted === outlet.sent;
  }

  /** Counts, once the outlet posted what they sent, the messages handled. */
  settle(): void {
    // The outlet's flush seals them once its batches are posted.
    if (
      this.#pendingTotal > 0 && this.#outlet !== undefined && !this.#posted()
    ) {
      this.#outlet.flush();
    } else this.#seal();
  }

  /**
   * The outlet posted everything it was given: the messages handled so far
   * sent all their outputs. They count as handled once those outputs were
   * handled downstream (when the outlet replays: this actor may restart,
   * and what it sent would die with its log), else now.
   */
  #seal(): void {
    const outlet = this.#outlet;
    if (
      this.#pendingTotal > 0 && (outlet === undefined || outlet.waiting === 0)
    ) {
      const total = this.#pendingTotal;
      this.#pendingTotal = 0;
      const counts = this.#pending.splice(0);
      this.#pending.push(...new Array(counts.length).fill(0));
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
    let k = 0;
    let blocked: ReplaySendWire | undefined;
    if (wires === undefined) k = sealed.length;
    else {
      for (; k < sealed.length; k++) {
        const marks = sealed[k].marks;
        let j = 0;
        while (j < marks.length && wires[j].handled >= marks[j]) j++;
        if (j < marks.length) {
          blocked = wires[j];
          break;
        }
      }
    }
    this.#blocked = blocked;
    this.#blockedSeen = blocked?.handled ?? 0;
    let n = 0;
    if (k > 0) {
      const counts = this.#counted;
      for (const entry of sealed.splice(0, k)) {
        for (let s = 0; s < counts.length; s++) counts[s] += entry.counts[s];
        n += entry.total;
      }
      // A message counts as handled only after its window credit was
      // counted given back: a new incarnation, which gets again only what
      // was not handled, would otherwise never give back the others'. Most
      // often it was, a chunk ago: giving back the few owed since at every
      // count would wake the senders for a handful of credits each time.
      if (wires !== undefined && this.#owedTotal > 0) {
        for (let s = 0; s < counts.length; s++) {
          if (
            counts[s] > 0 &&
            Atomics.load(this.#cells, this.#handledAt[s]) + counts[s] >
              Atomics.load(this.#cells, this.#creditedAt[s])
          ) {
            this.#giveCredit();
            break;
          }
        }
      }
      if (wires === undefined) {
        // Nothing downstream to wait for: a message's window credit comes
        // back as it counts handled, a chunk after it was taken, which
        // keeps what a restart may send twice downstream within maxsize.
        for (let s = 0; s < counts.length; s++) this.#owed[s] += counts[s];
        this.#owedTotal += n;
        this.#giveCredit();
      }
      for (let s = 0; s < counts.length; s++) {
        if (counts[s] > 0) {
          const at = this.#handledAt[s];
          Atomics.add(this.#cells, at, counts[s]);
          // A restarting actor upstream may wait for it (see below).
          if (Atomics.load(this.#cells, this.#watchersAt) > 0) {
            Atomics.notify(this.#cells, at);
          }
          counts[s] = 0;
        }
      }
    }
    // Their replay log credits: the senders may keep as many more.
    if (n > 0) releaseLog(this.#cells, this.#logAt, this.#logWaitersAt, n);
    if (sealed.length === 0) {
      if (this.#pendingTotal === 0) this.#drained?.resolve();
    } else if (
      !this.#watching && !this.#stopped && blocked !== undefined &&
      (this.#idle ||
        Atomics.load(this.#cells, this.#logWaitersAt) > 0)
    ) {
      // Waits for the receiver downstream to count more (it notifies), for
      // 20 ms at most, then looks again; only while this one is idle or a
      // sender waits for log credits: while it takes messages, it looks at
      // each (`took()`), and a wake per count downstream cost more.
      this.#watching = true;
      blocked.whenHandled(this.#blockedSeen, 20).then(this.#again);
    }
  }

  /** Resolves once every message handled so far counts as handled. */
  drained(): Promise<void> {
    this.idle();
    if (this.#sealed.length === 0 && this.#pendingTotal === 0) {
      return Promise.resolve();
    }
    return (this.#drained ??= Promise.withResolvers()).promise;
  }

  readonly #again = (): void => {
    this.#watching = false;
    if (!this.#stopped) this.#count();
  };

  /** Stops looking (the inlet is closed). */
  stop(): void {
    this.#stopped = true;
  }

  /** Handled messages count only once `outlet` posted what they sent. */
  chain(outlet: Outlet): void {
    this.#outlet = outlet;
    this.#downstream = sendWiresOf(outlet);
    const flush = outlet.flush.bind(outlet);
    // Every flush of the outlet (at the end of a task, before it waits for
    // credit, before its pills) is when its outputs went out.
    Object.defineProperty(outlet, "flush", {
      configurable: true,
      value: () => {
        flush();
        this.#seal();
      },
    });
  }
}

/** A receiver's wire for one sender, which a restarted sender relinks. */
class ReplayReceiveWire implements Wire {
  readonly #ports: MessagePort[];
  readonly #link: number;
  readonly #replay: ReceiverReplay;
  #deliver: ((item: WireItem) => void) | undefined;

  constructor(port: MessagePort, link: number, replay: ReceiverReplay) {
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
    port.onmessage = (event) => {
      const item = event.data as WireItem;
      if (item !== PILL) this.#replay.arrived(this.#link, item.length);
      this.#deliver!(item);
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

/** An inlet of a restartable edge. */
export class ReplayInlet extends Inlet {
  readonly #replay: ReceiverReplay;
  readonly #wires: ReplayReceiveWire[];

  constructor(wires: ReplayReceiveWire[], replay: ReceiverReplay) {
    super(wires, replay);
    this.#replay = replay;
    this.#wires = wires;
  }

  /** Whether the message in hand may have been handled before. */
  get redelivered(): boolean {
    return this.#replay.redelivered;
  }

  /** Listens to a restarted sender on `port`. */
  attach(peer: number, port: MessagePort): void {
    this.#wires[peer].attach(port);
  }

  /** See {@linkcode ReceiverReplay.chain}. */
  chain(outlet: Outlet): void {
    this.#replay.chain(outlet);
  }

  /** Resolves once every message handled so far counts as handled. */
  drained(): Promise<void> {
    return this.#replay.drained();
  }

  override close(): void {
    this.#replay.stop();
    super.close();
  }
}

export function openReplayReceiver(end: ReplayPortEnd): ReplayInlet {
  const layout = new ReplayLayout(end.senders, end.receivers);
  const replay = new ReceiverReplay(end.cells, {
    ...end.replay,
    index: end.index,
    maxsize: end.maxsize,
  }, layout);
  return new ReplayInlet(
    end.ports.map((port, s) => new ReplayReceiveWire(port, s, replay)),
    replay,
  );
}
