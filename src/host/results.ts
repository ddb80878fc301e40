/**
 * The main thread as the last group: what the last group sends, read as an
 * async iterable through the same inlet and credits as a receiving actor,
 * so a slow reader holds the pipeline back.
 *
 * @module
 */

import type { ReceiverEndSpec } from "../common/protocol.ts";
import type { RelinkSpec } from "../common/protocol.ts";
import { openReceiver, relinkEnd } from "../link/ends.ts";
import type { Inlet } from "../link/inlet.ts";
import type { Reorder } from "./reorder.ts";

/**
 * The main thread as the receiver of the last edge: an async iterable of the
 * last group's messages. The iteration ends when every actor of the last
 * group sent its pill and the relay settled; it throws if the relay failed.
 */
export class Results<T> implements AsyncIterableIterator<T> {
  readonly #inlet: Inlet;
  readonly #settled: Promise<unknown>;
  readonly #waiting: {
    resolve: (result: IteratorResult<T>) => void;
    reject: (reason: unknown) => void;
  }[] = [];
  #offer: { value: T; take: () => void } | undefined;
  #ended = false;
  #failed = false;
  #onReturn: () => void;
  /** With ordered results: where messages wait for their turn. */
  readonly #reorder: Reorder | undefined;

  constructor(
    end: ReceiverEndSpec,
    settled: Promise<unknown>,
    onReturn: () => void,
    reorder?: Reorder,
  ) {
    this.#inlet = openReceiver(end);
    this.#settled = settled;
    this.#onReturn = onReturn;
    this.#reorder = reorder;
    // A failed run must not leave a reader waiting.
    settled.catch((error) => {
      this.#failed = true;
      for (const reader of this.#waiting.splice(0)) reader.reject(error);
    });
  }

  /** Starts taking messages off the wires; resolves after the last pill. */
  async run(): Promise<void> {
    const reorder = this.#reorder;
    await this.#inlet.run(
      reorder === undefined
        ? (message) => this.#deliver(message as T)
        : (envelope) => this.#reorderDeliver(reorder, envelope),
      () => {},
    );
    this.#ended = true;
    for (const reader of this.#waiting.splice(0)) {
      this.#finish().then(reader.resolve, reader.reject);
    }
  }

  #deliver(value: T): void | Promise<void> {
    const reader = this.#waiting.shift();
    if (reader !== undefined) {
      reader.resolve({ value, done: false });
      return;
    }
    // Nobody is reading: hold the message (and so the pipeline) until asked.
    return new Promise((take) => (this.#offer = { value, take }));
  }

  /**
   * Ordered: the message waits for its turn in the buffer, which never
   * holds the inlet (the window holds the origin back instead).
   */
  #reorderDeliver(reorder: Reorder, envelope: unknown): void {
    reorder.put(envelope);
    while (reorder.ready && this.#waiting.length > 0) {
      this.#waiting.shift()!.resolve({
        value: reorder.take() as T,
        done: false,
      });
    }
  }

  async #finish(): Promise<IteratorResult<T>> {
    await this.#settled;
    const leftover = this.#reorder?.leftover();
    if (leftover !== undefined) throw leftover;
    return { value: undefined, done: true };
  }

  /** The next message of the last group. */
  next(): Promise<IteratorResult<T>> {
    const offer = this.#offer;
    if (offer !== undefined) {
      this.#offer = undefined;
      offer.take();
      return Promise.resolve({ value: offer.value, done: false });
    }
    // Ordered, there is never an offer: the buffer holds what came.
    const reorder = this.#reorder;
    if (reorder !== undefined && reorder.ready) {
      return Promise.resolve({ value: reorder.take() as T, done: false });
    }
    if (this.#ended || this.#failed) return this.#finish();
    return new Promise((resolve, reject) => {
      this.#waiting.push({ resolve, reject });
    });
  }

  /** Stops reading: the relay is closed. */
  return(): Promise<IteratorResult<T>> {
    this.#ended = true;
    this.#onReturn();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  /** A sender of the last group restarted: listens to its new incarnation. */
  relink(spec: RelinkSpec): void {
    relinkEnd(this.#inlet, spec);
  }

  /** Closes the wires (and the window: an origin waiting on it gives up). */
  close(): void {
    this.#inlet.close();
    this.#reorder?.close();
  }
}
