/**
 * The main thread as the first group: it feeds the first edge from an
 * iterable, an async iterable or a `ReadableStream`, through the same outlet
 * and credits as a source actor, so a full edge holds the input back.
 *
 * @module
 */

import type { SenderEndSpec } from "../common/protocol.ts";
import { openSender } from "../link/ends.ts";
import type { Outlet } from "../link/outlet.ts";

/** What can feed a pipeline from the main thread. */
export type InputSource<T> =
  | Iterable<T>
  | AsyncIterable<T>
  | ReadableStream<T>;

/**
 * Feeds `source` into `outlet`, then sends the pills: when the source ends,
 * or as soon as `signal` aborts (a drain stops the input first, even one
 * that never ends or waits forever). If the source throws, no pill is
 * sent: the outlet is aborted and the promise rejects, so the first group
 * never takes a partial input for a complete one.
 */
export async function feed<T>(
  source: InputSource<T>,
  outlet: Pick<Outlet, "send" | "abort" | "close">,
  signal: AbortSignal,
): Promise<void> {
  const sync = !(Symbol.asyncIterator in source);
  const iterator = sync
    ? (source as Iterable<T>)[Symbol.iterator]()
    : (source as AsyncIterable<T>)[Symbol.asyncIterator]();
  let onAbort = () => {};
  const aborted = new Promise<"aborted">((resolve) => {
    onAbort = () => resolve("aborted");
    signal.addEventListener("abort", onAbort, { once: true });
  });
  let ended = false;
  try {
    while (!signal.aborted) {
      const step = await Promise.race([iterator.next(), aborted]);
      if (step === "aborted") break;
      if (step.done) {
        ended = true;
        break;
      }
      // As for await does: a sync iterable's promises are awaited.
      await outlet.send(sync ? await step.value : step.value);
    }
  } catch (error) {
    ended = true;
    outlet.abort(error);
    throw error;
  } finally {
    signal.removeEventListener("abort", onAbort);
    // Stopped early: let the source release what it holds (a stream's lock).
    if (!ended) Promise.resolve(iterator.return?.()).catch(() => {});
  }
  // A closed (aborted) outlet has failed the run already.
  await outlet.close().catch(() => {});
}

/** The main thread as the sender of the first edge. */
export function inputOutlet(
  end: SenderEndSpec,
  onFailure: (error: unknown) => void,
): Outlet {
  return openSender(end, onFailure);
}
