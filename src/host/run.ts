/**
 * One run of a relay: starts a member per actor (through a
 * {@linkcode MemberHost}), wires the edges between them, hears every
 * member, and settles once, when every actor finished, one failed, or the
 * run was aborted. Whatever the outcome, every member is terminated before
 * the run settles. What to do when an actor fails is decided in one place,
 * `#fail()`: today, stop everything.
 *
 * @module
 */

import type { FromWorker, InitMessage, Phase } from "../common/protocol.ts";
import type { LogMessage } from "./log_replay.ts";

export type { LogMessage };
import {
  clearRecvSince,
  createStats,
  RESTARTS,
  WIDTH,
} from "../common/stats.ts";
import { cloneableOrText, render } from "../common/values.ts";
import { RelayAbortError, type RelayError } from "../errors.ts";
import { defaultTransport } from "../link/ends.ts";
import type { Outlet } from "../link/outlet.ts";
import type { Transport } from "../link/transport.ts";
import type { RelayMetrics } from "../metrics.ts";
import { causeOf, checkControl } from "./control.ts";
import {
  idleSpin,
  initMessages,
  preflight,
  type RunMember,
  runMembers,
} from "./launch.ts";
import { actorFailure, type FailureDetail, inputFailure } from "./failure.ts";
import { feed, inputOutlet, type InputSource } from "./input.ts";
import { emitLog, relayLogger } from "./log_replay.ts";
import type { Member, MemberHost } from "./member.ts";
import type { GroupPlan } from "./plan.ts";
import { orderRun, type RunOrder } from "./reorder.ts";
import { Results } from "./results.ts";
import type { DeadLetter } from "./dead_letters.ts";
import { reasonOf } from "./failure.ts";
import {
  groupMetrics,
  type MemberState,
  type Report,
  type RunSnapshot,
  snapshotOf,
} from "./snapshot.ts";
import { SilenceWatch } from "./silence.ts";
import {
  intensityFailure,
  lostFailure,
  RecvWatch,
  replaceEnds,
  RestartLog,
  restarts,
} from "./restart.ts";
import {
  closeEnd,
  type Edge,
  edgeState,
  transfersOf,
  wire,
  type Wiring,
} from "./wiring.ts";

/** What a run needs from its relay. */
export interface RunOptions {
  readonly groups: readonly GroupPlan[];
  readonly maxsize: number;
  readonly category: readonly string[];
  /** Where the actors run. */
  readonly host: MemberHost;
  /** What carries the edges (default: the port transport). */
  readonly transport?: Transport;
  /** The main thread feeds the first group. */
  readonly input: boolean;
  /** The main thread reads what the last group sends. */
  readonly results: boolean;
  /**
   * It reads them in order (`host/reorder.ts`), within this window
   * (undefined: the default).
   */
  readonly ordered?: { readonly window: number | undefined };
  /** Called with what actors pass to `report()`. */
  readonly onReport: (report: Report) => void;
  /**
   * Called with each message an actor skipped (`onError: "skip"`); `ack`
   * lets the actor post another. Returns whether nobody reads them (the run
   * then logs it as a warning). Without it, dead letters are logged only.
   */
  readonly onDeadLetter?: (letter: DeadLetter, ack: () => void) => boolean;
  /**
   * Takes the actors' log calls and records instead of LogTape (the test
   * helper keeps them).
   */
  readonly onLog?: (message: LogMessage) => void;
}

/** Runs a relay once; `settled` is the outcome. */
export class Run {
  readonly #options: RunOptions;
  readonly #members: RunMember[];
  #edges: readonly Edge[] = [];
  readonly #stats: SharedArrayBuffer;
  readonly #started = performance.now();
  #input: Outlet | undefined;
  /** With ordered results. */
  #order: RunOrder | undefined;
  /** The last group's output, when the main thread reads it. */
  results: Results<unknown> | undefined;
  readonly #errors: RelayError[] = [];
  readonly #settled: PromiseWithResolvers<void> = Promise.withResolvers();
  readonly #abortInput = new AbortController();
  #remaining = 0;
  #ending: "failing" | "aborting" | "done" | undefined;
  #abortReason: unknown;
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** After a failure: when the members fell silent, the run ends. */
  readonly #silence = new SilenceWatch(() => this.#finish());
  /** The restarts of each group (`onError: "restart"`). */
  readonly #restartLog = new RestartLog();
  #recvWatch: RecvWatch | undefined;

