/**
 * The layout of a run's live counters: every actor counts what it received
 * and sent, and how long it waited for credit, in a slot of one
 * `SharedArrayBuffer` that the main thread reads whenever it likes, without
 * a single message. Written by the actor's runtime, read by the run.
 *
 * @module
 */

/** Offsets inside an actor's slot. */
export const RECEIVED = 0;
export const SENT = 1;
export const WAITED_MS = 2;
/**
 * Messages whose `recv()` settled: a process that forwards an actor's
 * input from elsewhere (Redis) acknowledges only what was handled.
 */
export const HANDLED = 3;
/** Doubles per actor. */
export const WIDTH = 4;

/** Creates the counters of `actors` actors (and the main thread's two ends). */
export function createStats(actors: number): SharedArrayBuffer {
  return new SharedArrayBuffer(actors * WIDTH * Float64Array.BYTES_PER_ELEMENT);
}

/** Reads actor `index`'s counters. */
export function readStats(
  buffer: SharedArrayBuffer,
  index: number,
): { received: number; sent: number; waitedMs: number; handled: number } {
  const cells = new Float64Array(buffer);
  const base = index * WIDTH;
  return {
    received: cells[base + RECEIVED],
    sent: cells[base + SENT],
    waitedMs: cells[base + WAITED_MS],
    handled: cells[base + HANDLED],
  };
}
