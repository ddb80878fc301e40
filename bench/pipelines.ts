/**
 * Runs one pipeline once, either with baton or hand-wired over raw
 * `MessageChannel`s, and measures it: the rate between the first send and the
 * last receipt (every worker up, so no start-up in it), and the wall time
 * from `start()` (or the first spawn) to settled.
 *
 * @module
 */

import { group, Relay } from "../mod.ts";
import { Pass, PassReturn, Sink, SlowSink, Source } from "./actors.ts";
import { Board } from "./board.ts";
import type { Payload, Work } from "./payloads.ts";
import type { RawConfig } from "./raw_worker.ts";

/** A pipeline: how many workers per stage, and what flows through it. */
export interface Shape {
  /** Workers per stage: the sources first, the sinks last. */
  readonly stages: readonly number[];
  /** Messages in all, shared out among the sources. */
  readonly count: number;
  readonly payload: Payload;
  /** What the middle stages do to each message. */
  readonly work: Work;
  /** baton's bound per edge (default: the relay's default). */
  readonly maxsize?: number;
  /** The sinks spin this many microseconds on each message (default 0). */
  readonly sinkDelayUs?: number;
  /**
   * How baton's middle stages pass a message on: `recv()` awaits `send()`
   * (`"await"`, the default), or returns its promise (`"return"`).
   */
  readonly recvForm?: "await" | "return";
}

/** What one run measured. */
export interface Measure {
  /** Messages per second from the first send to the last receipt. */
  readonly rate: number;
  /** Milliseconds from `start()` (or the first spawn) to settled. */
  readonly wall: number;
}

const RAW_WORKER = new URL("./raw_worker.ts", import.meta.url);

function share(count: number, parts: number): number[] {
  return Array.from(
    { length: parts },
    (_, i) => Math.floor(count / parts) + (i < count % parts ? 1 : 0),
  );
}

function measure(board: Board, shape: Shape, wall: number): Measure {
  const span = board.span();
  if (span.count !== shape.count) {
    throw new Error(
      `Lost messages: sent ${shape.count}, received ${span.count} (${
        shape.stages.join("→")
      })`,
    );
  }
  return { rate: shape.count / (span.end - span.start) * 1000, wall };
}

/**
 * Runs the pipeline with baton, on `board` if given (one slot per source
 * and sink; held, to look at the run with every actor up).
 */
export async function runBaton(
  shape: Shape,
  board: Board = Board.create(shape.stages[0] + shape.stages.at(-1)!),
): Promise<Measure> {
  const stages = shape.stages;
  const sources = stages[0];
  const sinks = stages[stages.length - 1];
  const actors = stages.reduce((a, b) => a + b, 0);
  const buffer = board.buffer;
  const groups: Record<string, ReturnType<typeof group>> = {};
  groups.source = group(
    share(shape.count, sources).map((count, slot) =>
      Object.assign(new Source(), {
        board: buffer,
        slot,
        actors,
        count,
        payload: shape.payload,
      })
    ),
  );
  for (let s = 1; s + 1 < stages.length; s++) {
    groups[`stage${s}`] = group(
      Array.from(
        { length: stages[s] },
        () =>
          Object.assign(
            shape.recvForm === "return" ? new PassReturn() : new Pass(),
            { board: buffer, work: shape.work },
          ),
      ),
    );
  }
  const delayUs = shape.sinkDelayUs ?? 0;
  groups.sink = group(
    Array.from(
      { length: sinks },
      (_, i) =>
        delayUs > 0
          ? Object.assign(new SlowSink(), {
            board: buffer,
            slot: sources + i,
            delayUs,
          })
          : Object.assign(new Sink(), { board: buffer, slot: sources + i }),
    ),
  );
  const relay = new Relay({ logger: "bench", maxsize: shape.maxsize });
  relay.connect(groups);
  const started = performance.now();
  await relay.start();
  return measure(board, shape, performance.now() - started);
}

/** A raw worker with its end awaited. */
interface Spawned {
  readonly worker: Worker;
  readonly done: Promise<void>;
}

function spawn(): Spawned {
  const worker = new Worker(RAW_WORKER, { type: "module" });
  const done = new Promise<void>((resolve, reject) => {
    worker.onmessage = () => resolve();
    worker.onerror = (event) => {
      event.preventDefault();
      reject(new Error(`raw worker failed: ${event.message}`));
    };
  });
  done.catch(() => {});
  return { worker, done };
}

/** Runs the pipeline hand-wired, `batch` messages per post (on `board`). */
export async function runRaw(
  shape: Shape,
  batch: number,
  board: Board = Board.create(shape.stages[0] + shape.stages.at(-1)!),
): Promise<Measure> {
  const stages = shape.stages;
  const sources = stages[0];
  const actors = stages.reduce((a, b) => a + b, 0);
  const started = performance.now();
  const workers = stages.map((n) => Array.from({ length: n }, spawn));
  const inputs = stages.map((n) =>
    Array.from({ length: n }, () => [] as MessagePort[])
  );
  const outputs = stages.map((n) =>
    Array.from({ length: n }, () => [] as MessagePort[])
  );
  for (let e = 0; e + 1 < stages.length; e++) {
    for (let s = 0; s < stages[e]; s++) {
      for (let r = 0; r < stages[e + 1]; r++) {
        const channel = new MessageChannel();
        outputs[e][s].push(channel.port1);
        inputs[e + 1][r].push(channel.port2);
      }
    }
  }
  const counts = share(shape.count, sources);
  try {
    stages.forEach((n, g) => {
      for (let i = 0; i < n; i++) {
        const config: RawConfig = {
          role: g === 0 ? "source" : g === stages.length - 1 ? "sink" : "relay",
          board: board.buffer,
          slot: g === 0 ? i : sources + i,
          actors,
          count: g === 0 ? counts[i] : 0,
          batch,
          payload: shape.payload,
          work: shape.work,
          inputs: inputs[g][i],
          outputs: outputs[g][i],
          delayUs: shape.sinkDelayUs,
        };
        workers[g][i].worker.postMessage(config, [
          ...config.inputs,
          ...config.outputs,
        ]);
      }
    });
    // Only sinks answer; any worker's error rejects the race.
    const last = stages.length - 1;
    await Promise.race([
      Promise.all(workers[last].map((w) => w.done)),
      ...workers.slice(0, last).flat().map((w) => w.done),
    ]);
  } finally {
    for (const w of workers.flat()) w.worker.terminate();
  }
  return measure(board, shape, performance.now() - started);
}

