/**
 * The shared cells of a restartable edge of the port transport, and what its
 * ends carry to use them (see `replay.ts`): per sender and per receiver its
 * incarnation, per sender the credits it holds, per link what was posted,
 * what was taken and what was handled, and the edge's replay log credits.
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
  readonly #epochS = 2 * LINE;
  readonly #epochR: number;
  readonly #relinked: number;
  readonly #held: number;
  readonly #logHeld: number;
  readonly #log = 0;
  readonly #logWaiters = LINE;
  readonly #touched: number;
  readonly #credited: number;
  readonly #watchers: number;
  readonly #posted: number;
  readonly #handled: number;
  /** Int32 cells in all. */
  readonly size: number;

  constructor(senders: number, receivers: number) {
    this.senders = senders;
    this.receivers = receivers;
    this.#epochR = 2 * LINE + pad(senders);
    this.#relinked = this.#epochR + pad(receivers);
    this.#held = this.#relinked + pad(senders * receivers);
    this.#logHeld = this.#held + senders * LINE;
    this.#posted = this.#logHeld + senders * LINE;
    this.#handled = this.#posted + senders * pad(receivers);
    this.#touched = this.#handled + receivers * pad(senders);
    this.#credited = this.#touched + receivers * pad(senders);
    this.#watchers = this.#credited + receivers * pad(senders);
    this.size = this.#watchers + receivers * LINE;
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
  /**
   * Replay log credits left on the edge: a sender takes one per message with
   * its window credit, the receiver gives it back once it counts the message
   * handled (see `replay.ts`).
   */
  log(): number {
    return this.#log;
  }
  /** Senders waiting for replay log credits. */
  logWaiters(): number {
    return this.#logWaiters;
  }
  /** Replay log credits sender `s` took and did not post yet. */
  logHeld(s: number): number {
    return this.#logHeld + s * LINE;
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
  /**
   * Messages from sender `s` whose window credit receiver `r` gave back
   * (at take time, as a plain edge's receiver does), every incarnation: a
   * new incarnation gives back no credit for those below it again.
   */
  credited(s: number, r: number): number {
    return this.#credited + r * pad(this.senders) + s;
  }
  /**
   * Senders waiting for receiver `r` to count more handled (a restarting
   * actor upstream, whose input counts only once its outputs did): `r`
   * notifies only while some wait.
   */
  watchers(r: number): number {
    return this.#watchers + r * LINE;
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
