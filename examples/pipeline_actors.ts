/**
 * The actors of `pipeline.yaml`, the original's larger demo: producers of
 * numbers, two stages of workers that each add ten, and a consumer that
 * sums what arrives. Their fields (`amount`, `delay`) are set from the
 * file's `with:`; delays are in seconds, as in the original.
 *
 *     deno task pipeline examples/pipeline.yaml
 *
 * @module
 */

import { Actor } from "../mod.ts";

const sleep = (seconds: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, seconds * 1000));

/** Sends `amount` numbers, waiting `delay` seconds before each. */
export class Producer extends Actor<never, number> {
  amount = 3;
  delay = 0;

  override async loop(): Promise<void> {
    for (let x = 0; x < this.amount; x++) {
      if (this.signal.aborted) return;
      await sleep(this.delay);
      await this.send(x);
    }
  }
}

/** Takes `delay` seconds per number, then passes on the number plus ten. */
export class AddTen extends Actor<number, number> {
  delay = 1;

  override async recv(x: number): Promise<void> {
    await sleep(this.delay);
    await this.send(x + 10);
  }
}

/** Takes `delay` seconds per number; logs how many arrived and their sum. */
export class Consumer extends Actor<number> {
  delay = 0;
  count = 0;
  sum = 0;

  override async recv(x: number): Promise<void> {
    await sleep(this.delay);
    this.count++;
    this.sum += x;
  }

  override shutdown(): void {
    this.log.info("consumed {count} numbers, sum {sum}", {
      count: this.count,
      sum: this.sum,
    });
  }
}
