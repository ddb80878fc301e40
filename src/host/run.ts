/**
 * One run of a relay: spawns a worker per actor, wires the edges between
 * them, watches every worker, and settles once, when every actor finished,
 * one failed, or the run was aborted. Whatever the outcome, every worker is
 * terminated before the run settles.
 *
 * @module
 */

import type { Actor } from "../actor.ts";
import { fromErrorData } from "../common/error_data.ts";
import type {
  EdgeEnd,
  FromWorker,
  InitMessage,
  Phase,
} from "../common/protocol.ts";
import { createStats, readStats } from "../common/stats.ts";
import { cloneableOrText } from "../common/values.ts";
import { RelayAbortError, RelayError } from "../errors.ts";
import { createCells, readCells } from "../link/port/credit.ts";
import type { Outlet } from "../link/outlet.ts";
import type { GroupMetrics, RelayMetrics } from "../metrics.ts";
import { type ActorSpec, describe } from "./describe.ts";
import { feed, inputOutlet, type InputSource } from "./input.ts";
import {
  emitForwarded,
  lowestLevel,
  relayLogger,
  replayCall,
} from "./log_replay.ts";
import { checkWorkerOptions } from "./permissions.ts";
import type { GroupPlan } from "./plan.ts";
import { Results } from "./results.ts";

/**
 * How long a failed run waits, after the last message from a worker, for
 * the other actors' last log records (they answer `stop` after them).
 */
const STOP_GRACE_MS = 250;
/** The most a failed run waits for its workers to answer `stop`. */
const STOP_LIMIT_MS = 3000;

const WORKER_URL = new URL("../worker/bootstrap.ts", import.meta.url);

/** What a run needs from its relay. */
export interface RunOptions {
  readonly groups: readonly GroupPlan[];
  readonly maxsize: number;
  readonly category: readonly string[];
  readonly shutdownTimeout: number;
  /** The main thread feeds the first group. */
  readonly input: boolean;
  /** The main thread reads what the last group sends. */
  readonly results: boolean;
  /** Called with what actors pass to `report()`. */
  readonly onReport: (report: Report) => void;
}

/** A value an actor reported, with where it came from. */
export interface Report<T = unknown> {
  /** The actor's name. */
  readonly actor: string;
  /** The actor's group. */
  readonly group: string;
  /** What the actor passed to `report()`. */
  readonly value: T;
}

/** An actor's state as the relay sees it. */
export type MemberState =
  | "starting"
  | "running"
  | "done"
  | "failed"
  | "stopped"
  | "terminated";

/** One actor of a run and its worker. */
interface Member {
  readonly actor: Actor<unknown, unknown>;
  readonly name: string;
  readonly className: string;
  readonly group: string;
  readonly groupIndex: number;
  readonly sandboxed: boolean;
  worker: Worker | undefined;
  state: MemberState;
  phase: Phase;
}

/** A snapshot of a run for watchdogs and metrics. */
export interface RunSnapshot {
  /** Every actor: its name, group, state, and the phase it was last in. */
  readonly actors: readonly {
    name: string;
    group: string;
    state: MemberState;
    phase: string;
  }[];
  /**
   * Every edge between two groups: its bound, the credits taken (messages in
   * flight, counting those reserved by senders), the senders waiting for
   * credit, and the messages queued for each receiver.
   */
  readonly edges: readonly {
    from: string;
    to: string;
    maxsize: number;
    inFlight: number;
    waitingSenders: number;
    queued: number[];
  }[];
}

