/**
 * The transport seam of a link. An edge joins every sender of one group to
 * every receiver of the next; what carries its messages and counts its
 * credits is a {@linkcode Transport}. The run makes edges through one, hands
 * each actor the plain end specs it made, and each thread opens its ends
 * back into an {@linkcode Outlet} or an {@linkcode Inlet}. Outlets and
 * inlets (batching, picking the shortest queue, pills, aborts) are the same
 * for every transport: they need only the {@linkcode Wire},
 * {@linkcode SenderCredit} and {@linkcode ReceiverCredit} below.
 *
 * A new transport implements {@linkcode Transport} (most simply by building
 * the usual `Outlet` and `Inlet` over its own wires and credits, as
 * `port/transport.ts` does), lists itself in `ends.ts`, and runs the
 * conformance suite of `tests/link/conformance.ts` on itself. What it must
 * guarantee, and the suite checks:
 *
 * - every item posted on a wire arrives exactly once on the other end, in
 *   the order posted (FIFO per sender→receiver pair, pills included); the
 *   transport carries the pill like any item, it need not understand it;
 * - one pool of credits per edge, shared by all its senders: it counts every
 *   message taken and not yet given back, so at most `maxsize` messages are
 *   in flight on the whole edge, and no counter goes below zero or above
 *   `maxsize`;
 * - a sender waiting for credit is woken once a receiver gives some back;
 * - an end spec survives structured clone (it may also be opened in the
 *   thread that made it: inline mode, the main thread's input and results);
 * - closing an end, or an edge, never throws and never blocks.
 *
 * ## Restarts
 *
 * An edge one of whose groups restarts its actors (`onError: "restart"`) is
 * made with {@linkcode EdgeShape.restartable}; a transport that can replay
 * implements {@linkcode EdgeHandle.restartSender},
 * {@linkcode EdgeHandle.restartReceiver} and {@linkcode Transport.relink}
 * (and {@linkcode Transport.chain}), and must then also guarantee, as the
 * restart cases of the conformance suite check:
 *
 * - a receiver counts a message handled once its handler settled and what
 *   the handler sent went out (`chain()`), and, if the receiver's actor may
 *   restart and so may the receivers of what it sent, once that was handled
 *   downstream (so that a restarted actor's replay makes again what died
 *   with its old incarnation's log); until then the message keeps its
 *   credit. What went out to a receiver that never restarts is in that
 *   receiver's queue, which outlives the sender;
 * - `restartReceiver(r)` fences the old incarnation of receiver `r` (nothing
 *   it does afterwards counts), and once every live sender got its
 *   {@linkcode RelinkSpec} through `relink()`, every message posted to `r`
 *   and not handled by it (in hand or queued) is posted again, in order, to
 *   the new incarnation, each with the credit it already holds, and the
 *   sender's pill after them if it had sent it: nothing is lost, and only
 *   those messages can arrive twice;
 * - `restartSender(s)` fences the old incarnation of sender `s`, returns to
 *   the edge the credits it held (taken and not posted), and its new end
 *   keeps index `s`, so that receivers still count one pill per sender; what
 *   the old one posted still arrives;
 * - a message that neither a sender's log nor a replay to its sender can
 *   bring back (a source restarted after posting it, and then its receiver
 *   before handling it) is counted in {@linkcode Restarted.lost}, never
 *   silently dropped.
 *
 * @module
 */

import type {
  EdgeEnd,
  ReceiverEndSpec,
  RelinkSpec,
  SenderEndSpec,
} from "../common/protocol.ts";
import type { Inlet } from "./inlet.ts";
import type { Outlet, PostFailure } from "./outlet.ts";

export type { EdgeEnd, ReceiverEndSpec, RelinkSpec, SenderEndSpec };

/** The poison pill on a wire: its sender will post nothing more on it. */
export const PILL = 0;

/** What travels on a wire: a batch of messages, or the pill. */
export type WireItem = readonly unknown[] | typeof PILL;

/**
 * One end of the wire between one sender and one receiver. A sender posts
 * on its ends, a receiver listens on its own; an item posted arrives once,
 * in order, on the other end.
 */
