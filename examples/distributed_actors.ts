/**
 * The actors of `examples/distributed.ts`: a module of their own, which
 * every process of the run imports (the coordinator and each worker
 * process check that they run the same one).
 *
 * @module
 */

import { Actor } from "../mod.ts";

/** Sends the numbers 1 … count. */
export class Numbers extends Actor<never, number> {
  count = 10_000;
  override async loop(): Promise<void> {
    for (let x = 1; x <= this.count; x++) await this.send(x);
  }
}

/** Squares each number, saying which process did it. */
export class Square extends Actor<number, { y: number; pid: number }> {
  override recv(x: number): Promise<void> {
    return this.send({ y: x * x, pid: Deno.pid });
  }
}

/** Adds everything up and reports the sum and the processes seen. */
export class Sum extends Actor<{ y: number; pid: number }> {
  sum = 0;
  pids: number[] = [];
  override recv({ y, pid }: { y: number; pid: number }): void {
    this.sum += y;
    if (!this.pids.includes(pid)) this.pids.push(pid);
  }
  override shutdown(): void {
    this.report({ sum: this.sum, pids: this.pids });
  }
}
