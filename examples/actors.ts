/**
 * The actors of the notebook's cells: a producer of three numbers, a consumer
 * and an adder (`AddTen`) that each take a second per message. The
 * topology examples import them from here; `one_to_one.ts` shows actors
 * defined in the script itself instead.
 *
 * @module
 */

import { Actor } from "../mod.ts";

/** Resolves after `ms` milliseconds. */
export const sleep = (ms: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, ms));

/** Sends 0, 1 and 2. */
export class Producer extends Actor<never, number> {
  override async loop(): Promise<void> {
    for (let x = 0; x < 3; x++) await this.send(x);
  }
}

/** Takes a second per message (`ms`: the tests take less). */
export class Consumer extends Actor<number> {
  ms = 1000;
  override async recv(_x: number): Promise<void> {
    await sleep(this.ms);
  }
}

/**
 * Takes a second per message (`ms`: the tests take less), then passes on
 * the message plus ten.
 */
export class AddTen extends Actor<number, number> {
  ms = 1000;
  override async recv(x: number): Promise<void> {
    await sleep(this.ms);
    await this.send(x + 10);
  }
}
