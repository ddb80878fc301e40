/**
 * Measures RSS in a fresh process and prints it, in bytes: what `n` trivial
 * baton actors or `n` raw workers add while they are all up, per actor
 * (`baton n`, the actors' module importing `actor.ts`; `baton-mod n`, one
 * importing `mod.ts`; `raw n`); or how far a slow consumer of `n` ~1 KB objects
 * lifts it above the idle pipeline (`slow-baton n`, `slow-raw n`).
 * A fresh process per sample because memory freed by terminated workers
 * stays in the process and would be reused by the next sample.
 *
 *     deno run -R bench/rss.ts baton 32
 *
 * @module
 */

import { rssBaton, rssRaw, slowConsumerRss } from "./pipelines.ts";

/** Microseconds the slow consumer spins on each message. */
const SLOW_US = 20;

const [mode, n] = Deno.args;
const count = Number(n);
const modes = ["baton", "baton-mod", "raw", "slow-baton", "slow-raw"];
if (!modes.includes(mode) || !(count >= 2)) {
  throw new TypeError(
    `Cannot measure RSS: expected one of ${
      modes.join(", ")
    } and a count of 2 or more, received ${Deno.args.join(" ")}`,
  );
}
console.log(
  mode === "baton" || mode === "baton-mod"
    ? await rssBaton(count, mode === "baton-mod")
    : mode === "raw"
    ? await rssRaw(count)
    : await slowConsumerRss(
      mode === "slow-baton" ? "baton" : "raw",
      count,
      SLOW_US,
    ),
);
