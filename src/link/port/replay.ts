/**
 * Replay for the port transport: what lets an actor of a restarting group
 * (`onError: "restart"`) be replaced by a new incarnation without losing the
 * messages its old one held (see "Restarts" in `../transport.ts`). Used only
 * on edges made restartable; every other edge is the plain one of
 * `transport.ts`, untouched.
 *
 * - A sender keeps each batch it posted on a link until the receiver has
 *   handled it, told by a per-link counter in shared memory (`HANDLED`);
 *   messages are copied, never transferred, so that they can be posted
 *   again. When a receiver restarts, the run hands every sender a fresh
 *   port to its new incarnation, and the sender posts on it, in order,
 *   every message that was not handled, then its pill if it had sent it.
 * - A receiver counts a message handled (and gives back its credit) only
 *   once its handler settled and the outlet it sends on posted what the
 *   handler sent: so a message whose outputs died with the worker is
 *   replayed, not lost. Replayed messages keep the credits they hold.
 * - A sender's credits taken and not yet posted are counted in a shared cell
 *   (`HELD`), which the run returns to the edge when the sender dies.
 * - Each end carries its incarnation (`epoch`); once the run moved a
 *   sender's or receiver's epoch on, the old incarnation is fenced: a worker
 *   Deno could not stop at once (a synchronous loop goes on after
 *   `terminate()`) can no longer post, take credit or count a message
 *   handled.
 *
 * @module
 */

import { Inlet } from "../inlet.ts";
import { type Outlet, RESOLVED } from "../outlet.ts";
import {
  PILL,
  type ReceiverCredit,
  type SenderCredit,
  type Wire,
  type WireItem,
} from "../transport.ts";
import {
  readCells,
  returnCredits,
  SharedReceiverCredit,
  SharedSenderCredit,
} from "./credit.ts";

/** Int32 cells per 64-byte cache line. */
const LINE = 16;

const pad = (n: number) => Math.ceil(n / LINE) * LINE;

/**
 * Where each counter of an edge's replay cells lives. Cells a hot path
 * writes (one sender's, one receiver's) share no cache line with another
 * end's.
 */
export class ReplayLayout {
  readonly senders: number;
  readonly receivers: number;
  readonly #epochS = 0;
  readonly #epochR: number;
  readonly #relinked: number;
  readonly #held: number;
  readonly #inHand: number;
  readonly #posted: number;
  readonly #handled: number;
  /** Int32 cells in all. */
  readonly size: number;

  constructor(senders: number, receivers: number) {
    this.senders = senders;
    this.receivers = receivers;
    this.#epochR = pad(senders);
    this.#relinked = this.#epochR + pad(receivers);
    this.#held = this.#relinked + pad(senders * receivers);
    this.#inHand = this.#held + senders * LINE;
    this.#posted = this.#inHand + receivers * LINE;
    this.#handled = this.#posted + senders * pad(receivers);
    this.size = this.#handled + receivers * pad(senders);
  }

  /** The current incarnation of sender `s`. */
  epochS(s: number): number {
    return this.#epochS + s;
  }
  /** The current incarnation of receiver `r`. */
  epochR(r: number): number {
    return this.#epochR + r;
  }
  /** The incarnation of receiver `r` that sender `s` last replayed to. */
  relinked(s: number, r: number): number {
    return this.#relinked + s * this.receivers + r;
  }
  /** Credits sender `s` took and did not post yet. */
  held(s: number): number {
    return this.#held + s * LINE;
  }
  /** 1 + the sender whose message receiver `r` is handling; 0 for none. */
  inHand(r: number): number {
    return this.#inHand + r * LINE;
  }
  /** Messages sender `s` posted to receiver `r`, every incarnation. */
  posted(s: number, r: number): number {
    return this.#posted + s * pad(this.receivers) + r;
  }
  /** Messages from sender `s` that receiver `r` handled. */
  handled(s: number, r: number): number {
    return this.#handled + r * pad(this.senders) + s;
  }
}

/** The replay cells of an edge. */
export function createReplayCells(layout: ReplayLayout): SharedArrayBuffer {
  return new SharedArrayBuffer(layout.size * Int32Array.BYTES_PER_ELEMENT);
}

/** What an end of a restartable edge carries besides the port end's. */
export interface ReplayEnd {
  /** The edge's replay cells. */
  readonly cells: SharedArrayBuffer;
  /** The incarnation this end belongs to. */
  readonly epoch: number;
}

/** A relink of the port transport: a fresh port to the restarted peer. */
export interface PortRelink {
  readonly transport: string;
  readonly role: "sender" | "receiver";
  readonly peer: number;
  readonly port: MessagePort;
  /** The incarnation of the peer at the other end of `port`. */
  readonly epoch: number;
}

