/**
 * The host seam: how a run starts an actor somewhere and talks to it. A run
 * never touches a `Worker`; it asks a {@linkcode MemberHost} to spawn a
 * member, posts control messages to it, hears its messages through
 * {@linkcode MemberEvents}, and terminates it. Web Workers
 * (`worker_member.ts`) are one host; inline mode (`inline_member.ts`), which
 * runs every actor in the calling thread, is the other.
 *
 * @module
 */

import type { AnyActor } from "../topology.ts";
import type { InitMessage, ToWorker } from "../common/protocol.ts";

/** What a host needs to start one actor. */
export interface MemberSpec {
  /** The actor's name, for the thread's name and for errors. */
  readonly name: string;
  /**
   * The actor as the main thread made it. A worker rebuilds it from the
   * init message alone; inline mode takes its class from here.
   */
  readonly actor: AnyActor;
  /** The first control message: what to load and the actor's edge ends. */
  readonly init: InitMessage;
  /** What the init message transfers (the edges' ports). */
  readonly transfer: readonly Transferable[];
  /** The group's own Deno permissions, if it has them. */
  readonly permissions: Deno.PermissionOptions | undefined;
}

/** What a member tells the run. */
export interface MemberEvents {
  /**
   * A message on the member's control channel, as it arrived: the run
   * checks its shape before it believes it.
   */
  message(data: unknown): void;
  /**
   * The member failed outside what its runtime reports: an error that
   * escaped it, a message that could not be read, a post on a channel that
   * is not baton's; `exited` when its thread is gone (terminated from
   * outside).
   */
  failure(error: Error, exited?: boolean): void;
}

/** One started actor, as the run sees it. */
export interface Member {
  /**
   * Sends a control message (`abort`, `stop`, `relink`) to the actor's
   * runtime, moving `transfer` with it.
   */
  post(message: ToWorker, transfer?: Transferable[]): void;
  /** Ends the actor now, wherever it is; safe to call twice. */
  terminate(): void;
}

/** Starts members: one kind of place actors run in. */
export interface MemberHost {
  /** `"worker"` or `"inline"`, for logs and errors. */
  readonly kind: "worker" | "inline";
  /** Throws if members cannot start here (a permission, a flag). */
  preflight?(): void;
  /**
   * Called once before the first `spawn()`, which is synchronous: loads
   * what spawning needs (inline mode, the actor runtime).
   */
  prepare?(): Promise<void>;
  /** Starts the actor `spec` describes; its events go to `events`. */
  spawn(spec: MemberSpec, events: MemberEvents): Member;
  /** Called once when the run settled (inline mode removes its listeners). */
  close?(): void;
}
