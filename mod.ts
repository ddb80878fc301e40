/**
 * baton runs pipelines of actors in parallel, each actor in its own Web
 * Worker. Subclass {@linkcode Actor}, wire groups of actors with a
 * {@linkcode Relay}, and start it: adjacent groups are linked worker to worker
 * by bounded queues, shutdown travels as poison pills, and every worker's log
 * records are emitted in the main thread through LogTape.
 *
 * @example One producer, two workers, one consumer
 * ```ts
 * import { Actor, Relay } from "@baton/relay";
 * import assert from "node:assert/strict";
 *
 * class Producer extends Actor<never, number> {
 *   override async loop(): Promise<void> {
 *     for (let x = 0; x < 3; x++) await this.send(x);
 *   }
 * }
 *
 * class AddTen extends Actor<number, number> {
 *   override async recv(x: number): Promise<void> {
 *     await this.send(x + 10);
 *   }
 * }
 *
 * class Consumer extends Actor<number> {
 *   sum = 0;
 *   override recv(x: number): void {
 *     this.sum += x;
 *   }
 *   override shutdown(): void {
 *     this.report(this.sum);
 *   }
 * }
 *
 * // `inline: true` runs every actor in this thread. Without it, each actor
 * // runs in a Web Worker of its own, which imports the actor's class: the
 * // same code runs there once the classes are exported and the relay is
 * // started under `if (import.meta.main) { ... }`.
 * const relay = new Relay({ maxsize: 2, inline: true });
 * relay.connect(new Producer(), [new AddTen(), new AddTen()], new Consumer());
 * const reports = Array.fromAsync(relay.reports<number>());
 * await relay.start(); // resolves when every actor has shut down
 * assert.deepEqual((await reports).map((r) => r.value), [10 + 11 + 12]);
 * ```
 *
 * @module
 */

// Listed here rather than re-exported from actor.ts: a worker whose actor
// imports mod.ts then reads only mod.ts and src/ (a sandboxed group's
// permissions grant those), never another file at the root.
export {
  Actor,
  type Cloneable,
  type Kept,
  type SendOptions,
} from "./src/actor.ts";
export {
  type CloseOptions,
  DEFAULT_MAXSIZE,
  DEFAULT_SHUTDOWN_TIMEOUT,
  type OrderOptions,
  Relay,
  type RelayOptions,
  type ResultsOptions,
  type StartOptions,
  type StreamOptions,
} from "./src/relay.ts";
export type {
  OpenedRun,
  PlacedRun,
  RelayTransport,
  WorkersOption,
} from "./src/options.ts";
export {
  type ActorOf,
  type AnyActor,
  type Chain,
  type ChainStart,
  Group,
  group,
  type GroupLike,
  type GroupOptions,
  type InOf,
  Input,
  input,
  type LastOut,
  type Mismatch,
  type OutOf,
} from "./src/topology.ts";
export {
  RelayAbortError,
  RelayError,
  type RelayErrorOptions,
} from "./src/errors.ts";
export { plainFormatter } from "./src/formatter.ts";
export type { MemberState, Report, RunSnapshot } from "./src/host/run.ts";
export type { EdgeState } from "./src/host/wiring.ts";
export type { InputSource } from "./src/host/input.ts";
export type { DeadLetter } from "./src/host/dead_letters.ts";
export type {
  EdgeMetrics,
  GroupMetrics,
  OrderMetrics,
  RelayMetrics,
} from "./src/metrics.ts";
export type { Phase } from "./src/common/protocol.ts";
// The logging API's types (`Actor.log`, `plainFormatter`): LogTape's shapes.
export type * from "./src/log.ts";
