/**
 * The metrics of a run, as `Relay.metrics()`, `watch()` and `start()` give
 * them: per group and per edge. How they are counted: `common/stats.ts`.
 *
 * @module
 */

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
  /**
   * Calls of `recv()` the group's actors made: one per message received,
   * plus one per retry.
   */
  readonly attempts: number;
  /** Failed attempts at a message that were tried again (`retries`). */
  readonly retries: number;
  /** Messages sent to the dead letters (`onError: "skip"`). */
  readonly skipped: number;
  /** Restarts of the group's actors (`onError: "restart"`). */
  readonly restarts: number;
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

/**
 * Ordered results' reorder buffer and the origin it holds back (the main
 * thread's input, or the first group's one actor), with
 * `results({ ordered: true })` only.
 */
export interface OrderMetrics {
  /** The origin stays fewer than this many messages ahead of `released`. */
  readonly window: number;
  /** Messages the origin numbered (sent) so far. */
  readonly numbered: number;
  /** Messages yielded, or dropped by a filter, in order so far. */
  readonly released: number;
  /** Messages held now, each waiting for an older one. */
  readonly held: number;
  /** Most messages held at once so far: never more than `window`. */
  readonly peakHeld: number;
  /** Times the origin waited because it was a whole window ahead. */
  readonly originWaits: number;
  /** Time the origin spent waiting so, in ms. */
  readonly originWaitedMs: number;
  /** Messages that arrived again and were dropped (a redelivery). */
  readonly duplicates: number;
}

/** A snapshot of a run's metrics. */
export interface RelayMetrics {
  /** Milliseconds since the run started. */
  readonly elapsedMs: number;
  /** Per group, in order. */
  readonly groups: readonly GroupMetrics[];
  /** Per edge, in order. */
  readonly edges: readonly EdgeMetrics[];
  /** With `results({ ordered: true })`: the reorder buffer. */
  readonly order?: OrderMetrics;
}
