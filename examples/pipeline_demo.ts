/**
 * The original's larger demo: 3 producers → 10 workers → 5 workers → 1
 * consumer, as named groups (prod, prep, post, cons). Each producer sends ten
 * numbers; each worker takes a while per number and adds ten; the consumer
 * logs how many numbers arrived and their sum (30 numbers, sum 735). The same
 * pipeline is described in `pipeline.yaml` for the command line. In a
 * terminal, one progress bar per group shows how far each has come.
 *
 *     deno run -R examples/pipeline_demo.ts
 *
 * @module
 */

import { group, Relay } from "../mod.ts";
import { AddTen, Consumer, Producer } from "./pipeline_actors.ts";
import { setupLogging } from "./_logging.ts";

function make<T>(count: number, create: () => T): T[] {
  return Array.from({ length: count }, create);
}

if (import.meta.main) {
  await setupLogging();
  const started = performance.now();
  const relay = new Relay({ maxsize: 50, logger: "example" });
  relay.connect({
    prod: make(
      3,
      () => Object.assign(new Producer(), { amount: 10, delay: 0.05 }),
    ),
    prep: make(10, () => Object.assign(new AddTen(), { delay: 0.2 })),
    post: group(make(5, () => Object.assign(new AddTen(), { delay: 0.1 })), {
      maxsize: 10,
    }),
    cons: new Consumer(),
  });
  // One progress bar per group, when standard error is a terminal.
  await relay.start({ progress: true });
  console.log(`took ${((performance.now() - started) / 1000).toFixed(2)} s`);
}
