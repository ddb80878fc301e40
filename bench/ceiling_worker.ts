/**
 * A bare worker for `ceiling.ts`: warms the work up, then, when told, runs
 * Piscina's own task function (`piscina_task.ts`) on its share of the items,
 * 64 at a time, with no messages in between, and posts back how many it did
 * and when it started and finished. (A plain loop calling `hash` ran it at
 * about half the speed for its first ten thousand calls or more, as a
 * dispatching function did: see bench/README.md.)
 *
 * @module
 */

import { maker, warmUp, type Work } from "./payloads.ts";
import { hashMany, parseMany } from "./piscina_task.ts";
import { now } from "./board.ts";

interface Scope {
  onmessage: ((event: MessageEvent) => void) | null;
  postMessage(message: unknown): void;
}

const scope = globalThis as unknown as Scope;

scope.onmessage = (event: MessageEvent) => {
  const { work, from, to, go } = event.data as {
    work: Work;
    from: number;
    to: number;
    go: boolean;
  };
  if (!go) {
    warmUp(work);
    scope.postMessage(null);
    return;
  }
  const make = maker(work === "parse" ? "json" : "number");
  const inputs = Array.from({ length: to - from }, (_, i) => make(from + i));
  let count = 0;
  const started = now();
  for (let i = 0; i < inputs.length; i += 64) {
    const chunk = inputs.slice(i, i + 64);
    count += work === "hash"
      ? hashMany(chunk as number[]).length
      : parseMany(chunk as string[]).length;
  }
  scope.postMessage({ started, ended: now(), count });
};