/**
 * Starts `n` trivial actors with baton: one source, `n - 1` sinks (a relay
 * has two groups at least, so `n` ≥ 2).
 */
export async function startBaton(
  n: number,
  board?: Board,
  classes: { Source: typeof Source; Sink: typeof Sink } = { Source, Sink },
): Promise<number> {
  const b = board ?? Board.create(n);
  const source = Object.assign(new classes.Source(), {
    board: b.buffer,
    actors: n,
    count: 0,
  });
  const relay = new Relay({ logger: "bench" });
  relay.connect({
    source,
    sink: Array.from(
      { length: n - 1 },
      (_, i) =>
        Object.assign(new classes.Sink(), { board: b.buffer, slot: i + 1 }),
    ),
  });
  const started = performance.now();
  await relay.start();
  return performance.now() - started;
}

/** Spawns `n` raw workers, gets a reply from each, terminates them. */
export async function startRaw(n: number): Promise<number> {
  const started = performance.now();
  const workers = Array.from({ length: n }, spawn);
  try {
    for (const w of workers) w.worker.postMessage("ping");
    await Promise.all(workers.map((w) => w.done));
  } finally {
    for (const w of workers) w.worker.terminate();
  }
  return performance.now() - started;
}

const ROOT = new URL("..", import.meta.url).pathname;
const RSS_SCRIPT = new URL("./rss.ts", import.meta.url).pathname;

/**
 * RSS added per actor (`"baton"`) or per raw worker (`"raw"`) while `n` of
 * them are up, or by a slow consumer of `n` objects (`"slow-baton"`,
 * `"slow-raw"`: see {@linkcode slowConsumerRss}), in bytes, measured in a
 * fresh `deno` process (found on PATH).
 */
export async function rssPerWorker(
  mode: "baton" | "baton-mod" | "raw" | "slow-baton" | "slow-raw",
  n: number,
): Promise<number> {
  const { success, stdout, stderr } = await new Deno.Command("deno", {
    args: ["run", `-R=${ROOT}`, RSS_SCRIPT, mode, String(n)],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(stdout).trim();
  if (!success) {
    throw new Error(
      `${RSS_SCRIPT} failed: ${new TextDecoder().decode(stderr)}`,
    );
  }
  return Number(text);
}

/**
 * RSS added per trivial baton actor while `n` of them are up, in bytes; with
 * `mod`, actors whose module imports `mod.ts` (`bench/rss_mod_actors.ts`).
 */
export async function rssBaton(n: number, mod = false): Promise<number> {
  const classes = mod
    ? await import("./rss_mod_actors.ts").then((m) => ({
      Source: m.ModSource,
      Sink: m.ModSink,
    }))
    : undefined;
  const before = Deno.memoryUsage().rss;
  const board = Board.create(n, true);
  const run = startBaton(n, board, classes);
  await board.gather(n);
  const during = Deno.memoryUsage().rss;
  board.release();
  await run;
  return (during - before) / n;
}

/** RSS added per raw worker while `n` of them are up, in bytes. */
export async function rssRaw(n: number): Promise<number> {
  const before = Deno.memoryUsage().rss;
  const workers = Array.from({ length: n }, spawn);
  try {
    for (const w of workers) w.worker.postMessage("ping");
    await Promise.all(workers.map((w) => w.done));
    return (Deno.memoryUsage().rss - before) / n;
  } finally {
    for (const w of workers) w.worker.terminate();
  }
}

/**
 * How far RSS rises above what the idle pipeline holds while a fast source
 * sends `count` ~1 KB objects to a sink that spins `delayUs` µs on each,
 * with baton (at most `maxsize` in flight) or raw (64 per post, no flow
 * control: the sink's queue holds whatever it has not read), in bytes.
 * Sampled every 2 ms; run it in a fresh process (`bench/rss.ts`).
 */
export async function slowConsumerRss(
  mode: "baton" | "raw",
  count: number,
  delayUs: number,
): Promise<number> {
  const shape: Shape = {
    stages: [1, 1],
    count,
    payload: "object",
    work: "none",
    sinkDelayUs: delayUs,
  };
  const board = Board.create(2, true);
  const run = mode === "baton"
    ? runBaton(shape, board)
    : runRaw(shape, 64, board);
  await board.gather(2);
  const before = Deno.memoryUsage().rss;
  let peak = before;
  const timer = setInterval(() => {
    peak = Math.max(peak, Deno.memoryUsage().rss);
  }, 2);
  try {
    board.release();
    await run;
  } finally {
    clearInterval(timer);
  }
  return Math.max(peak, Deno.memoryUsage().rss) - before;
}
