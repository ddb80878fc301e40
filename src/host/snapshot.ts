/**
 * What a run shows of itself while it works: the state of every actor, the
 * edges' counters, and the metrics per group that `Relay.metrics()`,
 * `watch()` and `start()` give.
 *
 * @module
 */

import { readStats } from "../common/stats.ts";
import type { RelayError } from "../errors.ts";
import type { GroupMetrics } from "../metrics.ts";
import type { EdgeState } from "./wiring.ts";

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
  readonly edges: readonly EdgeState[];
}

/** What the metrics and snapshots need to know of each actor. */
export interface Counted {
  readonly name: string;
  readonly group: string;
  readonly state: MemberState;
  readonly phase: string;
}

/** The state of every actor and edge. */
export function snapshotOf(
  members: readonly Counted[],
  edges: readonly EdgeState[],
): RunSnapshot {
  return {
    actors: members.map(({ name, group, state, phase }) => ({
      name,
      group,
      state,
      phase,
    })),
    edges,
  };
}

/**
 * The metrics of each group: its actors' counters (slot `i` of `stats` is
 * actor `i`), how many finished, and its failures.
 */
export function groupMetrics(
  groups: readonly { name: string; actors: readonly unknown[] }[],
  members: readonly Counted[],
  stats: SharedArrayBuffer,
  errors: readonly RelayError[],
): GroupMetrics[] {
  let index = 0;
  return groups.map((g) => {
    let received = 0, sent = 0, waitedMs = 0, finished = 0;
    let retries = 0, skipped = 0, restarts = 0;
    for (let k = 0; k < g.actors.length; k++) {
      const s = readStats(stats, index);
      const m = members[index++];
      received += s.received;
      sent += s.sent;
      waitedMs += s.waitedMs;
      retries += s.retries;
      skipped += s.skipped;
      restarts += s.restarts;
      if (m.state !== "running" && m.state !== "starting") finished++;
    }
    return {
      name: g.name,
      actors: g.actors.length,
      finished,
      received,
      sent,
      waitedMs,
      errors: errors.filter((e) => e.group === g.name).length,
      attempts: received + retries,
      retries,
      skipped,
      restarts,
    };
  });
}
