/**
 * Across processes, with a group's `concurrency` above 1: what a worker
 * process may acknowledge to Redis is the messages handled in delivery
 * order, not the count of calls that ended. A call that ends before an
 * older one still in flight is held back: the `HANDLED` count is the
 * length of the longest prefix of the delivered messages whose handling
 * settled, so an entry is never acknowledged while one of its messages is
 * still in a call (a process that dies then leaves it pending in Redis,
 * and it is delivered again). Loaded by the runner only for such a group.
 *
 * It also unwraps a redelivered message's envelope (`InitMessage.
 * redelivery`) for each call apart: how many times that message was
 * delivered before follows its call through its awaits and retries in an
 * `AsyncLocalStorage`, as the calls' attempts do.
 *
 * @module
 */

import { AsyncLocalStorage } from "node:async_hooks";
import { isPending } from "../link/outlet.ts";

/** The longest prefix of settled calls, in the order they started. */
export class SettledPrefix {
  #next = 0;
  #low = 0;
  readonly #ahead = new Set<number>();
  readonly #advance: () => void;

  /** `advance` is called once for each message the prefix grows by. */
  constructor(advance: () => void) {
    this.#advance = advance;
  }

  /** Numbers a call as it starts. */
  start(): number {
    return this.#next++;
  }

  /** Call `seq` settled: the prefix grows past every settled one after it. */
  settle(seq: number): void {
    if (seq !== this.#low) {
      this.#ahead.add(seq);
      return;
    }
    this.#low++;
    this.#advance();
    while (this.#ahead.delete(this.#low)) {
      this.#low++;
      this.#advance();
    }
  }

  /** Calls started and not yet in the prefix. */
  get open(): number {
    return this.#next - this.#low;
  }
}

/** What the runner gives the attempts, and how it reads a call's past. */
export interface PrefixAround {
  /**
   * Wraps one message's whole handling (`AttemptsHost.around`): unwraps
   * its envelope, runs `inner` (ordering's wrap, or none) around `handle`,
   * and counts it once that settled, in delivery order. A handling that
   * rejects fails the run or restarts the actor, and is never counted.
   */
  readonly around: (
    envelope: unknown,
    handle: (message: unknown) => unknown,
  ) => unknown;
  /** How many times the message of the calling `recv()` was delivered before. */
  readonly before: () => number;
}

/**
 * The wrap for a group with several calls in flight in a worker process;
 * `count` counts one more message handled (and rings the main thread's
 * bell); `mark` is the key of a redelivered message's envelope, if any.
 */
export function prefixAround(
  count: () => void,
  mark: string | undefined,
  inner:
    | ((envelope: unknown, handle: (message: unknown) => unknown) => unknown)
    | undefined,
): PrefixAround {
  const prefix = new SettledPrefix(count);
  const storage = new AsyncLocalStorage<number>();
  return {
    around: (envelope, handle) => {
      const seq = prefix.start();
      let message = envelope;
      let before = 0;
      if (
        mark !== undefined && typeof envelope === "object" &&
        envelope !== null && Object.hasOwn(envelope, mark)
      ) {
        const e = envelope as Record<string, unknown>;
        before = Number(e[mark]) - 1;
        message = e.m;
      }
      const result = storage.run(
        before,
        () => inner === undefined ? handle(message) : inner(message, handle),
      );
      if (!isPending(result)) {
        prefix.settle(seq);
        return result;
      }
      return result.then((value) => {
        prefix.settle(seq);
        return value;
      });
    },
    before: () => storage.getStore() ?? 0,
  };
}