/** Thrown by a fenced end: its actor was restarted, this is the old one. */
function fenced(): DOMException {
  return new DOMException(
    "This actor was restarted: its old incarnation can no longer send",
    "InvalidStateError",
  );
}

/** A sender's wire that keeps what it posted until the receiver handled it. */
export class ReplaySendWire implements Wire {
  #port: MessagePort;
  readonly #cells: Int32Array;
  readonly #postedAt: number;
  readonly #handledAt: number;
  readonly #relinkedAt: number;
  readonly #fenced: () => boolean;
  /** Posted batches not known to be handled, oldest first. */
  readonly #log: { start: number; batch: readonly unknown[] }[] = [];
  #posted: number;
  #pilled = false;

  constructor(
    port: MessagePort,
    cells: Int32Array,
    at: { posted: number; handled: number; relinked: number },
    isFenced: () => boolean,
  ) {
    this.#port = port;
    this.#cells = cells;
    this.#postedAt = at.posted;
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

  /** Messages kept for a replay (posted, not known to be handled). */
  get kept(): number {
    let n = 0;
    for (const entry of this.#log) n += entry.batch.length;
    return n;
  }

  post(item: WireItem, _transfer: Transferable[]): void {
    if (this.#fenced()) throw fenced();
    if (item === PILL) {
      this.#pilled = true;
      this.#port.postMessage(PILL);
      return;
    }
    this.#trim(Atomics.load(this.#cells, this.#handledAt));
    // Copied, not transferred: the batch is kept to be posted again.
    this.#port.postMessage(item);
    this.#log.push({ start: this.#posted, batch: item });
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
 * A sender's credits on a restartable edge: one credit taken at a time, and
 * what it holds (taken, not posted) counted in shared memory, so that the
 * run can return it if the sender dies.
 */
export class ReplaySenderCredit implements SenderCredit {
  readonly #inner: SharedSenderCredit;
  readonly #cells: Int32Array;
  readonly #heldAt: number;
  readonly #fenced: () => boolean;

  constructor(
    credit: SharedArrayBuffer,
    cells: Int32Array,
    heldAt: number,
    isFenced: () => boolean,
  ) {
    // No reserve: every credit taken is counted in HELD until posted.
    this.#inner = new SharedSenderCredit(credit, 1);
    this.#cells = cells;
    this.#heldAt = heldAt;
    this.#fenced = isFenced;
  }

  take(): boolean {
    if (this.#fenced() || !this.#inner.take()) return false;
    Atomics.add(this.#cells, this.#heldAt, 1);
    return true;
  }
  giveBack(): void {
    this.#inner.giveBack();
  }
  queued(index: number, n: number): void {
    this.#inner.queued(index, n);
    Atomics.sub(this.#cells, this.#heldAt, n);
  }
  queueLength(index: number): number {
    return this.#inner.queueLength(index);
  }
  wait(): Promise<void> {
    // A fenced sender never gets credit again: it must not spin on take().
    if (this.#fenced()) return new Promise(() => {});
    return this.#inner.wait();
  }
  wakeAll(): void {
    this.#inner.wakeAll();
  }
}

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
  /** Per link: messages handled and not yet counted in HANDLED. */
  readonly #uncounted: number[];
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
  /** Per link: messages taken off the queue in this incarnation. */
  readonly #taken: number[];
  /** The link and sequence number an old incarnation had in hand. */
  readonly #redeliveredLink: number;
  readonly #redeliveredSeq: number;
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
    this.#uncounted = new Array(layout.senders).fill(0);
    this.#taken = new Array(layout.senders).fill(0);
    const inHand = Atomics.load(this.#cells, layout.inHand(end.index)) - 1;
    this.#redeliveredLink = end.epoch > 0 ? inHand : -1;
    this.#redeliveredSeq = inHand >= 0
      ? Atomics.load(this.#cells, layout.handled(inHand, end.index))
      : -1;
    Atomics.store(this.#cells, layout.inHand(end.index), 0);
  }

  #fenced(): boolean {
    return Atomics.load(this.#cells, this.#epochAt) !== this.#epoch;
  }

  /** A batch of `n` messages arrived from sender `link`. */
  arrived(link: number, n: number): void {
    this.#links.push(link);
    this.#counts.push(n);
  }

  /** Runs `handler` on the next message, counting it handled once it settles. */
  handle(
    handler: (message: unknown) => unknown,
    message: unknown,
  ): unknown {
    if (this.#fenced()) throw fenced();
    const link = this.#next();
    const seq =
      Atomics.load(this.#cells, this.#layout.handled(link, this.#index)) +
      this.#uncounted[link];
    this.redelivered = link === this.#redeliveredLink &&
      seq === this.#redeliveredSeq;
    this.#taken[link]++;
    this.#cells[this.#layout.inHand(this.#index)] = link + 1;
    const result = handler(message);
    if (
      result !== undefined && result !== RESOLVED &&
      typeof (result as Promise<unknown>).then === "function"
    ) {
      return (result as Promise<unknown>).then(() => this.#done(link));
    }
    this.#done(link);
    return result;
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

  #done(link: number): void {
    if (this.#fenced()) throw fenced();
    this.#cells[this.#layout.inHand(this.#index)] = 0;
    this.#pending[link]++;
    this.#pendingTotal++;
    this.#uncounted[link]++;
    if (this.#outlet === undefined) this.#seal();
  }

  /** The inlet took a message: counts the handled ones now and then. */
  took(): void {
    if (this.#pendingTotal >= this.#chunk) this.settle();
    else if (this.#sealed.length > 0) this.#count();
  }

  /** The inlet's queue ran empty: counts what can be counted. */
  settle(): void {
    // The outlet's flush seals them once its batches are posted.
    if (this.#pendingTotal > 0 && this.#outlet !== undefined) {
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
    let n = 0;
    while (sealed.length > 0) {
      const { counts, total, marks } = sealed[0];
      if (
        wires !== undefined && !marks.every((m, j) => wires[j].handled >= m)
      ) {
        break;
      }
      sealed.shift();
      for (let s = 0; s < counts.length; s++) {
        if (counts[s] > 0) {
          Atomics.add(
            this.#cells,
            this.#layout.handled(s, this.#index),
            counts[s],
          );
          this.#uncounted[s] -= counts[s];
        }
      }
      n += total;
    }
    for (let k = 0; k < n; k++) this.#credit.took();
    this.#credit.flush();
    if (sealed.length === 0) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
      if (this.#pendingTotal === 0) this.#drained?.resolve();
    } else if (this.#timer === undefined) {
      // Downstream tells nobody when it handled: look again soon.
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        this.#count();
      }, 1);
    }
  }

  /** Resolves once every message handled so far counts as handled. */
  drained(): Promise<void> {
    this.settle();
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
    this.#downstream = SEND_WIRES.get(outlet);
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
    this.#replay.settle();
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
    super(wires, new ReplayReceiverCredit(replay));
    this.#replay = replay;
    this.#wires = wires;
  }

  override run(
    handle: (message: unknown) => unknown,
    onPill: (received: number, expected: number) => void,
  ): Promise<void> {
    const replay = this.#replay;
    return super.run((message) => replay.handle(handle, message), onPill);
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

/** The wires of every replaying outlet, to relink them. */
const SEND_WIRES = new WeakMap<Outlet, ReplaySendWire[]>();

/** What a port end of a restartable edge holds. */
interface ReplayPortEnd {
  readonly index: number;
  readonly senders: number;
  readonly receivers: number;
  readonly maxsize: number;
  readonly ports: MessagePort[];
  readonly cells: SharedArrayBuffer;
  readonly replay: ReplayEnd;
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
    }, isFenced)
  );
  const outlet = make(
    wires,
    new ReplaySenderCredit(end.cells, cells, layout.held(s), isFenced),
  );
  SEND_WIRES.set(outlet, wires);
  return outlet;
}

/** Opens a receiver's end of a restartable edge. */
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

/** Hands a live end of a restartable edge its fresh link to a peer. */
export function relinkEnd(end: Outlet | Inlet, spec: PortRelink): void {
  if (spec.role === "sender") {
    const wires = SEND_WIRES.get(end as Outlet);
    if (wires === undefined) {
      throw new TypeError("Cannot relink: the outlet does not replay");
    }
    wires[spec.peer].relink(spec.port, spec.epoch);
  } else {
    if (!(end instanceof ReplayInlet)) {
      throw new TypeError("Cannot relink: the inlet does not replay");
    }
    end.attach(spec.peer, spec.port);
  }
}

/**
 * The main thread's side of a restartable edge: bumps incarnations, makes
 * fresh ports, returns a dead sender's credits and counts what cannot be
 * replayed.
 */
export class ReplayEdge {
  readonly #layout: ReplayLayout;
  readonly #cells: Int32Array;
  readonly #credit: SharedArrayBuffer;
  /** Per link: what the sender's current incarnation's log starts at. */
  readonly #base: number[][];
  /** Every channel made for a restart, to close with the edge. */
  readonly channels: MessageChannel[] = [];
  readonly buffer: SharedArrayBuffer;

  readonly #maxsize: number;

  constructor(
    layout: ReplayLayout,
    credit: SharedArrayBuffer,
    maxsize: number,
  ) {
    this.#maxsize = maxsize;
    this.#layout = layout;
    this.buffer = createReplayCells(layout);
    this.#cells = new Int32Array(this.buffer);
    this.#credit = credit;
    this.#base = Array.from(
      { length: layout.senders },
      () => new Array(layout.receivers).fill(0),
    );
  }

  /** The replay part of an end of the edge's first incarnations. */
  get first(): ReplayEnd {
    return { cells: this.buffer, epoch: 0 };
  }

  #load(at: number): number {
    return Atomics.load(this.#cells, at);
  }

  /**
   * Gives back the credits of `n` messages queued for receiver `r` that
   * will never arrive (skipped: a replay makes them again, or they are lost
   * and the run fails).
   */
  #skip(r: number, n: number): void {
    if (n <= 0) return;
    const credit = new SharedReceiverCredit(this.#credit, r, this.#maxsize);
    for (let k = 0; k < n; k++) credit.took();
    credit.flush();
  }

  #channel(): MessageChannel {
    const channel = new MessageChannel();
    this.channels.push(channel);
    return channel;
  }

  /**
   * Fences sender `s`, returns its credits; returns a port per receiver for
   * its new incarnation, the ports for the receivers, and what is lost.
   */
  restartSender(s: number): {
    replay: ReplayEnd;
    ports: MessagePort[];
    peers: { port: MessagePort; epoch: number }[];
    lost: number;
  } {
    const L = this.#layout;
    const cells = this.#cells;
    const epoch = Atomics.add(cells, L.epochS(s), 1) + 1;
    returnCredits(this.#credit, Atomics.exchange(cells, L.held(s), 0));
    let lost = 0;
    const ports: MessagePort[] = [];
    const peers: { port: MessagePort; epoch: number }[] = [];
    for (let r = 0; r < L.receivers; r++) {
      const posted = this.#load(L.posted(s, r));
      const handled = this.#load(L.handled(s, r));
      // A replay the old incarnation never made: its receiver restarted and
      // the messages it had not handled died with this sender's log.
      if (this.#load(L.relinked(s, r)) !== this.#load(L.epochR(r))) {
        lost += Math.max(0, posted - handled);
        // The receiver will not wait for messages that will never come.
        Atomics.store(cells, L.handled(s, r), posted);
        this.#skip(r, posted - handled);
      }
      Atomics.store(cells, L.relinked(s, r), this.#load(L.epochR(r)));
      this.#base[s][r] = posted;
      const channel = this.#channel();
      ports.push(channel.port1);
      peers.push({ port: channel.port2, epoch });
    }
    return { replay: { cells: this.buffer, epoch }, ports, peers, lost };
  }

  /**
   * Fences receiver `r`; returns a port per sender for its new incarnation,
   * the ports for the senders, and what is lost.
   */
  restartReceiver(r: number): {
    replay: ReplayEnd;
    ports: MessagePort[];
    peers: { port: MessagePort; epoch: number }[];
    lost: number;
  } {
    const L = this.#layout;
    const epoch = Atomics.add(this.#cells, L.epochR(r), 1) + 1;
    let lost = 0;
    const ports: MessagePort[] = [];
    const peers: { port: MessagePort; epoch: number }[] = [];
    for (let s = 0; s < L.senders; s++) {
      const handled = this.#load(L.handled(s, r));
      const base = this.#base[s][r];
      if (handled < base) {
        // Posted by a sender's incarnation that is gone: nobody has them.
        lost += base - handled;
        Atomics.store(this.#cells, L.handled(s, r), base);
        this.#skip(r, base - handled);
      }
      const channel = this.#channel();
      ports.push(channel.port2);
      peers.push({ port: channel.port1, epoch });
    }
    return { replay: { cells: this.buffer, epoch }, ports, peers, lost };
  }

  /** Messages kept for replay: posted, not handled, per receiver. */
  unhandled(): number[] {
    const L = this.#layout;
    const out: number[] = [];
    for (let r = 0; r < L.receivers; r++) {
      let n = 0;
      for (let s = 0; s < L.senders; s++) {
        n += this.#load(L.posted(s, r)) - this.#load(L.handled(s, r));
      }
      out.push(n);
    }
    return out;
  }

  /** Credits the senders hold (taken, not posted). */
  held(): number {
    let n = 0;
    for (let s = 0; s < this.#layout.senders; s++) {
      n += this.#load(this.#layout.held(s));
    }
    return n;
  }

  /** For tests: the edge's credit counters. */
  credits(): ReturnType<typeof readCells> {
    return readCells(this.#credit);
  }
}
