/**
 * Every message that crosses between the main thread and an actor's worker,
 * as one union per direction on a literal `kind`. Plain data only: these
 * objects go through structured clone.
 *
 * Data between actors does not appear here: it travels worker to worker over
 * links (see `src/link/`), never through the main thread.
 *
 * @module
 */

import type { LogLevel, LogRecord } from "@logtape/logtape";
import type { OriginSpec } from "./order.ts";

/** The phases of an actor's life, as named in errors. */
export type Phase =
  | "load"
  | "startup"
  | "loop"
  | "recv"
  | "send"
  | "shutdown"
  /** The main thread's input (`start({ input })`, `relay.stream()`). */
  | "input";

/**
 * One end of an edge as handed to the thread that opens it, whatever the
 * transport (see `link/transport.ts`): plain data that survives structured
 * clone, its transferables (listed by the transport) moving with it. A
 * transport extends it with what it needs to open the end (ports, a
 * stream's key, ...).
 */
export interface EdgeEnd {
  /** The name of the transport that made the end, which opens it. */
  readonly transport: string;
  readonly role: "sender" | "receiver";
  /** This end's index among the edge's senders, or receivers. */
  readonly index: number;
  /** How many actors send on the edge. */
  readonly senders: number;
  /** How many actors receive on the edge. */
  readonly receivers: number;
  /** The edge's bound: messages in flight at most. */
  readonly maxsize: number;
}

/** A sender's end of an edge. */
export interface SenderEndSpec extends EdgeEnd {
  readonly role: "sender";
}

/** A receiver's end of an edge. */
export interface ReceiverEndSpec extends EdgeEnd {
  readonly role: "receiver";
}

/**
 * What a live end of an edge is handed when a peer across the edge
 * restarted (see `link/transport.ts`, "Restarts"): a fresh link to the
 * peer's new incarnation. Plain data like an end spec, its transferables
 * listed by its transport.
 */
export interface RelinkSpec {
  /** The name of the transport that made the edge. */
  readonly transport: string;
  /**
   * The end it is for: a sender (its receiver `peer` restarted: replay to
   * it what it had not handled) or a receiver (its sender `peer` restarted:
   * listen to it anew).
   */
  readonly role: "sender" | "receiver";
  /** The index of the peer that restarted, across the edge. */
  readonly peer: number;
}

/**
 * The only message on a worker's global port: the private control port
 * every later message travels on, in both directions.
 */
export interface ConnectMessage {
  readonly control: MessagePort;
}

/**
 * What an actor does when handling a message fails: its group's options
 * (see `GroupOptions` in `topology.ts`), defaults applied.
 */
export interface Policy {
  /** More attempts after the first one. */
  readonly retries: number;
  /** Wait before the first retry, in ms; doubled for each later one. */
  readonly backoffMs: number;
  readonly onError: "fail" | "skip" | "restart";
  /** For `"restart"`: more than `max` within `withinMs` fails the run. */
  readonly restarts: { readonly max: number; readonly withinMs: number };
  /** A longer `recv()` is a failed attempt; undefined for no limit. */
  readonly recvTimeoutMs: number | undefined;
  /** Most `recv()` calls in flight at once. */
  readonly concurrency: number;
}

/** The main thread's first message on the control port. */
export interface InitMessage {
  readonly kind: "init";
  /** URL of the module that exports the actor's class. */
  readonly module: string;
  /** Name of the class (its export name). */
  readonly className: string;
  /** The actor's own fields, copied from the main thread. */
  readonly state: Record<string, unknown>;
  readonly name: string;
  readonly group: string;
  /** LogTape category of the actor's records, before group and name. */
  readonly category: readonly string[];
  /** Lowest level the main thread emits for the actor; null for none. */
  readonly logLevel: LogLevel | null;
  /**
   * Lowest level the main thread emits for the actor's lifecycle lines
   * (category, then `lifecycle`, group and name); null for none.
   */
  readonly lifecycleLevel: LogLevel | null;
  /**
   * Lowest level any logger of the main thread's configuration emits: the
   * worker's own LogTape (when the actor's modules use it) forwards from
   * there, whatever the category, and the main thread filters again.
   */
  readonly forwardLevel: LogLevel | null;
  /** Present for every actor but the first group's. */
  readonly inlet?: ReceiverEndSpec;
  /** Present for every actor but the last group's. */
  readonly outlet?: SenderEndSpec;
  /** What the actor does when handling a message fails. */
  readonly policy: Policy;
  /**
   * Count each handled message in the stats (`HANDLED`): set for the actors
   * whose ends a process bridges to Redis, which acknowledges only those.
   */
  readonly countHandled?: boolean;
  /**
   * Set where a process bridges the actor's inlet to Redis: a message
   * delivered before (an entry a dead process had in hand) arrives as
   * `{ [redelivery]: deliveries, m: message }`, which the runner unwraps,
   * and `this.redelivered` and `this.attempt` say so.
   */
  readonly redelivery?: string;
  /** Whether the group runs with its own permissions (for error hints). */
  readonly sandboxed: boolean;
  /**
   * Only when the main thread reads the results in order (`common/order.ts`):
   * the origin's window, for the first group's one actor; `"stage"` for
   * every later actor.
   */
  readonly order?: OriginSpec | "stage";
  /** The run's shared counters and this actor's slot in them (`stats.ts`). */
  readonly stats: {
    readonly buffer: SharedArrayBuffer;
    readonly index: number;
  };
  /**
   * How long the actor's inlet may spin for the next post once its queue ran
   * dry, in milliseconds (`Inlet.idleSpinMs`); absent: it parks at once.
   */
  readonly idleSpinMs?: number;
  /** How many times the actor was restarted before this start (0 or absent: never). */
  readonly restarts?: number;
}

