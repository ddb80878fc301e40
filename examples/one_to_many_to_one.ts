/**
 * 1 → n → 1: a producer, two workers, a consumer, with at most two messages
 * in flight per edge (`maxsize: 2`). The two workers share the three
 * messages, so the run takes about four seconds rather than six.
 *
 *     deno run -R examples/one_to_many_to_one.ts
 *
 * @module
 */

import { Relay } from "../mod.ts";
import { AddTen, Consumer, Producer } from "./actors.ts";
import { setupLogging } from "./_logging.ts";

if (import.meta.main) {
  await setupLogging();
  const relay = new Relay({ maxsize: 2, logger: "example" });
  relay.connect(new Producer(), [new AddTen(), new AddTen()], new Consumer());
  await relay.start();
}