export interface Wire {
  /**
   * Posts one item. May throw (a message that cannot be serialised): the
   * item is then not sent, and the outlet fails. Ownership of `transfer`
   * moves with the item where the transport can move it; a transport that
   * cannot must copy or refuse (throw).
   */
  post(item: WireItem, transfer: Transferable[]): void;
  /**
   * Hands every item that arrives to `deliver`, in order, each in a task of
   * its own or later (never inside `post()`). Called once, by the inlet.
   */
  listen(deliver: (item: WireItem) => void): void;
  /** Stops sending and delivering; safe to call twice. */
  close(): void;
}

/**
 * A sender's view of an edge's credits: one credit per message, taken
 * before the message is queued. A sender may take credits in bulk and keep
 * a reserve, as long as `giveBack()` returns it.
 */
export interface SenderCredit {
  /** Takes one credit if the edge has room; never waits. */
  take(): boolean;
  /** Returns the credits taken and not used (the reserve) to the edge. */
  giveBack(): void;
  /**
   * Records that `n` messages were posted to receiver `index`: its queue
   * length grows by `n` until that receiver gives their credits back.
   */
  queued(index: number, n: number): void;
  /**
   * Messages posted to receiver `index` and not yet taken by it, as far as
   * this sender can tell (it picks the shortest queue by it; a stale
   * answer is allowed, a wrong one only costs balance).
   */
  queueLength(index: number): number;
  /**
   * Resolves once the edge may have credit again (a receiver gave some
   * back), or at once if it has some now. The caller then calls `take()`
   * again: another sender may have won. Must not miss a give-back that
   * happens between a failed `take()` and this call.
   */
  wait(): Promise<void>;
  /** Resolves every pending `wait()` now (tearing down). */
  wakeAll(): void;
}

/** A receiver's view of an edge's credits. */
export interface ReceiverCredit {
  /**
   * Records that one message was taken off the receiver's queue to be
   * handled. Its credit may be given back now or at the next `flush()`.
   */
  took(): void;
  /**
   * Gives back the credits of every message taken so far, and shortens this
   * receiver's queue length by as many. Called whenever the receiver's
   * queue runs empty: credits held past that would stall the senders.
   */
  flush(): void;
  /**
   * Optional. Waits, busy, until a post to this receiver is on its way or
   * `ms` milliseconds passed, and says whether one is. An inlet whose queue
   * ran dry calls it (when its thread may spin, see `Inlet.idleSpinMs`)
   * before it parks: a post to a parked thread costs its sender a wake-up
   * syscall, and the receiver the time it takes to be scheduled again.
   */
  spin?(ms: number): boolean;
}

/** What an edge joins, as a transport is asked to make it. */
export interface EdgeShape {
  /** The sending group, or `"input"` for the main thread. */
  readonly from: string;
  /** The receiving group, or `"results"` for the main thread. */
  readonly to: string;
  readonly senders: number;
  readonly receivers: number;
  /** The edge's bound: messages in flight at most. */
  readonly maxsize: number;
  /**
   * Which sides restart their actors (see "Restarts" above); absent: none,
   * and the edge costs nothing more than one that cannot restart.
   */
  readonly restartable?: {
    readonly senders: boolean;
    readonly receivers: boolean;
  };
}

/** What restarting one end of an edge gives its maker. */
export interface Restarted<E extends EdgeEnd> {
  /** The restarted end's new spec, for its new incarnation to open. */
  readonly end: E;
  /** What to hand each live peer across the edge, by its index (`relink()`). */
  readonly peers: readonly RelinkSpec[];
  /**
   * Messages that can no longer be replayed: posted by an incarnation of a
   * sender that is gone, and not handled by the receiver that restarted.
   */
  readonly lost: number;
}

/** An edge's counters right now, for metrics and watchdogs. */
export interface EdgeState {
  /** The sending group, or `"input"` for the main thread. */
  readonly from: string;
  /** The receiving group, or `"results"` for the main thread. */
  readonly to: string;
  /** The edge's bound. */
  readonly maxsize: number;
  /** Credits taken: messages in flight, counting those senders reserved. */
  readonly inFlight: number;
  /** Senders waiting for credit. */
  readonly waitingSenders: number;
  /** Messages queued for each receiver, by receiver index. */
  readonly queued: number[];
}

