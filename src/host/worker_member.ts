/**
 * Web Worker members: each actor in a module worker of its own, running
 * `src/worker/entry.ts` (named here by URL only), which runs the bootstrap
 * (`src/worker/bootstrap.ts`) from its bundle. The worker gets a
 * private control port in its first message; whatever arrives on its global
 * port after that comes from actor code, not from baton, and fails the
 * actor.
 *
 * @module
 */

import type { ConnectMessage, ToWorker } from "../common/protocol.ts";
import { readAccessHint } from "../common/read_access.ts";
import type { Member, MemberEvents, MemberHost, MemberSpec } from "./member.ts";

/** The script every actor's worker runs. */
const WORKER_URL: URL = new URL("../worker/entry.ts", import.meta.url);

/**
 * Names the worker's script (and through it the bundle) in the program's
 * module graph, which Deno's tools read (`deno cache`, `--cached-only`,
 * `deno compile`, `deno info`): they do not follow `new Worker()`. Never
 * called: importing the script in this thread would make it an actor's
 * worker.
 */
export const bootstrapModule = (): Promise<unknown> =>
  import("../worker/entry.ts");

/** A member in a Web Worker; `worker` is there for fault-injection tests. */
export class WorkerMember implements Member {
  /** The actor's worker. */
  readonly worker: Worker;
  readonly #control: MessagePort;
  #terminated = false;

  constructor(spec: MemberSpec, events: MemberEvents) {
    const worker = new Worker(WORKER_URL, {
      type: "module",
      name: spec.name,
      ...(spec.permissions === undefined
        ? {}
        : { deno: { permissions: spec.permissions } }),
    });
    this.worker = worker;
    const { port1, port2 } = new MessageChannel();
    this.#control = port1;
    port1.onmessage = (event) => events.message(event.data);
    port1.onmessageerror = () =>
      events.failure(
        new Error(
          `a message from ${spec.name} could not be read by the main thread`,
        ),
      );
    worker.onmessage = () =>
      events.failure(
        new Error(
          "posted a message on its worker's global port (self.postMessage); actors pass data with this.send() and values with this.report()",
        ),
      );
    worker.onmessageerror = worker.onmessage;
    // The runtime reports its errors as data; an error event means one
    // escaped it. Without preventDefault() it would end the whole process.
    worker.onerror = (event: ErrorEvent) => {
      event.preventDefault();
      events.failure(new Error(event.message));
    };
    // Whoever terminates the worker, the run must know, or it would wait
    // for pills that never come.
    const terminate = worker.terminate.bind(worker);
    worker.terminate = () => {
      terminate();
      if (!this.#terminated) {
        this.#terminated = true;
        port1.close();
        events.failure(
          new Error(
            "was terminated from outside the relay before it sent its poison pills",
          ),
          true,
        );
      }
    };
    this.#terminate = () => {
      this.#terminated = true;
      port1.close();
      terminate();
    };
    const connect: ConnectMessage = { control: port2 };
    worker.postMessage(connect, [port2]);
    port1.postMessage(spec.init, [...spec.transfer]);
  }

  readonly #terminate: () => void;

  post(message: ToWorker, transfer: Transferable[] = []): void {
    if (!this.#terminated) this.#control.postMessage(message, transfer);
  }

  terminate(): void {
    this.#terminate();
  }
}

/** The host of Web Worker members. */
export const workerHost: MemberHost = {
  kind: "worker",
  preflight: () => checkReadable(WORKER_URL),
  spawn: (spec, events) => new WorkerMember(spec, events),
};

function checkReadable(url: URL): void {
  if (url.protocol !== "file:") return;
  const status = Deno.permissions.querySync({ name: "read", path: url });
  if (status.state !== "granted") {
    throw new Deno.errors.NotCapable(
      `Cannot start relay: its workers load ${url.pathname}, which needs read access; ${readAccessHint()}`,
    );
  }
}
