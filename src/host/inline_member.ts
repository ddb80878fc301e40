/**
 * Inline members: every actor runs in the calling thread, each in an
 * `ActorRunner` of its own, the same runtime a worker runs. The runner and
 * the run still talk over a private `MessageChannel`, and the edges are the
 * same ports and shared credits, so everything a worker does happens inline
 * in the same order: hooks, pills, backpressure, log records, errors,
 * reports. Only the thread differs, and with it what cannot be done here:
 *
 * - The actor is made from its class at hand, so the class need not be
 *   exported; its state still goes through structured clone (the init
 *   message crosses a port), as into a worker.
 * - An error nobody caught (a rejection nobody awaited, a throwing timer)
 *   reaches the calling thread, where any actor could have raised it: while
 *   an inline run is live it fails the run, and says that it cannot tell
 *   which actor raised it. After the run settled, it is the program's.
 * - A synchronous infinite loop, or any code that blocks the thread
 *   (`Atomics.wait`), blocks every actor and the relay itself.
 * - `Deno.exit()` ends the process.
 * - Per-group permissions cannot apply: one thread has one set.
 *
 * The runner's module is loaded here, dynamically, by `prepare()`: the main
 * thread never imports `src/worker/` statically.
 *
 * @module
 */

import type { Actor } from "../actor.ts";
import type { InitMessage, ToWorker } from "../common/protocol.ts";
import { reasonOf } from "./failure.ts";
import type { Member, MemberEvents, MemberHost, MemberSpec } from "./member.ts";

/** What this host needs of the worker runtime's `ActorRunner`. */
interface ActorRunner {
  terminate(): void;
}

/** `ActorRunner`'s constructor, as the dynamic import gives it. */
type Runner = new (port: MessagePort, environment: {
  load(init: InitMessage): Actor<unknown, unknown>;
  close(): void;
}) => ActorRunner;

/** A member in the calling thread. */
export class InlineMember implements Member {
  readonly #control: MessagePort;
  readonly #runner: ActorRunner;
  #terminated = false;

  constructor(spec: MemberSpec, events: MemberEvents, Runner: Runner) {
    const { port1, port2 } = new MessageChannel();
    this.#control = port1;
    port1.onmessage = (event) => events.message(event.data);
    port1.onmessageerror = () =>
      events.failure(
        new Error(`a message from ${spec.name} could not be read`),
      );
    const prototype = Object.getPrototypeOf(spec.actor) as object;
    const runner = new Runner(port2, {
      // The state as it arrived: cloned on its way through the port.
      load: (init) => Object.assign(Object.create(prototype), init.state),
      // Once it answered `stop`, as a worker closes.
      close: () => runner.terminate(),
    });
    this.#runner = runner;
    port1.postMessage(spec.init, [...spec.transfer]);
  }

  post(message: ToWorker, transfer: Transferable[] = []): void {
    if (!this.#terminated) this.#control.postMessage(message, transfer);
  }

  terminate(): void {
    if (this.#terminated) return;
    this.#terminated = true;
    this.#runner.terminate();
    this.#control.close();
  }
}

interface Spawned {
  readonly events: MemberEvents;
  /** Its runtime said `done` or `stopped`: its hooks are over. */
  ended: boolean;
}

/**
 * The host of one inline run: it loads the runner, spawns members in this
 * thread, and, from the first spawn until `close()`, takes the errors that
 * escape actor code on `globalThis`.
 */
export class InlineHost implements MemberHost {
  readonly kind = "inline";
  #Runner: Runner | undefined;
  readonly #spawned: Spawned[] = [];
  #listening = false;
  #closed = false;

  async prepare(): Promise<void> {
    this.#Runner ??= (await import("../worker/runner.ts")).ActorRunner;
  }

  spawn(spec: MemberSpec, events: MemberEvents): InlineMember {
    if (this.#Runner === undefined) {
      throw new Error("Cannot spawn inline: prepare() was not awaited");
    }
    if (spec.permissions !== undefined) {
      throw new TypeError(
        `Cannot start relay: group ${spec.init.group} has its own permissions, which inline mode cannot apply (every actor runs in the calling thread, with its permissions); run it in workers, or leave the group's permissions out`,
      );
    }
    if (!this.#listening && !this.#closed) {
      this.#listening = true;
      globalThis.addEventListener("error", this.#onError);
      globalThis.addEventListener("unhandledrejection", this.#onRejection);
    }
    const spawned: Spawned = { events, ended: false };
    this.#spawned.push(spawned);
    return new InlineMember(spec, {
      message: (data) => {
        const kind = (data as { kind?: unknown } | null)?.kind;
        if (kind === "done" || kind === "stopped") spawned.ended = true;
        events.message(data);
      },
      failure: (error, exited) => events.failure(error, exited),
    }, this.#Runner);
  }

  close(): void {
    this.#closed = true;
    if (!this.#listening) return;
    this.#listening = false;
    globalThis.removeEventListener("error", this.#onError);
    globalThis.removeEventListener("unhandledrejection", this.#onRejection);
  }

  readonly #onError = (event: ErrorEvent): void => {
    event.preventDefault();
    this.#uncaught(event.error ?? new Error(event.message));
  };

  readonly #onRejection = (event: PromiseRejectionEvent): void => {
    event.preventDefault();
    this.#uncaught(event.reason);
  };

  /**
   * Fails the run with an error that escaped actor code. Every actor runs
   * in this thread, so the one that raised it cannot be told apart: the run
   * is failed through the first actor still running (else the first one),
   * and the message says so.
   */
  #uncaught(reason: unknown): void {
    const blamed = this.#spawned.find((s) => !s.ended) ?? this.#spawned[0];
    if (blamed === undefined) return;
    blamed.events.failure(
      new Error(
        `an error nobody caught reached the calling thread (${
          reasonOf(reason)
        }); in inline mode every actor runs in that thread, so the actor that raised it cannot be told apart (the relay names the first actor still running); the cause's stack shows where it was raised`,
        { cause: reason },
      ),
    );
  }
}
