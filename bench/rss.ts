/**
 * Measures, in a fresh process, the RSS that `n` trivial baton actors or `n`
 * raw workers add while they are all up, per actor, in bytes; prints it.
 * A fresh process per sample because memory freed by terminated workers
 * stays in the process and would be reused by the next sample.
 *
 *     deno run -R bench/rss.ts baton 32
 *
 * @module
 */

import { rssBaton, rssRaw } from "./pipelines.ts";

const [mode, n] = Deno.args;
const count = Number(n);
if (!(mode === "baton" || mode === "raw") || !(count >= 2)) {
  throw new TypeError(
    `Cannot measure RSS: expected "baton" or "raw" and a count of 2 or more, received ${
      Deno.args.join(" ")
    }`,
  );
}
console.log(mode === "baton" ? await rssBaton(count) : await rssRaw(count));
