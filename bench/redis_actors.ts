/**
 * Actors of the benchmarks across processes (`bench/redis.ts`).
 *
 * @module
 */

import { Actor } from "../mod.ts";

/** Milliseconds since the epoch, to a fraction: comparable across processes. */
export const now = (): number => performance.timeOrigin + performance.now();

/** Sends 0 … count-1. */
export class Count extends Actor<never, number> {
  count = 1000;
  override async loop(): Promise<void> {
    for (let i = 0; i < this.count; i++) await this.send(i);
  }
}

/** Passes each number on. */
export class Pass extends Actor<number, number> {
  override recv(x: number): Promise<void> {
    return this.send(x);
  }
}

/** Passes each number on after awaiting a timer of `ms` (an I/O-bound stage). */
export class Nap extends Actor<number, number> {
  ms = 5;
  override async recv(x: number): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, this.ms));
    await this.send(x);
  }
}

/** Counts, and reports when the first and the last message came. */
export class Tally extends Actor<number> {
  n = 0;
  first = 0;
  last = 0;
  override recv(): void {
    if (this.n++ === 0) this.first = now();
    this.last = now();
  }
  override shutdown(): void {
    this.report({ n: this.n, first: this.first, last: this.last });
  }
}

/** Throws on message `at`, saying when. */
export class Throw extends Actor<number, number> {
  at = 1000;
  override recv(x: number): Promise<void> {
    if (x === this.at) throw new Error(`thrown at ${now()}`);
    return this.send(x);
  }
}

/**
 * Sends what it gets on with its process id and a tag of its start: an
 * actor started again (after its process died) has a new tag.
 */
export class Where extends Actor<number, [number, number, string]> {
  tag = "";
  override startup(): void {
    this.tag = crypto.randomUUID();
  }
  override recv(x: number): Promise<void> {
    return this.send([x, Deno.pid, this.tag]);
  }
}
