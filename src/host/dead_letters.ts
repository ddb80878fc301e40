/**
 * The queue behind `relay.deadLetters()`: the messages actors skipped after
 * their last attempt failed (`onError: "skip"`), read in the main thread.
 * A reader holds the actors back, as `results()` does: each actor may post
 * `DEAD_LETTER_WINDOW` dead letters ahead of what its reader took. Unread,
 * they are acknowledged at once and kept up to {@linkcode DEAD_LETTERS_KEPT}.
 *
 * @module
 */

/** A message an actor skipped after its last attempt at it failed. */
export interface DeadLetter<T = unknown> {
  /** The actor's name. */
  readonly actor: string;
  /** The actor's group. */
  readonly group: string;
  /**
   * The message as `recv()` received it (its rendering, as a string, if
   * `recv()` had made it something that no longer clones).
   */
  readonly message: T;
  /** The error of the last attempt, rebuilt with its class and stack. */
  readonly error: Error;
  /** How many times `recv()` was called with the message. */
  readonly attempts: number;
}

/** Unread dead letters kept when nobody reads them; later ones are counted. */
export const DEAD_LETTERS_KEPT = 1000;

interface Held {
  readonly letter: DeadLetter;
  /** Lets its actor post one more: called when the reader takes it. */
  readonly ack: (() => void) | undefined;
}

/** Dead letters of one relay, for one reader. */
export class DeadLetters implements AsyncIterableIterator<DeadLetter> {
  readonly #held: Held[] = [];
  readonly #waiting: ((result: IteratorResult<DeadLetter>) => void)[] = [];
  #reading = false;
  #ended = false;
  /** Dead letters nobody read and that were not kept. */
  dropped = 0;

  /** Whether a reader holds the actors back. */
  get reading(): boolean {
    return this.#reading;
  }

  /** The reader's iterator; from now on the actors wait for it. */
  read(): this {
    this.#reading = true;
    return this;
  }

  /**
   * Takes a dead letter; `ack` lets its actor post another. Returns
   * whether nobody reads them (then it is acknowledged at once, and kept
   * unless {@linkcode DEAD_LETTERS_KEPT} are already).
   */
  push(letter: DeadLetter, ack: () => void): boolean {
    const reader = this.#waiting.shift();
    if (reader !== undefined) {
      ack();
      reader({ value: letter, done: false });
      return false;
    }
    if (this.#reading && !this.#ended) {
      this.#held.push({ letter, ack });
      return false;
    }
    ack();
    if (this.#held.length < DEAD_LETTERS_KEPT) {
      this.#held.push({ letter, ack: undefined });
    } else this.dropped++;
    return true;
  }

  /** Ends the iteration once what is held was read. */
  end(): void {
    this.#ended = true;
    for (const reader of this.#waiting.splice(0)) {
      reader({ value: undefined, done: true });
    }
  }

  /** The next dead letter, or the end once the run settled. */
  next(): Promise<IteratorResult<DeadLetter>> {
    this.#reading = true;
    const held = this.#held.shift();
    if (held !== undefined) {
      held.ack?.();
      return Promise.resolve({ value: held.letter, done: false });
    }
    if (this.#ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  /** Stops reading: what is held is let go, and the actors wait no more. */
  return(): Promise<IteratorResult<DeadLetter>> {
    for (const held of this.#held.splice(0)) held.ack?.();
    this.#reading = false;
    for (const reader of this.#waiting.splice(0)) {
      reader({ value: undefined, done: true });
    }
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}
