/**
 * 1 → n: one producer, five consumers that take a second per message. The
 * three messages go to three different consumers, so the run takes about one
 * second, not three.
 *
 *     deno run -R examples/one_to_many.ts
 *
 * @module
 */

import { Relay } from "../mod.ts";
import { Consumer, Producer } from "./actors.ts";
import { setupLogging } from "./_logging.ts";

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
