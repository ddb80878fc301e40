/**
 * What ordered results cost: the same pipeline read by the main thread with
 * `relay.results({ ordered: true })` and with `relay.results()`, side by
 * side in the same rounds. The rate runs from the first send (every actor
 * up, `board.ts`) to the last result taken in the main thread.
 *
 * @module
 */

import { group, input, Relay } from "../mod.ts";
import { Pass, Source } from "./actors.ts";
import { Sleep } from "./supervision_actors.ts";
import { Board } from "./board.ts";
import type { Payload, Work } from "./payloads.ts";
import type { Case } from "./report.ts";

/** A pipeline whose last group sends to the main thread. */
interface Shape {
  /** Actors per group after the first (a source, or input()). */
  readonly stages: readonly number[];
  readonly count: number;
  /** The first group: one source actor, or the main thread's input. */
  readonly from: "source" | "input";
  readonly work: Work;
  /** What the source sends (numbers with input()). */
  readonly payload?: Payload;
  /**
   * The middle stages await a timer of this many ms per message (an
   * I/O-bound stage), `concurrency` calls at a time; else they pass on.
   */
  readonly sleepMs?: number;
  readonly concurrency?: number;
  /** The reorder window (default: the relay's). */
  readonly window?: number;
}

/** Runs the pipeline once, ordered or not; messages per second. */
export async function runResults(
  shape: Shape,
  ordered: boolean,
): Promise<number> {
  const middles = shape.stages.reduce((a, b) => a + b, 0);
  // Slot 0: when sending began; slot 1: when the main thread took the last.
  const board = Board.create(2);
  const buffer = board.buffer;
  const groups: unknown[] = [
    shape.from === "source"
      ? Object.assign(new Source(), {
        board: buffer,
        slot: 0,
        actors: 1 + middles,
        count: shape.count,
        payload: shape.payload ?? "number",
      })
      : input<number>(),
    ...shape.stages.map((n) =>
      group(
        Array.from(
          { length: n },
          () =>
            shape.sleepMs === undefined
              ? Object.assign(new Pass(), { board: buffer, work: shape.work })
              : Object.assign(new Sleep(), {
                board: buffer,
                delayMs: shape.sleepMs,
              }),
        ),
        { concurrency: shape.concurrency ?? 1 },
      )
    ),
  ];
  const relay = new Relay({ logger: "bench" });
  (relay as unknown as { connect(...g: unknown[]): void }).connect(...groups);
  const count = shape.count;
  async function* numbers(): AsyncGenerator<number> {
    await board.gather(middles);
    board.started(0);
    for (let i = 0; i < count; i++) yield i;
  }
  let got = 0;
  let inOrder = true;
  const results = relay.results<unknown>({
    ...(shape.from === "input" ? { input: numbers() } : {}),
    ...(ordered ? { ordered: true, window: shape.window } : {}),
  });
  for await (const y of results) {
    // The i-th number is i, the i-th object's id i % 256 (the source
    // cycles through 256); hashing maps them.
    if (shape.work === "none") {
      const id = typeof y === "number" ? y : (y as { id: number }).id;
      if (id !== (typeof y === "number" ? got : got % 256)) inOrder = false;
    }
    if (++got === count) board.ended(1, got);
  }
  const span = board.span();
  if (span.count !== count) {
    throw new Error(`Lost messages: sent ${count}, received ${got}`);
  }
  if (ordered && !inOrder) throw new Error("Ordered results out of order");
  return count / (span.end - span.start) * 1000;
}

/** The cases of ordered results against unordered ones. */
export function orderedCases(
  size: (full: number, tiny: number) => number,
): Case[] {
  const shapes: [string, Shape][] = [
    ["1→2→main numbers", {
      stages: [2],
      count: size(200_000, 5000),
      from: "source",
      work: "none",
    }],
    ["main→2→main numbers", {
      stages: [2],
      count: size(200_000, 5000),
      from: "input",
      work: "none",
    }],
    ["1→2→2→main numbers", {
      stages: [2, 2],
      count: size(100_000, 5000),
      from: "source",
      work: "none",
    }],
    ["1→2→main numbers, window 64", {
      stages: [2],
      count: size(100_000, 2000),
      from: "source",
      work: "none",
      window: 64,
    }],
    ["1→2→main ~1 KB objects", {
      stages: [2],
      count: size(50_000, 1000),
      from: "source",
      work: "none",
      payload: "object",
    }],
    ["1→1→main recv() awaits a 5 ms timer, concurrency 16", {
      stages: [1],
      count: size(3000, 100),
      from: "source",
      work: "none",
      sleepMs: 5,
      concurrency: 16,
    }],
    ["1→2→main hashing 16 KB per message", {
      stages: [2],
      count: size(20_000, 200),
      from: "source",
      work: "hash",
    }],
  ];
  return shapes.map(([name, shape]): Case => ({
    workload: `${name}, ordered results`,
    unit: "msg/s",
    baton: () => runResults(shape, true),
    against: [{
      name: "unordered results",
      run: () => runResults(shape, false),
    }],
  }));
}
