/**
 * n → 1: three producers, one consumer. The consumer logs each producer's
 * poison pill (`received 1/3 poison pills`) and ends after the third, having
 * handled all nine messages: about nine seconds.
 *
 *     deno run -R examples/many_to_one.ts
 *
 * @module
 */

import { Relay } from "../mod.ts";
import { Consumer, Producer } from "./actors.ts";
import { setupLogging } from "./_logging.ts";

if (import.meta.main) {
  await setupLogging();
  const relay = new Relay({ logger: "example" });
  relay.connect(
    Array.from({ length: 3 }, () => new Producer()),
    new Consumer(),
  );
  await relay.start();
}
