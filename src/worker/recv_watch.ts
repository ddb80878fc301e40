/**
 * The worker's half of the watch on a stuck `recv()`: for a group that
 * restarts its actors on a timeout (`onError: "restart"` with
 * `recvTimeoutMs`), the time each call of `recv()` (each attempt) starts
 * goes into the actor's slot of the shared counters (`common/stats.ts`),
 * and 0 once it settled. A synchronous `recv()` that never returns cannot
 * be interrupted from its own thread, not even by the attempt's own timer;
 * the main thread reads the cell and replaces the worker
 * (`host/restart.ts`). Other groups' actors are left untouched.
 *
 * @module
 */

import type { Actor } from "../actor.ts";
import type { InitMessage } from "../common/protocol.ts";
import { RECV_SINCE, WIDTH } from "../common/stats.ts";
import { isPending } from "../link/outlet.ts";

/** Makes each call of `actor.recv()` write its start and end, if asked. */
export function watchRecv(
  init: InitMessage,
  actor: Actor<unknown, unknown>,
): void {
  const { onError, recvTimeoutMs } = init.policy;
  if (onError !== "restart" || recvTimeoutMs === undefined) return;
  const cells = new Float64Array(init.stats.buffer);
  const at = init.stats.index * WIDTH + RECV_SINCE;
  const clear = () => {
    cells[at] = 0;
  };
  const recv = actor.recv;
  // An own property: whoever calls recv() (each attempt) goes through it.
  Object.defineProperty(actor, "recv", {
    configurable: true,
    value(message: unknown): void | Promise<void> {
      cells[at] = Date.now();
      let result: void | Promise<void>;
      try {
        result = recv.call(actor, message);
      } catch (error) {
        clear();
        throw error;
      }
      if (isPending(result)) return result.finally(clear) as Promise<void>;
      clear();
      return result;
    },
  });
}
