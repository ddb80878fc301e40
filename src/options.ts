/**
 * The options of a {@linkcode Relay} and of its `start()` and `close()`:
 * types only, so that no thread loads this module to run (the defaults,
 * `DEFAULT_MAXSIZE` and `DEFAULT_SHUTDOWN_TIMEOUT`, are in `relay.ts`).
 *
 * @module
 */

import type { InputSource } from "./host/input.ts";

/** Options of a {@linkcode Relay}. */
export interface RelayOptions {
  /**
   * Most messages in flight on each edge between two groups: a sender waits
   * in `send()` while the edge is full. Default 1024: measured here, a
   * smaller window leaves the wire idle between credit round trips (256
   * runs 1 → 1 numbers at about half the rate), and 1024 messages per edge
   * still bound memory (64 MB per edge for 64 KB messages). A
   * group's own `maxsize` (see `group()`) overrides it for the edge into it.
   */
  maxsize?: number;
  /**
   * The LogTape category under which actors' records are emitted, followed
   * by their group and name. Default `"baton"`.
   */
  logger?: string | readonly string[];
  /**
   * How long an aborted relay lets in-flight messages drain before it
   * terminates the actors still running, in ms. Default 5000; 0 terminates
   * at once; at most 2147483647, the longest timer Deno runs.
   */
  shutdownTimeout?: number;
  /**
   * Runs every actor in the calling thread instead of a Web Worker each,
   * with the same hooks in the same order, the same bounded edges, pills,
   * logs, errors, reports and metrics: for stepping through a pipeline in a
   * debugger and for unit tests. Actors' classes need not be exported; their
   * state is still copied (structured clone), so what works inline works in
   * workers. What one thread cannot do: an actor that blocks it (a
   * synchronous infinite loop) cannot be interrupted, `Deno.exit()` ends the
   * process, an error nobody caught cannot be told apart by actor, and
   * per-group permissions are refused. Default false.
   */
  inline?: boolean;
  /**
   * Spreads the run over processes and machines: `redis({ url, run })` of
   * `@baton/relay/redis`. Groups made with `place: "workers"` then run in
   * worker processes (see `start({ workers })`), the others here. Default:
   * every actor in a Web Worker of this process.
   */
  transport?: RelayTransport;
}

/** The worker processes a run across processes waits for, or starts. */
export type WorkersOption =
  | {
    /** Waits for this many worker processes to join the run. */
    wait: number;
  }
  | {
    /** Starts this many worker processes on this machine. */
    spawn: number;
  };

/**
 * A way to run a relay across processes, made by `redis()` of
 * `@baton/relay/redis`: a relay asks it, once per run, for the host of its
 * members and the transport of its edges.
 */
export interface RelayTransport {
  /** What it is, for messages (`"redis"`). */
  readonly kind: string;
  /** Internal: opens one run. */
  open(run: PlacedRun): OpenedRun;
}

/** What a run across processes is told about its relay. */
export interface PlacedRun {
  /** The groups in order: name, actors, and whether they run on workers. */
  readonly groups: readonly {
    readonly name: string;
    readonly size: number;
    readonly place: "workers" | "here";
    readonly permissions: Deno.PermissionOptions | undefined;
  }[];
  /** The worker processes `start()` was told to wait for or start. */
  readonly workers: WorkersOption | undefined;
}

/** A run across processes, opened: its host, transport, and clean-up. */
export interface OpenedRun {
  /** Internal: where the members run (a `MemberHost`). */
  readonly host: unknown;
  /** Internal: what carries the edges (a link `Transport`). */
  readonly transport: unknown;
  /** Resolves once the run's processes left and its keys are deleted. */
  settled(): Promise<void>;
}

/** Options of {@linkcode Relay.start}. */
export interface StartOptions {
  /**
   * Aborting it cancels the run: every actor is terminated at once, and
   * `start()` rejects promptly with a {@linkcode RelayAbortError}, as an
   * aborted `fetch()` does. With `onAbort: "drain"`, the sources stop and
   * the pipeline drains within the shutdown timeout first, as `close()`
   * does.
   */
  signal?: AbortSignal;
  /**
   * What aborting `signal` does: `"cancel"` (the default) terminates every
   * actor at once; `"drain"` stops the sources and lets what they sent
   * drain within the relay's `shutdownTimeout`, then terminates what is
   * left.
   */
  onAbort?: "cancel" | "drain";
  /**
   * What the main thread feeds the first group, when `connect()` begins with
   * `input()`: an iterable, an async iterable or a `ReadableStream`. The
   * relay reads it as fast as the first edge has room.
   */
  input?: InputSource<unknown>;
  /**
   * Draws one progress bar per group on standard error while the relay runs,
   * if standard error is a terminal; console output (log records) goes above
   * the bars meanwhile. The first group's bar has a total when one is known:
   * `{ total }`, or the length of an array input; later groups' bars count
   * what they took of what was sent to them so far. Default false.
   */
  progress?: boolean | { total?: number };
  /**
   * With a relay's `transport` (across processes): the worker processes
   * that run the groups placed on `"workers"`: `{ wait: n }` waits for `n`
   * to join (`deno run … cli.ts worker --redis URL --run NAME`),
   * `{ spawn: n }` starts `n` on this machine (needs `--allow-run` for
   * Deno's executable).
   */
  workers?: WorkersOption;
}

/**
 * How {@linkcode Relay.results} and {@linkcode Relay.stream} order the
 * output.
 */
export interface OrderOptions {
  /**
   * Yields the last group's messages in the order in which the first group
   * sent the messages they came from (the order of the input, or of the one
   * source actor's sends), whatever the number of actors in each group and
   * their `concurrency`. Every actor after the first group must send one
   * message per message it receives (a map) or none (a filter); an actor
   * that sends a second one, or sends outside `recv()`, fails the run. The
   * first group must be `input()` or a single actor. The messages carry
   * their number, and the first group waits while it is `window` messages
   * ahead of the oldest not yet yielded. Default false.
   */
  ordered?: boolean;
  /**
   * With `ordered`: most messages the first group may be ahead of the oldest
   * one not yet yielded, so most messages held waiting for an older one.
   * Default: the sum of the bounds (`maxsize`) of the run's edges, as many
   * as the pipeline holds in flight. A smaller window holds less and runs
   * slower (1 sends one message at a time through the whole pipeline).
   */
  window?: number;
}

/** Options of {@linkcode Relay.results}. */
export interface ResultsOptions extends StartOptions, OrderOptions {}

/** Options of {@linkcode Relay.stream}. */
export interface StreamOptions
  extends Omit<StartOptions, "input">, OrderOptions {}

/** Options of {@linkcode Relay.close}. */
export interface CloseOptions {
  /**
   * Overrides the relay's `shutdownTimeout` (ms, at most 2147483647); 0
   * terminates at once.
   */
  timeout?: number;
  /** The abort reason (default: an `AbortError` DOMException). */
  reason?: unknown;
}
