/**
 * 1 → n: one producer, five consumers that each take a second per message.
 * The three messages go to three different consumers, so the run takes about
 * one second, not three.
 *
 *     deno run -R examples/one_to_many.ts
 *
 * @module
 */

import { Actor, Relay } from "../mod.ts";
import { setupLogging } from "./_logging.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class Producer extends Actor<never, number> {
  override async loop(): Promise<void> {
    for (let x = 0; x < 3; x++) await this.send(x);
  }
}

export class Consumer extends Actor<number> {
  override async recv(_x: number): Promise<void> {
    await sleep(1000);
  }
}

if (import.meta.main) {
  await setupLogging();
  const started = performance.now();
  const relay = new Relay({ logger: "example" });
  relay.connect(
    new Producer(),
    Array.from({ length: 5 }, () => new Consumer()),
  );
  await relay.start();
  console.log(`took ${((performance.now() - started) / 1000).toFixed(2)} s`);
}