  constructor(options: RunOptions) {
    this.#options = options;
    this.#members = runMembers(options.groups, options.input);
    this.#stats = createStats(this.#members.length);
    this.#settled.promise.catch(() => {});
  }

  /** Resolves when every actor shut down; rejects on failure or abort. */
  get settled(): Promise<void> {
    return this.#settled.promise;
  }

  /** The members of the run, by actor name. Internal: for fault tests. */
  get members(): ReadonlyMap<string, Member> {
    return new Map(
      this.#members.filter((m) => m.handle !== undefined).map((
        m,
      ) => [m.name, m.handle!]),
    );
  }

  /** The members' spin before parking (`launch.ts`, `idleSpin`). */
  #idleSpinMs(wiring: Wiring): number {
    const main = wiring.input !== undefined || wiring.results !== undefined;
    return idleSpin({
      host: this.#options.host.kind,
      port: (this.#options.transport ?? defaultTransport) === defaultTransport,
      threads: this.#members.length + (main ? 1 : 0),
      cores: navigator.hardwareConcurrency,
    });
  }

  /** Describes the actors, starts the members, and starts the pipeline. */
  async start(source?: InputSource<unknown>): Promise<void> {
    const { groups, host } = this.#options;
    const specs = await preflight(this.#members, groups, host);
    // Aborted (or closed) while the actors were described: spawn nothing.
    if (this.#ending !== undefined) return;

    // A restarting group's edges replay, which the port transport loads
    // only now in an actor's worker (a relay started by an actor).
    if (groups.some((g) => g.policy.onError === "restart")) {
      await (this.#options.transport ?? defaultTransport).prepare?.();
      if (this.#ending !== undefined) return;
    }

    relayLogger().info(`relay: maintaining ${groups.length} groups`);
    relayLogger().info(
      `relay: starting ${host.kind === "inline" ? "inline actors" : "workers"}`,
    );
    const wiring = wire(
      groups.map((g) => ({
        name: g.name,
        size: g.actors.length,
        maxsize: g.maxsize,
        restart: g.policy.onError === "restart",
      })),
      this.#options.maxsize,
      this.#options,
      this.#options.transport,
    );
    this.#edges = wiring.edges;
    const ordered = this.#options.ordered;
    const order = this.#order = ordered === undefined
      ? undefined
      : orderRun(ordered.window, wiring.edges, this.#options.input);
    if (wiring.input !== undefined) {
      this.#input = inputOutlet(wiring.input, (e) => this.#failInput(e));
    }
    if (wiring.results !== undefined) {
      this.results = new Results(
        wiring.results,
        this.#settled.promise,
        () =>
          this.abort(
            new DOMException(
              "The results were not read to the end",
              "AbortError",
            ),
            0,
          ),
        order?.reorder,
      );
    }

    this.#remaining = this.#members.length;
    const plans = initMessages(this.#members, specs, wiring, {
      ...this.#options,
      stats: this.#stats,
      everything: this.#options.onLog !== undefined,
      idleSpinMs: this.#idleSpinMs(wiring),
    }).map((init, i) =>
      order === undefined
        ? init
        : { ...init, order: order.part(this.#members[i]) }
    );
    let spawned = 0;
    try {
      for (const [i, init] of plans.entries()) {
        if (this.#ending !== undefined) break;
        this.#spawn(this.#members[i], init);
        spawned++;
      }
    } finally {
      // Ends that no member took would stay open in this thread.
      for (const init of plans.slice(spawned)) {
        if (init.inlet !== undefined) closeEnd(init.inlet);
        if (init.outlet !== undefined) closeEnd(init.outlet);
      }
    }
    relayLogger().info(
      `relay: waiting for ${this.#members.length} ${
        host.kind === "inline" ? "actors" : "workers"
      } to finish`,
    );
    this.results?.run();
    if (this.#ending === undefined) {
      this.#recvWatch = new RecvWatch(
        this.#members,
        groups.map((g) => g.policy),
        this.#stats,
        (member, error) => this.#fail(member, "recv", error),
      );
    }
    if (this.#input !== undefined && source !== undefined) {
      const signal = this.#abortInput.signal;
      const input = order?.input(this.#input) ?? this.#input;
      feed(source, input, signal).catch((error) => {
        if (!signal.aborted) this.#failInput(error);
      });
    }
  }

  #spawn(member: RunMember, init: InitMessage): void {
    const g = this.#options.groups[member.groupIndex];
    member.state = "running";
    member.init = init;
    // A restarted member's old incarnation is not heard any more, but for
    // its last log records.
    const incarnation = member.restarts;
    const current = () => member.restarts === incarnation;
    member.handle = this.#options.host.spawn({
      name: member.name,
      actor: member.actor,
      init,
      transfer: transfersOf(init),
      permissions: g.permissions,
    }, {
      message: (data) => {
        this.#silence.heard();
        if (current()) this.#receive(member, data);
        else if (isLog(data)) this.#receive(member, data);
      },
      failure: (error, exited) => {
        if (!current()) return;
        if (exited) {
          if (member.state !== "running") return;
          if (this.#restart(member, "exit", error)) return;
          member.state = "terminated";
          this.#fail(member, "exit", error);
        } else this.#fail(member, member.phase, error);
      },
    });
  }

  #receive(member: RunMember, data: unknown): void {
    const message = checkControl(data);
    if (typeof message === "string") {
      this.#fail(member, member.phase, new Error(message));
      return;
    }
    this.#dispatch(member, message);
  }

  #dispatch(member: RunMember, message: FromWorker): void {
    switch (message.kind) {
      case "log":
      case "call":
        emitLog(message, member.name, this.#options.onLog);
        return;
      case "phase":
        member.phase = message.phase;
        return;
      case "error":
        this.#fail(member, message.phase, causeOf(message.error), message);
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
          // Restarted: its new incarnation runs.
          if (member.state === "running") return;
        }
        member.state = "stopped";
        this.#check();
        return;
      case "stopped":
        member.state = "stopped";
        this.#check();
        return;
      case "dead":
        this.#deadLetter(member, message);
        return;
      case "report":
        this.#options.onReport({
          actor: member.name,
          group: member.group,
          value: message.value,
        });
        return;
      case "done":
        if (member.state !== "running" || message.pills !== member.upstream) {
          this.#fail(
            member,
            member.phase,
            new Error(
              `said it was done in ${member.phase}() with ${message.pills} of ${member.upstream} poison pills; a done message comes from baton's runtime only, after the actor's last pill`,
            ),
          );
          return;
        }
        member.state = "done";
        relayLogger().debug(`relay: ${member.name} finished`);
        this.#remaining--;
        this.#check();
        return;
    }
  }

  #deadLetter(
    member: RunMember,
    message: Extract<FromWorker, { kind: "dead" }>,
  ): void {
    const letter: DeadLetter = {
      actor: member.name,
      group: member.group,
      message: message.message,
      error: causeOf(message.error),
      attempts: message.attempts,
    };
    const ack = () => member.handle?.post({ kind: "deadAck" });
    const unread = this.#options.onDeadLetter?.(letter, ack) ?? (ack(), true);
    if (unread) {
      relayLogger().warn(
        "relay: dead letter from {from} in {in} after {attempts}, unread: {error}; message {summary}",
        {
          from: letter.actor,
          in: letter.group,
          attempts: `${letter.attempts} attempt${
            letter.attempts === 1 ? "" : "s"
          }`,
          error: reasonOf(letter.error),
          summary: render(letter.message),
        },
      );
    }
  }

  #failInput(error: unknown): void {
    if (this.#ending === "done") return;
    this.#failWith(inputFailure(error));
  }

  /**
   * An actor failed. The run's failure policy: the first failure stops
   * every actor and the run rejects with it (later ones ride along on its
   * `errors`).
   */
  #fail(
    member: RunMember,
    phase: Phase | "exit",
    cause: unknown,
    detail?: FailureDetail,
  ): void {
    if (this.#ending === "done") return;
    if (this.#restart(member, phase, cause, detail)) return;
    if (member.state === "running") member.state = "failed";
    this.#failWith(actorFailure(member, phase, cause, detail));
  }

  /**
   * The failure policy `"restart"`: replaces the member by a new
   * incarnation, unless its group used up its restarts (then the run fails
   * with that). Returns whether the failure was handled here.
   */
  #restart(
    member: RunMember,
    phase: Phase | "exit",
    cause: unknown,
    detail?: FailureDetail,
  ): boolean {
    const g = this.#options.groups[member.groupIndex];
    if (
      this.#ending !== undefined || member.state !== "running" ||
      member.init === undefined || !restarts(g.policy, phase)
    ) return false;
    const error = actorFailure(member, phase, cause, detail);
    const { max, withinMs } = g.policy.restarts;
    const count = this.#restartLog.record(g.name, withinMs);
    if (count > max) {
      member.state = phase === "exit" ? "terminated" : "failed";
      this.#failWith(intensityFailure(member, g.policy, count, error));
      return true;
    }
    relayLogger().warning(
      `relay: restarting ${member.name} of ${g.name} (restart ${count} of at most ${max} within ${withinMs} ms): ${error.message}`,
    );
    const old = member.handle;
    member.restarts++;
    old?.terminate();
    const slot = this.#members.indexOf(member);
    clearRecvSince(this.#stats, slot);
    new Float64Array(this.#stats)[slot * WIDTH + RESTARTS]++;
    try {
      const ends = replaceEnds(member, {
        edges: this.#edges,
        members: this.#members,
        input: this.#input,
        results: this.results,
      });
      if (ends.lost > 0) {
        member.state = "terminated";
        this.#failWith(lostFailure(member, ends.lost, error));
        return true;
      }
      member.phase = "load";
      this.#spawn(member, {
        ...member.init,
        ...(ends.inlet === undefined ? {} : { inlet: ends.inlet }),
        ...(ends.outlet === undefined ? {} : { outlet: ends.outlet }),
        restarts: member.restarts,
      });
    } catch (reason) {
      // The new incarnation could not start: the run fails with both.
      member.state = "terminated";
      this.#failWith(error);
      this.#failWith(actorFailure(member, "load", reason));
    }
    return true;
  }

  #failWith(error: RelayError): void {
    this.#errors.push(error);
    if (this.#ending === undefined) this.#ending = "failing";
    // An abort in progress stays one: it settles with the failures on it.
    if (this.#errors.length === 1) this.#stopAll(error);
    this.#check();
  }

  /**
   * Asks every running member to stop after posting its last records, and
   * terminates those still running once they have been silent for a while
   * (`silence.ts`).
   */
  #stopAll(error: RelayError): void {
    const reason = `the relay is stopping: ${error.actor} failed`;
    for (const m of this.#members) {
      if (m.state === "running" || m.state === "failed") {
        m.handle?.post({ kind: "stop", reason });
      }
    }
    this.#silence.start();
  }

  /** Stops the sources and lets the pipeline drain within `timeout` ms. */
  abort(reason: unknown, timeout: number): void {
    if (this.#ending !== undefined) return;
    this.#ending = "aborting";
    this.#abortReason = reason;
    relayLogger().info("relay: aborting, draining for at most {timeout} ms", {
      timeout,
    });
    // The input stops first: a drain delivers what was accepted, no more.
    this.#abortInput.abort();
    // A timeout of 0 cancels: every member still running is terminated now.
    if (timeout <= 0) {
      this.#finish();
      return;
    }
    const message = { kind: "abort", reason: cloneableOrText(reason) } as const;
    for (const m of this.#members) {
      if (m.state === "running") m.handle?.post(message);
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
    this.#silence.cancel();
    this.#recvWatch?.stop();
    this.#closeEnds();
    const terminated: string[] = [];
    for (const m of this.#members) {
      if (m.handle === undefined || m.state === "terminated") continue;
      if (m.state === "running" || m.state === "failed") {
        terminated.push(m.name);
        m.state = "terminated";
      }
      m.handle.terminate();
    }
    this.#options.host.close?.();
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
    const input = this.#edges.find((e) => e.from === "input");
    if (input !== undefined) closeEnd(input.senders[0]);
    this.results?.close();
  }

  /** Terminates everything now (used when `start()` itself throws). */
  destroy(error: unknown): void {
    for (const m of this.#members) {
      if (m.handle !== undefined) {
        m.state = "terminated";
        m.handle.terminate();
      }
    }
    this.#ending = "done";
    clearTimeout(this.#timer);
    this.#silence.cancel();
    this.#recvWatch?.stop();
    this.#closeEnds();
    this.#options.host.close?.();
    this.#settled.reject(error);
  }

  /** Live metrics: per group and per edge. */
  metrics(): RelayMetrics {
    return {
      elapsedMs: performance.now() - this.#started,
      groups: groupMetrics(
        this.#options.groups,
        this.#members,
        this.#stats,
        this.#errors,
      ),
      edges: this.#edges.map(edgeState),
      ...(this.#order && { order: this.#order.reorder.metrics() }),
    };
  }

  /** The state of every actor and edge, for watchdogs and metrics. */
  snapshot(): RunSnapshot {
    return snapshotOf(this.#members, this.#edges.map(edgeState));
  }
}

export type { MemberState, Report, RunSnapshot };

/** A log record or call of a member: kept even from an old incarnation. */
function isLog(data: unknown): boolean {
  const kind = (data as { kind?: unknown } | null)?.kind;
  return kind === "log" || kind === "call";
}
