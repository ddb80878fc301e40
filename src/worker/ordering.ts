/**
 * An actor's side of ordered results (`relay.results({ ordered: true })`;
 * the format and the window: `common/order.ts`). Loaded by the runner only
 * when the run is ordered; the unordered path does not pass through here.
 *
 * - The origin (the first group's one actor) numbers what it sends and
 *   waits while it is a whole window ahead (`OriginGate`).
 * - Every later actor takes `[n, message]` off its inlet, calls `recv()`
 *   with the message, and sends what `recv()` sends under the same number:
 *   one message (a map), or, if it sent none (a filter, a skipped message),
 *   the marker "nothing for #n", which later actors pass on without calling
 *   `recv()`. A second message for one number, or a message sent outside
 *   `recv()` (from `startup()`, `shutdown()`, a callback after `recv()`
 *   returned), fails the actor: it would follow from no one message of the
 *   first group.
 *
 * Which message a send belongs to is the message in hand. With a group's
 * `concurrency` above 1, several are in hand at once, so the number follows
 * each call through its awaits and callbacks in an `AsyncLocalStorage`,
 * loaded (`node:async_hooks`) only then.
 *
 * What ordering wraps (`Ordering.around`) must be one message's whole
 * handling (every attempt, when a group retries), settling when it is over,
 * calling the actor's `recv()` within the call. Running several messages at
 * once, when `concurrency` is above 1, happens outside the wrap: the inlet's
 * handler is concurrency(ordering(attempts(recv))). Where one handler does
 * both (several calls in flight, each with its attempts), it calls `around`
 * for each message, around that message's attempts.
 *
 * @module
 */

import type { SendOptions } from "../actor.ts";
import type { InitMessage } from "../common/protocol.ts";
import {
  type Envelope,
  isNothing,
  type Numbered,
  OriginGate,
  type Send,
} from "../common/order.ts";
import { render } from "../common/values.ts";
import type { Inlet } from "../link/inlet.ts";
import { isPending } from "../link/outlet.ts";

/** One message in hand: its number, and what was sent for it. */
interface Slot {
  readonly n: number;
  readonly message: unknown;
  sent: boolean;
  done: boolean;
}

/** What an actor of an ordered run uses instead of the plain ones. */
export interface Ordering {
  /** The actor's `send()`. */
  readonly send: Send<SendOptions>;
  /**
   * Wraps the inlet's handler, a message's whole handling (absent for the
   * origin, which has none).
   */
  readonly handler?: (
    inlet: Inlet,
    handle: (message: unknown) => unknown,
  ) => (envelope: unknown) => unknown;
  /**
   * Handles one envelope with `handle`: a marker passes on without a call;
   * a numbered message is unwrapped and handed to `handle`, its sends go
   * under its number, and if it sent none, its marker goes on once what
   * `handle` returned settled. Returns what the inlet should await.
   */
  readonly around?: (
    envelope: unknown,
    handle: (message: unknown) => unknown,
  ) => unknown;
}

/** How the runner lets ordering pass markers on and fail the actor. */
export interface OrderingHooks {
  /** Sends on the actor's outlet, uncounted: a marker is no message. */
  readonly forward: (marker: number) => Promise<void>;
  /** Fails the actor, whatever its code does with the error thrown. */
  readonly fail: (error: Error) => void;
}

/**
 * The ordering of an actor, from its init message (which has `order`):
 * `send` is the runtime's plain send.
 */
export async function ordering(
  init: InitMessage,
  send: Send<SendOptions>,
  hooks: OrderingHooks,
): Promise<Ordering> {
  const order = init.order!;
  if (order !== "stage") return { send: new OriginGate(order, send).send };
  let storage: Storage | undefined;
  if (init.policy.concurrency > 1) {
    const { AsyncLocalStorage } = await import("node:async_hooks");
    storage = new AsyncLocalStorage<Slot>();
  }
  const stage = new Stage(init.name, send, hooks, storage);
  return {
    send: stage.send,
    handler: (inlet, handle) => (envelope) =>
      stage.around(envelope, handle, inlet),
    around: (envelope, handle) => stage.around(envelope, handle),
  };
}

/** The part of `AsyncLocalStorage` used here. */
interface Storage {
  run<R>(store: Slot, callback: (message: unknown) => R, message: unknown): R;
  getStore(): Slot | undefined;
}

/** A stage after the origin: passes numbers through `recv()`. */
class Stage {
  readonly #name: string;
  readonly #send: Send<SendOptions>;
  readonly #hooks: OrderingHooks;
  readonly #storage: Storage | undefined;
  /** The message in hand, when one at a time (no storage). */
  #current: Slot | undefined;

  constructor(
    name: string,
    send: Send<SendOptions>,
    hooks: OrderingHooks,
    storage: Storage | undefined,
  ) {
    this.#name = name;
    this.#send = send;
    this.#hooks = hooks;
    this.#storage = storage;
  }

  /** The actor's `send()`: the message goes under the number in hand. */
  readonly send = (message: unknown, options?: SendOptions): Promise<void> => {
    const slot = this.#storage === undefined
      ? this.#current
      : this.#storage.getStore();
    if (slot === undefined || slot.done) {
      this.#refuse(
        `${this.#name} sent a message outside recv() (from startup(), shutdown(), or a callback that ran after its recv() returned), so it follows from no message of the first group; with results({ ordered: true }) send only from recv() and await what recv() starts before it returns, or read the results unordered`,
      );
    }
    if (slot.sent) {
      this.#refuse(
        `${this.#name} sent a second message for message #${slot.n} (counting from 0 in the order the first group sent; ${
          render(slot.message)
        }); with results({ ordered: true }) every actor after the first group sends one message per message it receives (a map) or none (a filter); send what belongs together as one message (an array, for example), or read the results unordered`,
      );
    }
    slot.sent = true;
    const envelope: Numbered = [slot.n, message];
    return this.#send(envelope, options);
  };

  #refuse(text: string): never {
    const error = new Error(`Cannot keep the results in order: ${text}`);
    this.#hooks.fail(error);
    throw error;
  }

  /** One envelope: unwraps, calls `handle`, passes markers on. */
  around(
    item: unknown,
    handle: (message: unknown) => unknown,
    inlet?: Inlet,
  ): unknown {
    const envelope = item as Envelope;
    if (isNothing(envelope)) return this.#hooks.forward(envelope);
    const [n, message] = envelope;
    // Errors show the message, not its envelope.
    if (inlet !== undefined) inlet.current = message;
    const slot: Slot = { n, message, sent: false, done: false };
    let result: unknown;
    if (this.#storage !== undefined) {
      result = this.#storage.run(slot, handle, message);
    } else {
      this.#current = slot;
      try {
        result = handle(message);
      } catch (error) {
        this.#end(slot);
        throw error;
      }
    }
    if (!isPending(result)) return this.#finish(slot);
    return result.then(
      () => this.#finish(slot),
      (error) => {
        this.#end(slot);
        throw error;
      },
    );
  }

  /** The message is handled: a marker goes on if nothing was sent for it. */
  #finish(slot: Slot): Promise<void> | undefined {
    this.#end(slot);
    return slot.sent ? undefined : this.#hooks.forward(slot.n);
  }

  #end(slot: Slot): void {
    slot.done = true;
    if (this.#current === slot) this.#current = undefined;
  }
}
