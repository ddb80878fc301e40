/**
 * The shared cells of a restartable edge of the port transport, and what its
 * ends carry to use them (see `replay.ts`): per sender and per receiver its
 * incarnation, per sender the credits it holds, per link what was posted
 * and what was handled.
 *
 * @module
 */

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
  readonly #touched: number;
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
    this.#posted = this.#held + senders * LINE;
    this.#handled = this.#posted + senders * pad(receivers);
    this.#touched = this.#handled + receivers * pad(senders);
    this.size = this.#touched + receivers * pad(senders);
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
  /** Messages sender `s` posted to receiver `r`, every incarnation. */
  posted(s: number, r: number): number {
    return this.#posted + s * pad(this.receivers) + r;
  }
  /** Messages from sender `s` that receiver `r` handled. */
  handled(s: number, r: number): number {
    return this.#handled + r * pad(this.senders) + s;
  }
  /**
   * Messages from sender `s` that receiver `r` started to handle, every
   * incarnation: those below it that a new incarnation gets again are
   * redelivered.
   */
  touched(s: number, r: number): number {
    return this.#touched + r * pad(this.senders) + s;
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
  /**
   * Whether the edge's receivers may restart. Only then does a sender keep
   * what it posted (to post it again to a new incarnation), and a receiver
   * count what it handled: a receiver that never restarts has every message
   * posted to it in its own queue, which outlives the sender.
   */
  readonly receiversRestart: boolean;
  /**
   * Whether the edge's senders may restart: only then may a sender wait
   * for its receivers' counts (`ReplaySendWire.whenHandled`), and only
   * then do they tell it.
   */
  readonly sendersRestart: boolean;
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
export function fenced(): DOMException {
  return new DOMException(
    "This actor was restarted: its old incarnation can no longer send",
    "InvalidStateError",
  );
}

/** What a port end of a restartable edge holds. */
export interface ReplayPortEnd {
  readonly index: number;
  readonly senders: number;
  readonly receivers: number;
  readonly maxsize: number;
  readonly ports: MessagePort[];
  readonly cells: SharedArrayBuffer;
  readonly replay: ReplayEnd;
}
