/**
 * Live metrics of a run, read without a single message: every actor counts
 * what it received and sent, and how long it waited for credit, in a slot of
 * a `SharedArrayBuffer` that the main thread reads whenever it likes; the
 * edges' credit counters (see `credit.ts`) give what is in flight.
 *
 * @module
 */

/** Offsets inside an actor's slot. */
export const RECEIVED = 0;
export const SENT = 1;
export const WAITED_MS = 2;
/** Doubles per actor. */
export const WIDTH = 3;

/** Creates the counters of `actors` actors (and the main thread's two ends). */
export function createStats(actors: number): SharedArrayBuffer {
  return new SharedArrayBuffer(actors * WIDTH * Float64Array.BYTES_PER_ELEMENT);
}

/** One actor's counters, as seen from its worker. */
export class ActorStats {
  readonly #cells: Float64Array;
  readonly #base: number;

  constructor(buffer: SharedArrayBuffer, index: number) {
    this.#cells = new Float64Array(buffer);
    this.#base = index * WIDTH;
  }

  /** Adds `n` to a counter. */
  add(offset: number, n: number): void {
    this.#cells[this.#base + offset] += n;
  }

  /** Sets a counter. */
  set(offset: number, value: number): void {
    this.#cells[this.#base + offset] = value;
  }
}

/** Reads actor `index`'s counters. */
export function readStats(
  buffer: SharedArrayBuffer,
  index: number,
): { received: number; sent: number; waitedMs: number } {
  const cells = new Float64Array(buffer);
  const base = index * WIDTH;
  return {
    received: cells[base + RECEIVED],
    sent: cells[base + SENT],
    waitedMs: cells[base + WAITED_MS],
  };
}

/** The metrics of one group. */
export interface GroupMetrics {
  /** The group's name. */
  readonly name: string;
  /** Its number of actors. */
  readonly actors: number;
  /** Actors of the group that finished, failed or were stopped. */
  readonly finished: number;
  /** Messages the group's actors took off their queues. */
  readonly received: number;
  /** Messages the group's actors sent. */
  readonly sent: number;
  /** Time the group's actors spent waiting for credit, in ms (backpressure). */
  readonly waitedMs: number;
  /** Failures of the group's actors. */
  readonly errors: number;
}

/** The metrics of one edge, from a group (or the main thread) to the next. */
export interface EdgeMetrics {
  /** The sending group, or `"input"` for the main thread. */
  readonly from: string;
  /** The receiving group, or `"results"` for the main thread. */
  readonly to: string;
  /** The edge's bound. */
  readonly maxsize: number;
  /** Messages sent and not yet taken by a receiver (credits in use). */
  readonly inFlight: number;
  /** Senders waiting for credit right now. */
  readonly waitingSenders: number;
}

/** A snapshot of a run's metrics. */
export interface RelayMetrics {
  /** Milliseconds since the run started. */
  readonly elapsedMs: number;
  /** Per group, in order. */
  readonly groups: readonly GroupMetrics[];
  /** Per edge, in order. */
  readonly edges: readonly EdgeMetrics[];
}