/** Main thread → worker. */
export type ToWorker =
  | InitMessage
  /** Stop the sources: the actor's signal aborts with `reason`. */
  | { readonly kind: "abort"; readonly reason: unknown }
  /**
   * Another actor failed: abort the actor's signal, reject its pending
   * sends, then answer `stopped` (after every log record) and close.
   */
  | { readonly kind: "stop"; readonly reason: string }
  /** A peer across one of the actor's edges restarted: relink that end. */
  | { readonly kind: "relink"; readonly spec: RelinkSpec }
  /**
   * The main thread took one of the actor's dead letters (its reader read
   * it, or nobody reads them): the actor may post one more.
   */
  | { readonly kind: "deadAck" };

/** An error as data: Errors lose their class across threads, so we keep it. */
export interface ErrorData {
  readonly name: string;
  /** The constructor's name, when it differs from `name`. */
  readonly className?: string;
  readonly message: string;
  readonly stack?: string;
  readonly cause?: ErrorData | { readonly value: unknown };
  /** Other own properties that clone (`code`, `errno`, ...). */
  readonly props?: Record<string, unknown>;
  /** The errors of an `AggregateError`. */
  readonly errors?: readonly ErrorData[];
}

/**
 * A call to an actor's logger, forwarded as data: the main thread replays it
 * on LogTape's logger of the same category (see `host/log_replay.ts`).
 */
export interface LogCall {
  readonly category: readonly string[];
  readonly level: LogLevel;
  /** When the call was made, in the worker: `Date.now()` there. */
  readonly timestamp: number;
  /** The logger's contextual properties (from `with()`), lazy ones resolved. */
  readonly properties: Record<string, unknown>;
  /**
   * Whether `args` are a tagged template, the strings first (from a template
   * call or a callback given the template prefix); else they are passed
   * again as they are.
   */
  readonly template: boolean;
  /** The arguments, functions called: lazy properties are values here. */
  readonly args: readonly unknown[];
}

/** Worker → main thread. */
export type FromWorker =
  /** A record of LogTape itself, when the actor's modules use it directly. */
  | { readonly kind: "log"; readonly record: LogRecord }
  /** A call to the actor's logger (`this.log`). */
  | { readonly kind: "call"; readonly call: LogCall }
  | { readonly kind: "phase"; readonly phase: Phase }
  | {
    readonly kind: "error";
    readonly phase: Phase;
    readonly error: ErrorData;
    /** A short rendering of the message in hand, for recv. */
    readonly summary?: string;
    /** The key path of the value that could not be cloned, for send. */
    readonly path?: string;
    /** What to do about it (a flag or an option to grant), if known. */
    readonly hint?: string;
    /** The actor's module, for load. */
    readonly module?: string;
    /** How many times `recv()` was called with the message in hand. */
    readonly attempts?: number;
    /**
     * The last attempt at a message failed in a group whose `onError` is
     * `"restart"`: the actor waits, its message in hand, to be restarted.
     */
    readonly restart?: boolean;
  }
  /**
   * A message the actor skipped after its last attempt failed, under
   * `onError: "skip"`; the main thread answers `deadAck`.
   */
  | {
    readonly kind: "dead";
    /** The message, or its rendering if it no longer clones. */
    readonly message: unknown;
    readonly error: ErrorData;
    readonly attempts: number;
  }
  /**
   * The actor shut down and sent its pills; `pills` is how many it
   * received (every upstream sender's, for a receiver; 0 for a source).
   */
  | { readonly kind: "done"; readonly pills: number }
  /** The worker is closing itself (`Deno.exit()` or `self.close()`). */
  | { readonly kind: "exit"; readonly how: string }
  /** Answer to `stop`: every record the actor logged was posted before this. */
  | { readonly kind: "stopped" }
  /** A value the actor passed to `report()`. */
  | { readonly kind: "report"; readonly value: unknown };
