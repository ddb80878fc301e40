/**
 * The layout of a run's live counters: every actor counts what it received
 * and sent, how long it waited for credit, its retries and the messages it
 * sent to the dead letters (and the host its restarts), in a slot of one
 * `SharedArrayBuffer` that the main thread reads whenever it likes, without
 * a single message. Written by the actor's runtime, read by the run.
 *
 * @module
 */

/** Offsets inside an actor's slot. */
export const RECEIVED = 0;
/** Items the actor put on its outlet (with an ordered run's markers). */
export const SENT = 1;
export const WAITED_MS = 2;
/** Failed attempts that were tried again (`retries`). */
export const RETRIES = 3;
/** Messages sent to the dead letters (`onError: "skip"`). */
export const SKIPPED = 4;
/** Times the actor was restarted (`onError: "restart"`), counted by the host. */
export const RESTARTS = 5;
/**
 * When the `recv()` in hand started (`Date.now()`), 0 when none is: written
 * only for groups that restart on a timeout (`onError: "restart"` with
 * `recvTimeoutMs`), so the main thread can end a synchronous `recv()` that
 * is stuck, which no code in its own thread can.
 */
export const RECV_SINCE = 6;
/**
 * Messages whose `recv()` settled, counted only in a worker process of a
 * run across processes: it acknowledges to Redis only what was handled.
 */
export const HANDLED = 7;
/**
 * The count of `HANDLED` that the main thread waits for (0: none): the
 * actor's runtime then rings {@linkcode HANDLED_BELL} once it is reached,
 * so a worker process acknowledges an entry as soon as its last message
 * was handled instead of looking every millisecond or two.
 */
export const HANDLED_TARGET = 8;
/** A 32-bit counter (the low half of this double) to `Atomics.waitAsync` on. */
export const HANDLED_BELL = 9;
/**
 * Of what `SENT` counts, the markers "nothing for #n" of an ordered run
 * (`common/order.ts`), which are no messages: `sent` in the metrics leaves
 * them out, while a worker process waits for them as for every item the
 * actor put on its outlet before it acknowledges what they came from.
 */
export const MARKERS = 10;
/** Doubles per actor. */
export const WIDTH = 11;

/** The index of actor cell `cell` as a 32-bit cell, for `Atomics`. */
export const int32Cell = (cell: number): number =>
  cell * (Float64Array.BYTES_PER_ELEMENT / Int32Array.BYTES_PER_ELEMENT);

/** Creates the counters of `actors` actors (and the main thread's two ends). */
export function createStats(actors: number): SharedArrayBuffer {
  return new SharedArrayBuffer(actors * WIDTH * Float64Array.BYTES_PER_ELEMENT);
}

/** When actor `index`'s `recv()` in hand started, 0 for none. */
export function recvSince(buffer: SharedArrayBuffer, index: number): number {
  return new Float64Array(buffer)[index * WIDTH + RECV_SINCE];
}

/** Clears actor `index`'s `recv()` start (its worker is being replaced). */
export function clearRecvSince(buffer: SharedArrayBuffer, index: number): void {
  new Float64Array(buffer)[index * WIDTH + RECV_SINCE] = 0;
}

/** Reads actor `index`'s counters. */
export function readStats(
  buffer: SharedArrayBuffer,
  index: number,
): {
  received: number;
  sent: number;
  waitedMs: number;
  retries: number;
  skipped: number;
  restarts: number;
  handled: number;
} {
  const cells = new Float64Array(buffer);
  const base = index * WIDTH;
  return {
    received: cells[base + RECEIVED],
    sent: cells[base + SENT] - cells[base + MARKERS],
    waitedMs: cells[base + WAITED_MS],
    retries: cells[base + RETRIES],
    skipped: cells[base + SKIPPED],
    restarts: cells[base + RESTARTS],
    handled: cells[base + HANDLED],
  };
}
