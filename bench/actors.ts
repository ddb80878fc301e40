/**
 * The actors of the benchmarks, written as a user would write them: a source
 * that awaits every `send()`, a middle stage whose `recv()` awaits its
 * `send()`, a sink with a synchronous `recv()` (and a slow one, that spins
 * for a while on each message). Workers import them from
 * this module. Every actor checks in on the run's {@linkcode Board} in
 * `startup()`; the source starts its clock only once every actor is up.
 *
 * @module
 */

import { Actor } from "../actor.ts";
import { Board } from "./board.ts";
import {
  hash,
  maker,
  parse,
  type Payload,
  spin,
  warmUp,
  type Work,
} from "./payloads.ts";

/** Sends `count` messages of a payload; with `count` 0 it is a trivial actor. */
export class Source extends Actor<never, unknown> {
  board: SharedArrayBuffer | null = null;
  slot = 0;
  /** Actors in the relay: the source waits for all of them to be up. */
  actors = 1;
  count = 0;
  payload: Payload = "number";

  override startup(): void {
    new Board(this.board!).arrive();
  }

  override async loop(): Promise<void> {
    const board = new Board(this.board!);
    await board.gather(this.actors);
    await board.released();
    board.started(this.slot);
    const n = this.count;
    if (this.payload === "number") {
      for (let i = 0; i < n; i++) await this.send(i);
      return;
    }
    const make = maker(this.payload);
    if (this.payload === "transfer") {
      for (let i = 0; i < n; i++) {
        const bytes = make(i) as Uint8Array<ArrayBuffer>;
        await this.send(bytes, { transfer: [bytes.buffer] });
      }
      return;
    }
    for (let i = 0; i < n; i++) await this.send(make(i));
  }
}

/**
 * Passes every message on, after the run's work on it. The work is called
 * straight from `recv()`, as Piscina's task calls it (`piscina_task.ts`),
 * not through a dispatching function: called through one (`apply()`, as it
 * was), a fresh worker ran `hash` about half as fast for its first ten
 * thousand calls or more (never below 40 µs a call, against 23–31 from
 * `recv()` itself: bench/README.md, "Real work against Piscina").
 * The work is warmed up in `startup()`, before the clock starts, on as many
 * items as each of Piscina's threads is warmed up on.
 */
export class Pass extends Actor<unknown, unknown> {
  board: SharedArrayBuffer | null = null;
  work: Work = "none";

  override startup(): void {
    warmUp(this.work);
    new Board(this.board!).arrive();
  }

  override async recv(message: unknown): Promise<void> {
    const work = this.work;
    await this.send(
      work === "hash"
        ? hash(message as number)
        : work === "parse"
        ? parse(message as string)
        : message,
    );
  }
}

/**
 * {@linkcode Pass} written the other way: a synchronous `recv()` that returns
 * `send()`'s promise instead of awaiting it (see README, "Performance").
 */
export class PassReturn extends Pass {
  override recv(message: unknown): Promise<void> {
    const work = this.work;
    return this.send(
      work === "hash"
        ? hash(message as number)
        : work === "parse"
        ? parse(message as string)
        : message,
    );
  }
}

/** Counts what it receives and records when its last message came. */
export class Sink extends Actor<unknown> {
  board: SharedArrayBuffer | null = null;
  slot = 0;
  received = 0;

  override startup(): void {
    new Board(this.board!).arrive();
  }

  override recv(_message: unknown): void {
    this.received++;
  }

  override shutdown(): void {
    new Board(this.board!).ended(this.slot, this.received);
  }
}

/** A sink that spins `delayUs` microseconds on each message: a slow consumer. */
export class SlowSink extends Sink {
  delayUs = 0;

  override recv(_message: unknown): void {
    spin(this.delayUs);
    this.received++;
  }
}
