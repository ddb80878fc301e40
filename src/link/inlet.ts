/**
 * The receiver's side of an edge: an {@linkcode Inlet} merges its wires into
 * one FIFO queue, gives credits back as it takes messages, and counts poison
 * pills until every sender's has arrived.
 *
 * @module
 */

import { flushDue, isPending, watchBacklog } from "./outlet.ts";
import {
  PILL,
  type ReceiverCredit,
  type Wire,
  type WireItem,
} from "./transport.ts";

/** A receiver's side of an edge: one FIFO queue fed by every upstream wire. */
export class Inlet {
  readonly #credit: ReceiverCredit;
  readonly #queue: unknown[] = [];
  readonly #wires: Wire[];
  #head = 0;
  /** Messages of the batch in hand after the one awaited (see `run`). */
  #rest = 0;
  #pills = 0;
  #wake: (() => void) | null = null;
  /** The number of upstream senders, so of pills to wait for. */
  readonly senders: number;
  /** The message being handled, for error reports. */
  current: unknown = undefined;
  /**
   * How long, in milliseconds, the thread may spin for the next post once
   * the queue ran dry, before it parks (0: never; the credit must have
   * `spin`). Set by the runner of an actor's worker where every thread of
   * the run can have a core of its own and the group has one `recv()` call
   * in flight at a time (`host/launch.ts`, `idleSpin` and `spinFields`): a
   * fast stage then catches the next batch without parking, its sender
   * posts without the syscall that wakes a parked thread. Never in the
   * main thread, whose event loop must go on.
   */
  idleSpinMs = 0;

  constructor(wires: Wire[], credit: ReceiverCredit) {
    this.#wires = wires;
    this.#credit = credit;
    this.senders = wires.length;
    const deliver = (item: WireItem): void => {
      this.#queue.push(item);
      const wake = this.#wake;
      if (wake !== null) {
        this.#wake = null;
        wake();
      }
    };
    for (const wire of wires) wire.listen(deliver);
  }

  /** Pills received so far. */
  get pills(): number {
    return this.#pills;
  }

  /**
   * Hands every message to `handle`, one at a time, until every sender's pill
   * arrived and every message before them was handled. With `caught`, a
   * handling that throws, or returns a promise that rejects, is given to it
   * with its message (and what it returns awaited) instead of ending the
   * run.
   */
  async run(
    handle: (message: unknown) => unknown,
    onPill: (received: number, expected: number) => void,
    caught?: (error: unknown, message: unknown) => unknown,
  ): Promise<void> {
    const queue = this.#queue;
    const unwatch = watchBacklog(() =>
      this.#rest > 0 || this.#head < queue.length
    );
    try {
      await this.#loop(handle, onPill, caught);
    } finally {
      unwatch();
    }
  }

  async #loop(
    handle: (message: unknown) => unknown,
    onPill: (received: number, expected: number) => void,
    caught: ((error: unknown, message: unknown) => unknown) | undefined,
  ): Promise<void> {
    const queue = this.#queue;
    const credit = this.#credit;
    for (;;) {
      if (this.#head === queue.length) {
        this.#rest = 0;
        credit.flush();
        queue.length = 0;
        this.#head = 0;
        if (this.#pills === this.senders) return;
        // Idle: what the actor sent need not wait for its flush.
        flushDue();
        if (this.idleSpinMs > 0) credit.spin?.(this.idleSpinMs);
        await new Promise<void>((resolve) => (this.#wake = resolve));
        continue;
      }
      const item = queue[this.#head];
      queue[this.#head++] = undefined;
      if (item === PILL) {
        onPill(++this.#pills, this.senders);
        continue;
      }
      const batch = item as unknown[];
      for (let i = 0; i < batch.length; i++) {
        const message = batch[i];
        this.current = message;
        credit.took();
        let result: unknown;
        if (caught === undefined) result = handle(message);
        else {
          // The handler's failure, given to `caught` here rather than by a
          // wrapper of the handler's own per message; what `caught`
          // returns is awaited, never caught again.
          try {
            result = handle(message);
          } catch (error) {
            const again = caught(error, message);
            if (isPending(again)) {
              this.#rest = batch.length - 1 - i;
              await again;
            }
            continue;
          }
        }
        // A send() that had room returns RESOLVED: no need to yield for it.
        if (isPending(result)) {
          this.#rest = batch.length - 1 - i;
          if (caught === undefined) await result;
          else {
            try {
              await result;
            } catch (error) {
              const again = caught(error, message);
              if (isPending(again)) await again;
            }
          }
        }
      }
      this.current = undefined;
    }
  }

  /** Closes every wire. */
  close(): void {
    for (const wire of this.#wires) wire.close();
  }
}
