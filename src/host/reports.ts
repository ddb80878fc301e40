/**
 * The queue behind `relay.reports()`: values that actors report, read in the
 * main thread as an async iterable.
 *
 * @module
 */

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
