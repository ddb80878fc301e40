/**
 * The main thread's side of ordered results (`relay.results({ ordered: true
 * })`; the format and the window: `common/order.ts`): the reorder buffer
 * the results edge feeds, and what a run sets up for it (the window cell,
 * each actor's part, the input's numbering).
 *
 * @module
 */

import {
  createWindowCell,
  type Envelope,
  isNothing,
  OriginGate,
  type OriginSpec,
  WindowRelease,
} from "../common/order.ts";
import type { InitMessage } from "../common/protocol.ts";
import type { Outlet } from "../link/outlet.ts";
import type { OrderMetrics } from "../metrics.ts";
import type { RunMember } from "./launch.ts";
import type { Edge } from "./wiring.ts";

/** Held for a message the last group sent nothing for (a filter). */
const NOTHING: unique symbol = Symbol("nothing");
/** A free place in the ring. */
const EMPTY: unique symbol = Symbol("empty");

/** The ring's first size: it doubles while a message lands beyond it. */
const FIRST_RING = 1024;

/**
 * Puts the last group's messages back in the order in which the origin
 * numbered them. It takes every message at once (it holds no credit); it
 * never holds more than `window` messages, because the origin numbers none
 * `window` or more ahead of the oldest not yet taken. They wait in a ring
 * indexed by number (a power of two in size, grown up to the window as
 * needed), which costs less per message than a map.
 */
export class Reorder {
  /** The window: the origin stays less than this many messages ahead. */
  readonly window: number;
  readonly #release: WindowRelease;
  #ring: unknown[];
  #mask: number;
  /** The oldest message not yet taken (or dropped). */
  #next = 0;
  #held = 0;
  #peak = 0;
  #duplicates = 0;

  constructor(cell: SharedArrayBuffer, window: number) {
    this.#release = new WindowRelease(cell);
    this.window = window;
    let size = 1;
    while (size < Math.min(window, FIRST_RING)) size *= 2;
    this.#ring = new Array(size).fill(EMPTY);
    this.#mask = size - 1;
  }

  /** Holds what arrived until its turn; drops repeats (a redelivery). */
  put(item: unknown): void {
    const envelope = item as Envelope;
    const nothing = isNothing(envelope);
    const n = nothing ? envelope : envelope[0];
    const ahead = n - this.#next;
    if (ahead < 0) {
      this.#duplicates++;
      return;
    }
    while (ahead > this.#mask) this.#grow();
    const at = n & this.#mask;
    if (this.#ring[at] !== EMPTY) {
      this.#duplicates++;
      return;
    }
    this.#ring[at] = nothing ? NOTHING : envelope[1];
    if (++this.#held > this.#peak) this.#peak = this.#held;
    if (ahead === 0) this.#skip(false);
  }

  /** Doubles the ring, each held message at its place in the new one. */
  #grow(): void {
    const old = this.#ring;
    const ring = new Array(old.length * 2).fill(EMPTY);
    const mask = ring.length - 1;
    for (let n = this.#next; n < this.#next + old.length; n++) {
      ring[n & mask] = old[n & this.#mask];
    }
    this.#ring = ring;
    this.#mask = mask;
  }

  /** Whether the next message in order has arrived. */
  get ready(): boolean {
    return this.#ring[this.#next & this.#mask] !== EMPTY;
  }

  /** Takes the next message in order; call only when {@linkcode ready}. */
  take(): unknown {
    const at = this.#next & this.#mask;
    const value = this.#ring[at];
    this.#ring[at] = EMPTY;
    this.#next++;
    this.#held--;
    this.#skip(true);
    return value;
  }

  /**
   * Drops the markers at the head, then tells the origin how far it may go
   * (if `moved`, or if it dropped any).
   */
  #skip(moved: boolean): void {
    const ring = this.#ring;
    const from = this.#next;
    let at = from & this.#mask;
    while (ring[at] === NOTHING) {
      ring[at] = EMPTY;
      this.#next++;
      this.#held--;
      at = this.#next & this.#mask;
    }
    if (moved || this.#next !== from) this.#release.release(this.#next);
  }

  /**
   * After the last pill: an error if messages are still held, which means
   * an older one never came (a bug: every stage passes every number on).
   */
  leftover(): Error | undefined {
    if (this.#held === 0) return undefined;
    return new Error(
      `Cannot yield the results in order: the run ended with message #${this.#next} missing and ${this.#held} later ones held; every actor passes on a message or a marker for every message it receives, so this is a bug in baton`,
    );
  }

  /** Wakes an origin waiting on the window: the run is over. */
  close(): void {
    this.#release.close();
  }

  /** The buffer's and the origin's counters. */
  metrics(): OrderMetrics {
    const { numbered, waits, waitedMs } = this.#release.counts();
    return {
      window: this.window,
      numbered,
      released: this.#next,
      held: this.#held,
      peakHeld: this.#peak,
      originWaits: waits,
      originWaitedMs: waitedMs,
      duplicates: this.#duplicates,
    };
  }
}

/** What a run needs for ordered results, made once its edges exist. */
export interface RunOrder {
  readonly reorder: Reorder;
  /** Each actor's part: the origin's window, or `"stage"`. */
  part(member: RunMember): InitMessage["order"];
  /** The input's outlet, numbering what the main thread feeds. */
  input(outlet: Outlet): InputOutlet;
}

/** What the input feed needs of an outlet. */
export type InputOutlet = Pick<Outlet, "send" | "abort" | "close">;

/**
 * Sets a run up for ordered results (`input`: the main thread is the
 * origin, else the first group's one actor): the window is `window`, else the sum
 * of the edges' bounds (as many messages as the pipeline can hold in
 * flight, so the window does not slow a pipeline that keeps its order).
 */
export function orderRun(
  window: number | undefined,
  edges: readonly Edge[],
  input: boolean,
): RunOrder {
  const cell = createWindowCell();
  const spec: OriginSpec = {
    cell,
    window: window ?? edges.reduce((sum, e) => sum + e.maxsize, 0),
  };
  return {
    reorder: new Reorder(cell, spec.window),
    part: (member) => !input && member.groupIndex === 0 ? spec : "stage",
    input: (outlet) => {
      const gate = new OriginGate<Transferable[]>(
        spec,
        (message, transfer) => outlet.send(message, transfer),
      );
      return {
        send: gate.send,
        abort: (reason) => outlet.abort(reason),
        close: () => outlet.close(),
      };
    },
  };
}
