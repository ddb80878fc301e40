/**
 * The supervision rows of the benchmark suite: what a group's failure
 * policy costs when nothing fails (1→2→1 numbers with `retries` and
 * `onError: "skip"` set, against the same pipeline without them, for a
 * synchronous `recv()` that returns `send()`'s promise and for an `async`
 * one), and what
 * `concurrency` gains for an I/O-bound stage (a `recv()` that awaits a 5 ms
 * timer, with `concurrency: 16` against 1). Both sides are baton, measured
 * in the same rounds by `main.ts`. Rates run from the first send to the
 * last receipt, as in `pipelines.ts`.
 *
 * @module
 */

import { group, type GroupOptions, Relay } from "../mod.ts";
import { Pass, Sink, Source } from "./actors.ts";
import { Board } from "./board.ts";
import { Forward, Sleep } from "./supervision_actors.ts";

/** How the middle stage of {@linkcode runStage} is made and run. */
export interface Stage {
  /** Messages in all. */
  readonly count: number;
  /** Actors of the middle stage. */
  readonly width: number;
  /** Its group's failure policy. */
  readonly policy: GroupOptions;
  /** Given: a stage that awaits a timer of this many ms per message. */
  readonly sleepMs?: number;
  /**
   * The middle stage's `recv()` returns `send()`'s promise (`Forward`)
   * instead of being `async` and awaiting it (`Pass`).
   */
  readonly sync?: boolean;
  /** Given: the sink's group gets this failure policy too. */
  readonly sinkPolicy?: GroupOptions;
}

/**
 * Runs source → middle (`width` actors, with the policy) → sink once, and
 * returns messages per second from the first send to the last receipt.
 */
export async function runStage(stage: Stage): Promise<number> {
  const actors = stage.width + 2;
  const board = Board.create(2);
  const buffer = board.buffer;
  const source = Object.assign(new Source(), {
    board: buffer,
    slot: 0,
    actors,
    count: stage.count,
  });
  const middle = Array.from(
    { length: stage.width },
    () =>
      stage.sleepMs === undefined
        ? Object.assign(stage.sync ? new Forward() : new Pass(), {
          board: buffer,
        })
        : Object.assign(new Sleep(), {
          board: buffer,
          delayMs: stage.sleepMs,
        }),
  );
  const sink = Object.assign(new Sink(), { board: buffer, slot: 1 });
  const relay = new Relay({ logger: "bench" });
  relay.connect({
    source,
    middle: group(middle, stage.policy),
    sink: stage.sinkPolicy === undefined
      ? sink
      : group([sink], stage.sinkPolicy),
  });
  await relay.start();
  const span = board.span();
  if (span.count !== stage.count) {
    throw new Error(
      `Lost messages: sent ${stage.count}, received ${span.count} (supervision)`,
    );
  }
  return stage.count / (span.end - span.start) * 1000;
}