/** Runs a relay once; `settled` is the outcome. */
export class Run {
  readonly #options: RunOptions;
  readonly #members: Member[] = [];
  readonly #edges: {
    cells: SharedArrayBuffer;
    maxsize: number;
    from: string;
    to: string;
  }[] = [];
  readonly #stats: SharedArrayBuffer;
  readonly #started = performance.now();
  #input: Outlet | undefined;
  #inputPorts: MessagePort[] = [];
  /** The last group's output, when the main thread reads it. */
  results: Results<unknown> | undefined;
  readonly #errors: RelayError[] = [];
  readonly #settled: PromiseWithResolvers<void> = Promise.withResolvers();
  #remaining = 0;
  #ending: "failing" | "aborting" | "done" | undefined;
  #abortReason: unknown;
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** When the run started failing, and when a worker last spoke since. */
  #stopStarted = 0;
  #lastHeard = 0;

  constructor(options: RunOptions) {
    this.#options = options;
    options.groups.forEach((g, groupIndex) => {
      for (const actor of g.actors) {
        this.#members.push({
          actor,
          name: actor.name,
          className: actor.constructor.name,
          group: g.name,
          groupIndex,
          sandboxed: g.permissions !== undefined,
          worker: undefined,
          state: "starting",
          phase: "load",
        });
      }
    });
    this.#stats = createStats(this.#members.length);
    this.#settled.promise.catch(() => {});
  }

  /** Resolves when every actor shut down; rejects on failure or abort. */
  get settled(): Promise<void> {
    return this.#settled.promise;
  }

  /** The workers of the run, by actor name. Internal: for fault tests. */
  get workers(): ReadonlyMap<string, Worker> {
    return new Map(
      this.#members.filter((m) => m.worker !== undefined).map((
        m,
      ) => [m.name, m.worker!]),
    );
  }

  /** Describes the actors, spawns the workers, and starts the pipeline. */
  async start(source?: InputSource<unknown>): Promise<void> {
    const groups = this.#options.groups;
    const specs: ActorSpec[] = [];
    for (const member of this.#members) {
      specs.push(await describe(member.actor));
    }
    checkReadable(WORKER_URL);
    const sandboxed = groups.filter((g) => g.permissions !== undefined);
    if (sandboxed.length > 0) checkWorkerOptions(sandboxed[0].name);
    // Aborted (or closed) while the actors were described: spawn nothing.
    if (this.#ending !== undefined) return;

    relayLogger().info(`relay: maintaining ${groups.length} groups`);
    relayLogger().info("relay: starting workers");
    const inlets: EdgeEnd[][] = groups.map(() => []);
    const outlets: EdgeEnd[][] = groups.map(() => []);
    if (this.#options.input) this.#wireInput(inlets[0]);
    for (let e = 0; e + 1 < groups.length; e++) {
      const senders = groups[e].actors.length;
      const receivers = groups[e + 1].actors.length;
      const maxsize = groups[e + 1].maxsize ?? this.#options.maxsize;
      const cells = createCells(maxsize, receivers);
      this.#edges.push({
        cells,
        maxsize,
        from: groups[e].name,
        to: groups[e + 1].name,
      });
      const ports = Array.from(
        { length: senders },
        () => Array.from({ length: receivers }, () => new MessageChannel()),
      );
      for (let s = 0; s < senders; s++) {
        outlets[e].push({
          ports: ports[s].map((c) => c.port1),
          cells,
          maxsize,
          index: s,
          senders,
        });
      }
      for (let r = 0; r < receivers; r++) {
        inlets[e + 1].push({
          ports: ports.map((row) => row[r].port2),
          cells,
          maxsize,
          index: r,
          senders,
        });
      }
    }

    if (this.#options.results) this.#wireResults(outlets[groups.length - 1]);

    const category = this.#options.category;
    this.#remaining = this.#members.length;
    const plans = this.#members.map((member, i) => {
      const spec = specs[i];
      const g = groups[member.groupIndex];
      const index = g.actors.indexOf(member.actor);
      const actorCategory = [...category, member.group, member.name];
      const init: InitMessage = {
        kind: "init",
        module: spec.module,
        className: spec.className,
        state: spec.state,
        name: member.name,
        group: member.group,
        category,
        logLevel: lowestLevel(actorCategory),
        inlet: inlets[member.groupIndex][index],
        outlet: outlets[member.groupIndex][index],
        sandboxed: member.sandboxed,
        stats: { buffer: this.#stats, index: i },
      };
      const transfer = [
        ...(init.inlet?.ports ?? []),
        ...(init.outlet?.ports ?? []),
      ];
      return { member, init, transfer, permissions: g.permissions };
    });
    let spawned = 0;
    try {
      for (const p of plans) {
        if (this.#ending !== undefined) break;
        this.#spawn(p.member, p.init, p.transfer, p.permissions);
        spawned++;
      }
    } finally {
      // Ports that no worker took would stay open in this thread.
      for (const p of plans.slice(spawned)) {
        for (const port of p.transfer) port.close();
      }
    }
    relayLogger().info(
      `relay: waiting for ${this.#members.length} workers to finish`,
    );
    this.results?.run();
    if (this.#input !== undefined && source !== undefined) {
      const signal = this.#abortInput.signal;
      feed(source, this.#input, signal).catch((error) => {
        if (!signal.aborted) this.#failInput(error);
      });
    }
  }

  readonly #abortInput = new AbortController();

  /** The main thread as the sender of the edge into the first group. */
  #wireInput(inlets: EdgeEnd[]): void {
    const first = this.#options.groups[0];
    const maxsize = first.maxsize ?? this.#options.maxsize;
    const cells = createCells(maxsize, first.actors.length);
    this.#edges.unshift({ cells, maxsize, from: "input", to: first.name });
    const channels = first.actors.map(() => new MessageChannel());
    this.#inputPorts = channels.map((c) => c.port1);
    this.#input = inputOutlet(
      this.#inputPorts,
      cells,
      maxsize,
      (error) => this.#failInput(error),
    );
    channels.forEach((c, r) =>
      inlets.push({ ports: [c.port2], cells, maxsize, index: r, senders: 1 })
    );
  }

  /** The main thread as the receiver of the last group's output. */
  #wireResults(outlets: EdgeEnd[]): void {
    const groups = this.#options.groups;
    const last = groups[groups.length - 1];
    const maxsize = this.#options.maxsize;
    const cells = createCells(maxsize, 1);
    this.#edges.push({ cells, maxsize, from: last.name, to: "results" });
    const channels = last.actors.map(() => new MessageChannel());
    this.results = new Results(
      channels.map((c) => c.port2),
      cells,
      maxsize,
      this.#settled.promise,
      () =>
        this.abort(
          new DOMException(
            "The results were not read to the end",
            "AbortError",
          ),
          0,
        ),
    );
    channels.forEach((c, s) =>
      outlets.push({
        ports: [c.port1],
        cells,
        maxsize,
        index: s,
        senders: last.actors.length,
      })
    );
  }

  /** The main thread's input, when the relay has `input()` first. */
  get input(): Outlet | undefined {
    return this.#input;
  }

  #failInput(error: unknown): void {
    if (this.#ending === "done") return;
    const reason = error instanceof Error
      ? `${error.name}: ${error.message}`
      : String(error);
    const failure = new RelayError(
      `the main thread's input failed: ${reason}`,
      {
        actor: "input",
        actorClass: "main thread",
        group: "input",
        phase: "input",
        cause: error,
      },
    );
    this.#errors.push(failure);
    if (this.#ending === undefined) this.#ending = "failing";
    if (this.#errors.length === 1) this.#stopAll(failure);
    this.#check();
  }

  /** Live metrics: per group and per edge. */
  metrics(): RelayMetrics {
    let index = 0;
    const groups: GroupMetrics[] = this.#options.groups.map((g) => {
      let received = 0, sent = 0, waitedMs = 0, finished = 0;
      for (const _ of g.actors) {
        const s = readStats(this.#stats, index);
        const m = this.#members[index++];
        received += s.received;
        sent += s.sent;
        waitedMs += s.waitedMs;
        if (m.state !== "running" && m.state !== "starting") finished++;
      }
      const errors = this.#errors.filter((e) => e.group === g.name).length;
      return {
        name: g.name,
        actors: g.actors.length,
        finished,
        received,
        sent,
        waitedMs,
        errors,
      };
    });
    return {
      elapsedMs: performance.now() - this.#started,
      groups,
      edges: this.#edgeStates(),
    };
  }

  /** Every edge's bound, messages in flight, waiting senders and queues. */
  #edgeStates(): RunSnapshot["edges"] {
    return this.#edges.map((edge) => {
      const cells = readCells(edge.cells);
      return {
        from: edge.from,
        to: edge.to,
        maxsize: edge.maxsize,
        inFlight: edge.maxsize - cells.available,
        waitingSenders: cells.waiters,
        queued: cells.queued,
      };
    });
  }

  #spawn(
    member: Member,
    init: InitMessage,
    transfer: Transferable[],
    permissions: Deno.PermissionOptions | undefined,
  ): void {
    const worker = new Worker(WORKER_URL, {
      type: "module",
      name: member.name,
      ...(permissions === undefined ? {} : { deno: { permissions } }),
    });
    member.worker = worker;
    member.state = "running";
    // Whoever terminates a worker, the relay must know, or it would wait for
    // pills that never come.
    const terminate = worker.terminate.bind(worker);
    worker.terminate = () => {
      terminate();
      if (member.state === "running") {
        member.state = "terminated";
        this.#fail(
          member,
          "exit",
          new Error(
            "was terminated from outside the relay before it sent its poison pills",
          ),
        );
      }
    };
    worker.onmessage = (event: MessageEvent<FromWorker>) => {
      this.#lastHeard = performance.now();
      this.#receive(member, event.data);
    };
    // The bootstrap reports its errors as data; an error event means one
    // escaped it. Without preventDefault() it would end the whole process.
    worker.onerror = (event: ErrorEvent) => {
      event.preventDefault();
      this.#fail(member, member.phase, new Error(event.message));
    };
    worker.onmessageerror = () => {
      this.#fail(
        member,
        member.phase,
        new Error(
          `a message from ${member.name} could not be read by the main thread`,
        ),
      );
    };
    worker.postMessage(init, transfer);
  }

  #receive(member: Member, message: FromWorker): void {
    switch (message.kind) {
      case "log":
      case "call":
        try {
          if (message.kind === "log") emitForwarded(message.record);
          else replayCall(message.call);
        } catch (error) {
          // A record lost is said, never a crash of the main thread.
          relayLogger().error(
            "relay: a log record of {actor} could not be emitted: {error}",
            { actor: member.name, error },
          );
        }
        return;
      case "phase":
        member.phase = message.phase;
        return;
      case "error":
        this.#fail(
          member,
          message.phase,
          fromErrorData(message.error),
          message.summary,
          message.path,
          message.hint,
          message.module,
        );
        return;
      case "exit":
        if (member.state === "running") {
          this.#fail(
            member,
            "exit",
            new Error(
              `closed its worker with ${message.how} before it sent its poison pills`,
            ),
          );
        }
        member.state = "stopped";
        this.#check();
        return;
      case "stopped":
        member.state = "stopped";
        this.#check();
        return;
      case "report":
        this.#options.onReport({
          actor: member.name,
          group: member.group,
          value: message.value,
        });
        return;
      case "done":
        member.state = "done";
        relayLogger().debug(`relay: ${member.name} finished`);
        this.#remaining--;
        this.#check();
        return;
    }
  }

  #fail(
    member: Member,
    phase: Phase | "exit",
    cause: unknown,
    summary?: string,
    path?: string,
    hint?: string,
    module?: string,
  ): void {
    if (this.#ending === "done") return;
    if (member.state === "running") member.state = "failed";
    const who = `${member.name} (${member.className}) in ${member.group}`;
    let text: string;
    if (phase === "exit") {
      text = `${who} ${(cause as Error).message}`;
    } else {
      const at = path !== undefined
        ? ` at ${path}`
        : summary !== undefined
        ? ` on message ${summary}`
        : module !== undefined
        ? ` of ${module}`
        : "";
      const reason = cause instanceof Error
        ? `${cause.name}: ${cause.message}`
        : String(cause);
      text = `${who} failed in ${phase}()${at}: ${reason}`;
      if (hint !== undefined) {
        text += `; ${hint}`;
      } else if (
        member.sandboxed && cause instanceof Error &&
        cause.name === "NotCapable"
      ) {
        text +=
          `; group ${member.group} runs with its own permissions: grant it there, in group(actors, { permissions })`;
      }
    }
    const error = new RelayError(
      text,
      {
        actor: member.name,
        actorClass: member.className,
        group: member.group,
        phase,
        summary,
        path,
        cause,
      },
    );
    this.#errors.push(error);
    if (this.#ending === undefined) this.#ending = "failing";
    // An abort in progress stays one: it settles with the failures on it.
    if (this.#errors.length === 1) this.#stopAll(error);
    this.#check();
  }

  /**
   * Asks every running worker to stop after posting its last records, and
   * terminates those still running once they have been silent for
   * `STOP_GRACE_MS` (or after `STOP_LIMIT_MS` in all).
   */
  #stopAll(error: RelayError): void {
    const reason = `the relay is stopping: ${error.actor} failed`;
    for (const m of this.#members) {
      if (m.state === "running" || m.state === "failed") {
        m.worker?.postMessage({ kind: "stop", reason });
      }
    }
    clearTimeout(this.#timer);
    this.#stopStarted = this.#lastHeard = performance.now();
    const wait = (ms: number) => {
      this.#timer = setTimeout(() => {
        const now = performance.now();
        const quiet = now - this.#lastHeard;
        const left = this.#stopStarted + STOP_LIMIT_MS - now;
        if (quiet >= STOP_GRACE_MS || left <= 0) this.#finish();
        else wait(Math.min(STOP_GRACE_MS - quiet, left));
      }, ms);
    };
    wait(STOP_GRACE_MS);
  }

  /** Stops the sources and lets the pipeline drain within `timeout` ms. */
  abort(reason: unknown, timeout: number): void {
    if (this.#ending !== undefined) return;
    this.#ending = "aborting";
    this.#abortReason = reason;
    relayLogger().info("relay: aborting, draining for at most {timeout} ms", {
      timeout,
    });
    // A timeout of 0 cancels: every worker still running is terminated now.
    if (timeout <= 0) {
      this.#finish();
      return;
    }
    for (const m of this.#members) {
      if (m.state === "running") {
        m.worker?.postMessage({
          kind: "abort",
          reason: cloneableOrText(reason),
        });
      }
    }
    this.#timer = setTimeout(() => this.#finish(), timeout);
    this.#check();
  }

  #check(): void {
    if (this.#ending === "done") return;
    const live = this.#members.some((m) =>
      m.state === "running" || m.state === "failed"
    );
    if (this.#errors.length > 0 || this.#ending === "aborting") {
      if (!live) this.#finish();
      return;
    }
    if (this.#remaining === 0) this.#finish();
  }

  #finish(): void {
    if (this.#ending === "done") return;
    const aborting = this.#ending === "aborting";
    this.#ending = "done";
    clearTimeout(this.#timer);
    this.#closeEnds();
    const terminated: string[] = [];
    for (const m of this.#members) {
      if (m.worker === undefined || m.state === "terminated") continue;
      if (m.state === "running" || m.state === "failed") {
        terminated.push(m.name);
      }
      const state = m.state;
      m.state = "terminated";
      m.worker.terminate();
      if (state === "done" || state === "stopped") m.state = state;
    }
    if (aborting) {
      relayLogger().info("relay: aborted");
      this.#settled.reject(
        new RelayAbortError(this.#abortReason, terminated, this.#errors),
      );
    } else if (this.#errors.length > 0) {
      const first = this.#errors[0];
      first.errors = [...this.#errors];
      relayLogger().error(`relay: failed: ${first.message}`);
      this.#settled.reject(first);
    } else {
      relayLogger().info("relay: finished");
      this.#settled.resolve();
    }
  }

  /** Closes the main thread's ends of the input and results edges. */
  #closeEnds(): void {
    this.#abortInput.abort();
    this.#input?.abort(new DOMException("The relay settled", "AbortError"));
    for (const port of this.#inputPorts) port.close();
    this.results?.close();
  }

  /** Terminates everything now (used when `start()` itself throws). */
  destroy(error: unknown): void {
    for (const m of this.#members) {
      if (m.worker !== undefined) {
        m.state = "terminated";
        m.worker.terminate();
      }
    }
    this.#ending = "done";
    clearTimeout(this.#timer);
    this.#closeEnds();
    this.#settled.reject(error);
  }

  /** The state of every actor and edge, for watchdogs and metrics. */
  snapshot(): RunSnapshot {
    return {
      actors: this.#members.map((m) => ({
        name: m.name,
        group: m.group,
        state: m.state,
        phase: m.phase,
      })),
      edges: this.#edgeStates(),
    };
  }
}

function checkReadable(url: URL): void {
  if (url.protocol !== "file:") return;
  const status = Deno.permissions.querySync({ name: "read", path: url });
  if (status.state !== "granted") {
    throw new Deno.errors.NotCapable(
      `Cannot start relay: its workers load ${url.pathname}, which needs read access; run with --allow-read (-R)`,
    );
  }
}
