/**
 * The main thread's ends of a pipeline: an input that feeds the first group
 * from an iterable, an async iterable or a `ReadableStream`, and results
 * that the last group sends, read as an async iterable. Both use the same
 * links and credits as the edges between workers, so backpressure holds end
 * to end: a slow reader in the main thread holds the pipeline back.
 *
 * @module
 */

import { ReceiverCredit, SenderCredit } from "./credit.ts";
import { grabSize, Inlet, Outlet } from "./link.ts";

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
  ports: MessagePort[],
  cells: SharedArrayBuffer,
  maxsize: number,
  onFailure: (error: unknown) => void,
): Outlet {
  return new Outlet(
    ports,
    new SenderCredit(cells, grabSize(maxsize, 1)),
    onFailure,
  );
}

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

  constructor(
    ports: MessagePort[],
    cells: SharedArrayBuffer,
    maxsize: number,
    settled: Promise<unknown>,
    onReturn: () => void,
  ) {
    this.#inlet = new Inlet(ports, new ReceiverCredit(cells, 0, maxsize));
    this.#settled = settled;
    this.#onReturn = onReturn;
    // A failed run must not leave a reader waiting.
    settled.catch((error) => {
      this.#failed = true;
      for (const reader of this.#waiting.splice(0)) reader.reject(error);
    });
  }

  /** Starts taking messages off the wires; resolves after the last pill. */
  async run(): Promise<void> {
    await this.#inlet.run((message) => this.#deliver(message as T), () => {});
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

  async #finish(): Promise<IteratorResult<T>> {
    await this.#settled;
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

  /** Closes the wires. */
  close(): void {
    this.#inlet.close();
  }
}

/**
 * A queue of values pushed by the relay and read as an async iterable that
 * ends by itself when the relay settles. Unbounded: for reports, which
 * actors send at a pace they choose, not for data.
 */
export class Feed<T> implements AsyncIterableIterator<T> {
  readonly #queue: T[] = [];
  readonly #waiting: ((result: IteratorResult<T>) => void)[] = [];
  #ended = false;

  /** Adds a value for the reader. */
  push(value: T): void {
    const reader = this.#waiting.shift();
    if (reader !== undefined) reader({ value, done: false });
    else this.#queue.push(value);
  }

  /** Ends the iteration once the queue is read. */
  end(): void {
    this.#ended = true;
    for (const reader of this.#waiting.splice(0)) {
      reader({ value: undefined, done: true });
    }
  }

  /** The next value, or the end. */
  next(): Promise<IteratorResult<T>> {
    if (this.#queue.length > 0) {
      return Promise.resolve({ value: this.#queue.shift()!, done: false });
    }
    if (this.#ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  /** Stops reading. */
  return(): Promise<IteratorResult<T>> {
    this.#queue.length = 0;
    this.end();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}
