/**
 * What a run does before its members start: the members it will have, the
 * checks that can refuse it (each actor described, the host's preflight,
 * per-group permissions), and the init message each member gets.
 *
 * @module
 */

import type { Actor } from "../actor.ts";
import type { InitMessage, Phase } from "../common/protocol.ts";
import { type ActorSpec, describe } from "./describe.ts";
import { forwardLevel, lowestLevel } from "./log_replay.ts";
import type { Member, MemberHost } from "./member.ts";
import { checkGrantable, checkWorkerOptions } from "./permissions.ts";
import type { GroupPlan } from "./plan.ts";
import type { MemberState } from "./snapshot.ts";
import type { Wiring } from "./wiring.ts";

/** One actor of a run and its member. */
export interface RunMember {
  readonly actor: Actor<unknown, unknown>;
  readonly name: string;
  readonly className: string;
  readonly group: string;
  readonly groupIndex: number;
  readonly sandboxed: boolean;
  /** Pills it must receive before it may be done: its upstream senders. */
  readonly upstream: number;
  /** Its index in its group: its end's index on its edges. */
  readonly index: number;
  handle: Member | undefined;
  /** Its init message, once spawned (a restart starts from it). */
  init: InitMessage | undefined;
  /** Times it was restarted; each restart makes a new incarnation. */
  restarts: number;
  state: MemberState;
  phase: Phase;
}

/** A member for every actor, in group order. */
export function runMembers(
  groups: readonly GroupPlan[],
  input: boolean,
): RunMember[] {
  const members: RunMember[] = [];
  groups.forEach((g, groupIndex) => {
    const upstream = groupIndex === 0
      ? (input ? 1 : 0)
      : groups[groupIndex - 1].actors.length;
    for (const [index, actor] of g.actors.entries()) {
      members.push({
        actor,
        index,
        init: undefined,
        restarts: 0,
        name: actor.name,
        className: actor.constructor.name,
        group: g.name,
        groupIndex,
        sandboxed: g.permissions !== undefined,
        upstream,
        handle: undefined,
        state: "starting",
        phase: "load",
      });
    }
  });
  return members;
}

/**
 * Describes every actor and checks that the host can start them: throws
 * (before anything starts) what would fail later.
 */
export async function preflight(
  members: readonly RunMember[],
  groups: readonly GroupPlan[],
  host: MemberHost,
): Promise<ActorSpec[]> {
  const specs: ActorSpec[] = [];
  for (const member of members) {
    specs.push(await describe(member.actor, host.kind));
  }
  host.preflight?.();
  const sandboxed = groups.filter((g) => g.permissions !== undefined);
  if (sandboxed.length > 0 && host.kind === "worker") {
    checkWorkerOptions(sandboxed[0].name);
    for (const g of sandboxed) checkGrantable(g.name, g.permissions!);
  }
  await host.prepare?.();
  return specs;
}

/**
 * How long an actor's inlet that ran dry spins for the next post before its
 * thread parks, in milliseconds (0: it parks at once). A post to a parked
 * thread costs the sender a wake-up syscall (a fifth to a third of a fast
 * source's time on a 2-core VM, `bench/README.md`, "Spinning before
 * parking") and the receiver the time to be scheduled again; a spinning
 * thread is caught awake. Worth it only while every busy thread of the run
 * has a core of its own: where they outnumber the cores, a spinning thread
 * holds a core that the thread it waits for needs (1→2→1, 1→4→1 and 1→16
 * measured 10–20 % slower on 2 cores). So {@linkcode IDLE_SPIN_MS} for
 * actors in workers of this process on the port transport, when `threads`
 * (the actors, and the main thread if it feeds the input or reads the
 * results) are at most `cores`. Never for inline actors, which share the
 * main thread, nor across processes, whose worker processes share the
 * cores with one another and with Redis.
 */
export function idleSpin(run: {
  readonly host: "worker" | "inline";
  /** The run's edges are the port transport's. */
  readonly port: boolean;
  readonly threads: number;
  readonly cores: number;
}): number {
  return run.host === "worker" && run.port && run.threads <= run.cores
    ? IDLE_SPIN_MS
    : 0;
}

/**
 * A member's spin (`idleSpin`'s, for the run): none in a group whose actors
 * have several `recv()` calls in flight (`concurrency` above 1), whose inlet
 * runs dry while calls wait for their I/O: spinning then would hold back
 * their continuations, which need the event loop.
 */
export function spinFields(
  runMs: number,
  concurrency: number,
): { idleSpinMs?: number } {
  return runMs > 0 && concurrency <= 1 ? { idleSpinMs: runMs } : {};
}

/**
 * A spin's length: about what a fast source takes to fill its next batch
 * and post it (512 numbers at 50–100 ns each), so that a sink that ran dry
 * meets it. 1→1 numbers measured 0.70–0.74 of raw with 10 µs, 0.88–0.91
 * with 25, 0.93–0.96 with 50 and 0.90–0.94 with 100 (2e6 messages, 5
 * rounds each, twice).
 */
export const IDLE_SPIN_MS = 0.05;

/** The init message of every member, in the order of `members`. */
export function initMessages(
  members: readonly RunMember[],
  specs: readonly ActorSpec[],
  wiring: Wiring,
  o: {
    readonly groups: readonly GroupPlan[];
    readonly category: readonly string[];
    readonly stats: SharedArrayBuffer;
    /** Every log record is wanted, whatever LogTape would emit. */
    readonly everything: boolean;
    /** For every member's inlet (see {@linkcode idleSpin}); 0: none. */
    readonly idleSpinMs?: number;
  },
): InitMessage[] {
  const { category } = o;
  const positions = new Map<Actor<unknown, unknown>, number>();
  for (const g of o.groups) g.actors.forEach((a, i) => positions.set(a, i));
  const level = (c: readonly string[]) =>
    o.everything ? "trace" : lowestLevel(c);
  return members.map((member, i) => {
    const spec = specs[i];
    const index = positions.get(member.actor)!;
    return {
      kind: "init",
      module: spec.module,
      className: spec.className,
      state: spec.state,
      name: member.name,
      group: member.group,
      category,
      logLevel: level([...category, member.group, member.name]),
      lifecycleLevel: level([
        ...category,
        "lifecycle",
        member.group,
        member.name,
      ]),
      forwardLevel: o.everything ? "trace" : forwardLevel(),
      inlet: wiring.inlets[member.groupIndex][index],
      outlet: wiring.outlets[member.groupIndex][index],
      policy: o.groups[member.groupIndex].policy,
      sandboxed: member.sandboxed,
      stats: { buffer: o.stats, index: i },
      ...spinFields(
        o.idleSpinMs ?? 0,
        o.groups[member.groupIndex].policy.concurrency,
      ),
    };
  });
}
