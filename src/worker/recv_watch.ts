/**
 * The worker's half of the watch on a stuck `recv()`: for a group that
 * restarts its actors on a timeout (`onError: "restart"` with
 * `recvTimeoutMs`), the time each `recv()` starts goes into the actor's slot
 * of the shared counters (`common/stats.ts`), and 0 once it settled. A
 * synchronous `recv()` that never returns cannot be interrupted from its own
 * thread; the main thread reads the cell and replaces the worker
 * (`host/restart.ts`). Other groups get their handler back untouched.
 *
 * @module
 */

import type { InitMessage } from "../common/protocol.ts";
import { RECV_SINCE, WIDTH } from "../common/stats.ts";

/** `handle`, writing its start and end into the actor's stats slot if asked. */
export function watchRecv(
  init: InitMessage,
  handle: (message: unknown) => unknown,
): (message: unknown) => unknown {
  const { onError, recvTimeoutMs } = init.policy;
  if (onError !== "restart" || recvTimeoutMs === undefined) return handle;
  const cells = new Float64Array(init.stats.buffer);
  const at = init.stats.index * WIDTH + RECV_SINCE;
  const clear = () => {
    cells[at] = 0;
  };
  return (message) => {
    cells[at] = Date.now();
    let result: unknown;
    try {
      result = handle(message);
    } catch (error) {
      clear();
      throw error;
    }
    if (
      result !== null && typeof result === "object" &&
      typeof (result as Promise<unknown>).then === "function"
    ) {
      return (result as Promise<unknown>).finally(clear);
    }
    clear();
    return result;
  };
}
