/**
 * Replay for the port transport: what lets an actor of a restarting group
 * (`onError: "restart"`) be replaced by a new incarnation without losing the
 * messages its old one held (see "Restarts" in `../transport.ts`). Used only
 * on edges made restartable; every other edge is the plain one of
 * `transport.ts`, untouched.
 *
 * - Where the receivers may restart, a sender keeps each batch it posted on
 *   a link until the receiver has handled it, told by a per-link counter in
 *   shared memory (`HANDLED`); those messages are copied, never
 *   transferred, so that they can be posted again. When a receiver
 *   restarts, the run hands every sender a fresh port to its new
 *   incarnation, and the sender posts on it, in order, every message that
 *   was not handled, then its pill if it had sent it.
 * - Such a receiver counts a message handled (and gives back its credit)
 *   only once its handler settled and the outlet it sends on posted what
 *   the handler sent (and, where that outlet keeps what it posted, once
 *   the receivers downstream handled it): so a message whose outputs died
 *   with the worker is replayed, not lost. Replayed messages keep the
 *   credits they hold. It counts at the next message it takes, or when its
 *   queue runs dry, with no promise per message: a restarting group
 *   handles one message at a time.
 * - Where only the senders restart, the receiver gives credits back as on
 *   a plain edge and keeps no count: what a sender posted is in the
 *   receiver's queue, and outlives it.
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

import type { Inlet } from "../inlet.ts";
import type { Outlet } from "../outlet.ts";
import { returnCredits, SharedReceiverCredit } from "./credit.ts";
import {
  createReplayCells,
  type PortRelink,
  type ReplayEnd,
  type ReplayLayout,
} from "./replay_cells.ts";
import { ReplayInlet } from "./replay_receiver.ts";
import { sendWiresOf } from "./replay_sender.ts";

export { ReplayLayout } from "./replay_cells.ts";
export type { PortRelink, ReplayEnd } from "./replay_cells.ts";
export { openReplayReceiver, ReplayInlet } from "./replay_receiver.ts";
export { openReplaySender } from "./replay_sender.ts";

export function relinkEnd(end: Outlet | Inlet, spec: PortRelink): void {
  if (spec.role === "sender") {
    const wires = sendWiresOf(end as Outlet);
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
  readonly #restart: { senders: boolean; receivers: boolean };

  constructor(
    layout: ReplayLayout,
    credit: SharedArrayBuffer,
    maxsize: number,
    restart: { senders: boolean; receivers: boolean },
  ) {
    this.#maxsize = maxsize;
    this.#restart = restart;
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
    return this.#end(0);
  }

  #end(epoch: number): ReplayEnd {
    return {
      cells: this.buffer,
      epoch,
      receiversRestart: this.#restart.receivers,
      sendersRestart: this.#restart.senders,
    };
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
    return { replay: this.#end(epoch), ports, peers, lost };
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
    return { replay: this.#end(epoch), ports, peers, lost };
  }
}
