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

/** Feeds `source` into `outlet`, then sends the pills. Rejects if the source throws. */
export async function feed<T>(
  source: InputSource<T>,
  outlet: Outlet,
  signal: AbortSignal,
): Promise<void> {
  try {
    for await (const item of source as AsyncIterable<T>) {
      if (signal.aborted) break;
      await outlet.send(item);
    }
  } finally {
    // A closed (aborted) outlet has failed the run already.
    await outlet.close().catch(() => {});
  }
}

/** The main thread as the sender of the first edge. */
export function inputOutlet(
  end: SenderEndSpec,
  onFailure: (error: unknown) => void,
): Outlet {
  return openSender(end, onFailure);
}
