/**
 * 1 → 1: one producer, one consumer, with the actors defined in this very
 * script. Workers import the script to find the classes, so the code that
 * builds the relay is guarded by `import.meta.main`. About three seconds.
 *
 *     deno run -R examples/one_to_one.ts
 *
 * @module
 */

import { Actor, Relay } from "../mod.ts";
import { setupLogging } from "./_logging.ts";

export class Producer extends Actor<never, number> {
  override async loop(): Promise<void> {
    for (let x = 0; x < 3; x++) await this.send(x);
  }
}

export class Consumer extends Actor<number> {
  /** Milliseconds per message (the tests take less). */
  ms = 1000;
  override async recv(_x: number): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, this.ms));
  }
}

if (import.meta.main) {
  await setupLogging();
  const relay = new Relay({ logger: "example" });
  relay.connect(new Producer(), new Consumer());
  await relay.start();
}
