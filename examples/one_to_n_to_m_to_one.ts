/**
 * 1 → n → m → 1: a producer, two workers, three workers, a consumer, with
 * `maxsize: 2`. Every receiver waits for a pill from each of its upstream
 * senders, so the 2 → 3 edge ends cleanly every time.
 *
 *     deno run -R examples/one_to_n_to_m_to_one.ts
 *
 * @module
 */

import { Relay } from "../mod.ts";
import { AddTen, Consumer, Producer } from "./actors.ts";
import { setupLogging } from "./_logging.ts";

if (import.meta.main) {
  await setupLogging();
  const relay = new Relay({ maxsize: 2, logger: "example" });
  relay.connect(
    new Producer(),
    [new AddTen(), new AddTen()],
    [new AddTen(), new AddTen(), new AddTen()],
    new Consumer(),
  );
  await relay.start();
}
