/**
 * The actors of the latency benchmark, and the shared record both sides of
 * it write: a source that sends its clock reading, one message at a time,
 * each only once the sink has the one before; a middle stage that passes it
 * on; a sink that records how long each took. Workers import the actors
 * from this module.
 *
 * @module
 */

import { Actor } from "../mod.ts";
import { now } from "./board.ts";

/**
 * The record of one run: a count of messages received, then each one's
 * latency in milliseconds.
 */
export class LatencyRecord {
  readonly buffer: SharedArrayBuffer;
  readonly #count: Int32Array;
  readonly #latencies: Float64Array;

  static create(messages: number): LatencyRecord {
    return new LatencyRecord(new SharedArrayBuffer(8 + messages * 8));
  }

  constructor(buffer: SharedArrayBuffer) {
    this.buffer = buffer;
    this.#count = new Int32Array(buffer, 0, 1);
    this.#latencies = new Float64Array(buffer, 8);
  }

  /** Records one message, sent at `sentAt` (from `now()`). */
  received(sentAt: number): number {
    const latency = now() - sentAt;
    const i = Atomics.load(this.#count, 0);
    this.#latencies[i] = latency;
    Atomics.store(this.#count, 0, i + 1);
    Atomics.notify(this.#count, 0);
    return i + 1;
  }

  /** Resolves once more than `n` messages were received. */
  async beyond(n: number): Promise<void> {
    for (;;) {
      const result = Atomics.waitAsync(this.#count, 0, n);
      if (!result.async) {
        if (Atomics.load(this.#count, 0) > n) return;
        continue;
      }
      await result.value;
    }
  }

  /** Every latency recorded, in milliseconds, in order. */
  latencies(): number[] {
    return [...this.#latencies.subarray(0, Atomics.load(this.#count, 0))];
  }
}

/**
 * Sends `count` clock readings, each after the previous one arrived. With
 * `startedAt` set it sends that instead, once: the time the main thread
 * called `start()`, so the sink records the first message after `start()`.
 */
export class Ping extends Actor<never, number> {
  record: SharedArrayBuffer | null = null;
  count = 0;
  startedAt = 0;

  override async loop(): Promise<void> {
    if (this.startedAt > 0) {
      await this.send(this.startedAt);
      return;
    }
    const record = new LatencyRecord(this.record!);
    for (let i = 0; i < this.count; i++) {
      await this.send(now());
      await record.beyond(i);
    }
  }
}

/** Passes each reading on. */
export class Hop extends Actor<number, number> {
  override recv(sentAt: number): Promise<void> {
    return this.send(sentAt);
  }
}

/** Records the latency of every message. */
export class Pong extends Actor<number> {
  record: SharedArrayBuffer | null = null;
  _record: LatencyRecord | undefined;

  override startup(): void {
    this._record = new LatencyRecord(this.record!);
  }

  override recv(sentAt: number): void {
    this._record!.received(sentAt);
  }
}
