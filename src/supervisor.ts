/**
 * One run of a relay: spawns a worker per actor, wires the edges between
 * them, watches every worker, and settles once, when every actor finished,
 * one failed, or the run was aborted. Whatever the outcome, every worker is
 * terminated before the run settles.
 *
 * @module
 */

import type { Actor } from "./actor.ts";
import { createCells, readCells } from "./credit.ts";
import { fromErrorData, RelayAbortError, RelayError } from "./errors.ts";
import { type ActorSpec, describe } from "./locate.ts";
import { emitForwarded, lowestLevel, relayLogger } from "./log.ts";
import type { EdgeEnd, FromWorker, InitMessage, Phase } from "./protocol.ts";
import type { GroupPlan } from "./topology.ts";

/** How long failed runs wait for the other actors' last log records. */
const STOP_GRACE_MS = 250;

const WORKER_URL = new URL("./worker.ts", import.meta.url);

/** What a run needs from its relay. */
export interface RunOptions {
  readonly groups: readonly GroupPlan[];
  readonly maxsize: number;
  readonly category: readonly string[];
  readonly shutdownTimeout: number;
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
  worker: Worker | undefined;
  state: MemberState;
  phase: Phase | "idle";
}

/** A snapshot of a run for watchdogs and metrics. */
export interface RunSnapshot {
  readonly actors: readonly {
    name: string;
    group: string;
    state: MemberState;
    phase: string;
  }[];
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
  readonly #edges: { cells: SharedArrayBuffer; maxsize: number }[] = [];
  readonly #errors: RelayError[] = [];
  readonly #settled: PromiseWithResolvers<void> = Promise.withResolvers();
  #remaining = 0;
  #ending: "failing" | "aborting" | "done" | undefined;
  #abortReason: unknown;
  #terminatedByAbort: string[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;

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
          worker: undefined,
          state: "starting",
          phase: "load",
        });
      }
    });
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
  async start(): Promise<void> {
    const groups = this.#options.groups;
    const specs: ActorSpec[] = [];
    for (const member of this.#members) {
      specs.push(await describe(member.actor));
    }
    checkReadable(WORKER_URL);

    relayLogger.info(`relay: maintaining ${groups.length} groups`);
    relayLogger.info("relay: starting workers");
    const inlets: EdgeEnd[][] = groups.map(() => []);
    const outlets: EdgeEnd[][] = groups.map(() => []);
    for (let e = 0; e + 1 < groups.length; e++) {
      const senders = groups[e].actors.length;
      const receivers = groups[e + 1].actors.length;
      const maxsize = groups[e + 1].maxsize ?? this.#options.maxsize;
      const cells = createCells(maxsize, receivers);
      this.#edges.push({ cells, maxsize });
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

    const category = this.#options.category;
    let i = 0;
    this.#remaining = this.#members.length;
    for (const member of this.#members) {
      const spec = specs[i++];
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
      };
      const transfer = [
        ...(init.inlet?.ports ?? []),
        ...(init.outlet?.ports ?? []),
      ];
      if (this.#ending !== undefined) break;
      this.#spawn(member, init, transfer, g.permissions);
    }
    relayLogger.info(
      `relay: waiting for ${this.#members.length} workers to finish`,
    );
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
            `${member.name} was terminated from outside the relay before it sent its poison pills`,
          ),
        );
      }
    };
    worker.onmessage = (event: MessageEvent<FromWorker>) =>
      this.#receive(member, event.data);
    worker.onerror = (event: ErrorEvent) => {
      event.preventDefault();
      this.#fail(
        member,
        member.phase === "idle" ? "shutdown" : member.phase,
        new Error(event.message),
      );
    };
    worker.onmessageerror = () => {
      this.#fail(
        member,
        member.phase === "idle" ? "shutdown" : member.phase,
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
        emitForwarded(message.record);
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
        );
        return;
      case "exit":
        if (member.state === "running") {
          this.#fail(
            member,
            "exit",
            new Error(
              `${member.name} closed its worker with ${message.how} before it sent its poison pills`,
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
      case "done":
        member.state = "done";
        relayLogger.debug(`relay: ${member.name} finished`);
        this.#remaining--;
        this.#check();
        return;
    }
  }

  #fail(
    member: Member,
    phase: Phase | "exit" | "abort",
    cause: unknown,
    summary?: string,
    path?: string,
  ): void {
    if (member.state === "running") member.state = "failed";
    const at = path !== undefined
      ? ` at ${path}`
      : summary !== undefined
      ? ` on message ${summary}`
      : "";
    const what = phase === "exit" ? "failed" : `failed in ${phase}()${at}`;
    const reason = cause instanceof Error
      ? `${cause.name}: ${cause.message}`
      : String(cause);
    const error = new RelayError(
      `${member.name} (${member.className}) in ${member.group} ${what}: ${reason}`,
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
    if (this.#errors.length === 1) this.#stopAll();
    this.#check();
  }

  /** Asks every running worker to stop after posting its last records. */
  #stopAll(): void {
    for (const m of this.#members) {
      if (m.state === "running" || m.state === "failed") {
        m.worker?.postMessage({ kind: "stop" });
      }
    }
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#finish(), STOP_GRACE_MS);
  }

  /** Stops the sources and lets the pipeline drain within `timeout` ms. */
  abort(reason: unknown, timeout: number): void {
    if (this.#ending !== undefined) return;
    this.#ending = "aborting";
    this.#abortReason = reason;
    relayLogger.info("relay: aborting, draining for at most {timeout} ms", {
      timeout,
    });
    for (const m of this.#members) {
      if (m.state === "running") {
        m.worker?.postMessage({ kind: "abort", reason: cloneable(reason) });
      }
    }
    this.#timer = setTimeout(() => {
      this.#terminatedByAbort = this.#members.filter((m) =>
        m.state === "running" || m.state === "starting"
      ).map((m) => m.name);
      this.#finish();
    }, timeout);
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
    for (const m of this.#members) {
      if (m.worker !== undefined && m.state !== "terminated") {
        const state = m.state;
        m.state = "terminated";
        m.worker.terminate();
        if (state === "done") m.state = "done";
      }
    }
    if (aborting) {
      relayLogger.info("relay: aborted");
      this.#settled.reject(
        new RelayAbortError(
          this.#abortReason,
          this.#terminatedByAbort,
          this.#errors,
        ),
      );
    } else if (this.#errors.length > 0) {
      const first = this.#errors[0];
      first.errors = [...this.#errors];
      relayLogger.error(`relay: failed: ${first.message}`);
      this.#settled.reject(first);
    } else {
      relayLogger.info("relay: finished");
      this.#settled.resolve();
    }
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
    this.#settled.reject(error);
  }

  /** The state of every actor and edge, for watchdogs and metrics. */
  snapshot(): RunSnapshot {
    const groups = this.#options.groups;
    return {
      actors: this.#members.map((m) => ({
        name: m.name,
        group: m.group,
        state: m.state,
        phase: m.phase,
      })),
      edges: this.#edges.map((edge, e) => {
        const cells = readCells(edge.cells);
        return {
          from: groups[e].name,
          to: groups[e + 1].name,
          maxsize: edge.maxsize,
          inFlight: edge.maxsize - cells.available,
          waitingSenders: cells.waiters,
          queued: cells.queued,
        };
      }),
    };
  }
}

function cloneable(value: unknown): unknown {
  try {
    return structuredClone(value);
  } catch {
    return String(value);
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