/** An edge as its maker (the main thread) holds it. */
export interface EdgeHandle {
  readonly from: string;
  readonly to: string;
  readonly maxsize: number;
  /** Each sender's end, by sender index. */
  readonly senders: readonly SenderEndSpec[];
  /** Each receiver's end, by receiver index. */
  readonly receivers: readonly ReceiverEndSpec[];
  /** Reads the edge's counters; cheap, callable any time, never throws. */
  state(): EdgeState;
  /**
   * Sender `index` is restarting (its old incarnation is gone): fences it,
   * returns its credits, and makes a fresh end for the new one. Only on an
   * edge made with restartable senders.
   */
  restartSender?(index: number): Restarted<SenderEndSpec>;
  /**
   * Receiver `index` is restarting: fences it and makes a fresh end for the
   * new one; each sender replays to it, once relinked, what it had not
   * handled. Only on an edge made with restartable receivers.
   */
  restartReceiver?(index: number): Restarted<ReceiverEndSpec>;
  /**
   * Tears the edge down from the thread that made it: wakes every sender
   * waiting for credit and closes the ends this thread holds (an end moved
   * to another thread closes with it). Safe to call twice.
   */
  close(): void;
}

/**
 * A way to carry an edge. It makes edges in the main thread and opens ends
 * in any thread, so the module that implements it must not import host
 * code; a worker finds it by the end's `transport` name (see `ends.ts`,
 * where every transport is listed).
 */
export interface Transport {
  /** Names the transport in every end spec it makes; unique. */
  readonly name: string;
  /** Makes an edge: a wire from every sender to every receiver, and credits. */
  createEdge(shape: EdgeShape): EdgeHandle;
  /**
   * Loads what this transport loads lazily and `spec` needs to open (with
   * no spec: whatever any edge needs, restartable ones included), if this
   * thread lacks it. The port transport's replay, in an actor's worker: the
   * runner awaits it before it opens its ends, a run before it makes its
   * edges.
   */
  prepare?(spec?: EdgeEnd): Promise<void>;
  /**
   * Opens a sender's end in the calling thread, once: an outlet over one
   * wire per receiver, by receiver index, and the edge's credits.
   * `onFailure` is called when a batch cannot be posted, the outlet aborted
   * first; a transport whose posts fail later (a connection lost) aborts
   * the outlet it opened and calls `onFailure` itself.
   */
  openSender(spec: SenderEndSpec, onFailure: PostFailure): Outlet;
  /**
   * Opens a receiver's end in the calling thread, once: an inlet over one
   * wire per sender, by sender index (it ends after as many pills), and the
   * edge's credits.
   */
  openReceiver(spec: ReceiverEndSpec): Inlet;
  /** What must be transferred, not copied, with `spec` to another thread. */
  transferables(spec: EdgeEnd | RelinkSpec): Transferable[];
  /** Closes an end that no thread opened (a member that never started). */
  discard(spec: EdgeEnd | RelinkSpec): void;
  /**
   * Hands a live end (opened by this transport) the fresh link to a peer
   * that restarted. For transports that can restart (see "Restarts").
   */
  relink?(end: Outlet | Inlet, spec: RelinkSpec): void;
  /**
   * Tells an actor's inlet which outlet its handler sends on (both open in
   * the calling thread), so that a message counts as handled only once what
   * its handler sent was posted. For transports that can restart.
   */
  chain?(inlet: Inlet, outlet: Outlet | undefined): void;
  /**
   * Whether the message `inlet` is handling now may have been handled
   * before, by an incarnation of the receiver that is gone.
   */
  redelivered?(inlet: Inlet): boolean;
  /**
   * Resolves once every message `inlet` handled counts as handled (its
   * outputs handled downstream, where that is what counting waits for), so
   * that every credit is back when its actor says it is done.
   */
  drained?(inlet: Inlet): Promise<void>;
}
