/**
 * The actors of the supervision benchmarks (`supervision.ts`): a stage whose
 * `recv()` waits on a timer, as an I/O-bound stage waits on a reply, then
 * passes the message on, and a stage that passes messages on with a
 * synchronous `recv()`. Workers import them from this module.
 *
 * @module
 */

import { Actor } from "../mod.ts";
import { Board } from "./board.ts";

/** Awaits a timer of `delayMs` per message, then passes it on. */
export class Sleep extends Actor<unknown, unknown> {
  board: SharedArrayBuffer | null = null;
  delayMs = 5;

  override startup(): void {
    new Board(this.board!).arrive();
  }

  override async recv(message: unknown): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, this.delayMs));
    await this.send(message);
  }
}

/**
 * Passes every message on in the fastest form of `recv()`: not `async`,
 * returning `send()`'s promise (settled and shared when the edge has room).
 */
export class Forward extends Actor<unknown, unknown> {
  board: SharedArrayBuffer | null = null;

  override startup(): void {
    new Board(this.board!).arrive();
  }

  override recv(message: unknown): Promise<void> {
    return this.send(message);
  }
}
