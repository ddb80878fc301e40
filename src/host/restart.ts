/**
 * Restarting an actor of a group with `onError: "restart"`: the budget of
 * restarts per group (more than `restarts.max` within `restarts.withinMs`
 * fails the run), the new ends its replacement opens and the relinks its
 * live peers get (through the edge's transport, which replays what the old
 * incarnation had in hand and queued), and the watch that ends a `recv()`
 * stuck past `recvTimeoutMs`. `run.ts` decides when; this module does it.
 *
 * @module
 */

import type {
  Phase,
  Policy,
  ReceiverEndSpec,
  RelinkSpec,
  SenderEndSpec,
} from "../common/protocol.ts";
import { recvSince } from "../common/stats.ts";
import { RelayError } from "../errors.ts";
import { discardEnd, relinkEnd, transferables } from "../link/ends.ts";
import type { Outlet } from "../link/outlet.ts";
import type { RunMember } from "./launch.ts";
import type { Results } from "./results.ts";
import type { Edge } from "./wiring.ts";

/** Whether a failure in `phase` restarts an actor with `policy`. */
export function restarts(policy: Policy, phase: Phase | "exit"): boolean {
  // A module that does not load will not load the next time either.
  return policy.onError === "restart" && phase !== "load";
}

/** The restarts of each group, within their windows. */
export class RestartLog {
  readonly #times = new Map<string, number[]>();

  /**
   * Records a restart of `group` now; returns how many it had within the
   * last `withinMs` ms, this one included.
   */
  record(group: string, withinMs: number, now = performance.now()): number {
    const times = (this.#times.get(group) ?? []).filter((t) =>
      now - t < withinMs
    );
    times.push(now);
    this.#times.set(group, times);
    return times.length;
  }
}

/** The run's failure when a group restarted more than its budget allows. */
export function intensityFailure(
  member: RunMember,
  policy: Policy,
  count: number,
  last: RelayError,
): RelayError {
  const { max, withinMs } = policy.restarts;
  return failedAfter(
    member,
    last,
    `group ${member.group} failed ${count} times within ${withinMs} ms, more than restarts.max (${max}) allows; the last failure: ${last.message}`,
  );
}

/** The run's failure when a restart would lose messages. */
export function lostFailure(
  member: RunMember,
  lost: number,
  last: RelayError,
): RelayError {
  return failedAfter(
    member,
    last,
    `${member.name} (${member.className}) in ${member.group} cannot be restarted without losing ${lost} messages: they were posted by an actor that restarted too and no longer has them; the failure: ${last.message}`,
  );
}

/**
 * The run's failure, saying `message`, that a restart of `member` after
 * its failure `last` cannot mend: it keeps `last`'s phase and summary.
 */
function failedAfter(
  member: RunMember,
  last: RelayError,
  message: string,
): RelayError {
  return new RelayError(message, {
    actor: member.name,
    actorClass: member.className,
    group: member.group,
    phase: last.phase,
    summary: last.summary,
    cause: last,
  });
}

/** What a restart needs of the run. */
export interface RestartPeers {
  readonly edges: readonly Edge[];
  readonly members: readonly RunMember[];
  /** The main thread's outlet into the first group, if it feeds it. */
  readonly input: Outlet | undefined;
  /** The main thread's reader of the last group, if it reads it. */
  readonly results: Results<unknown> | undefined;
}

/**
 * Makes the ends of `member`'s next incarnation and hands every live peer
 * across its edges its relink: the senders into it replay what it had not
 * handled, the receivers it sends to listen to its new ports, and the
 * credits its old incarnation held go back to the edge. Returns the new
 * ends and the messages no one can replay any more.
 */
export function replaceEnds(
  member: RunMember,
  peers: RestartPeers,
): { inlet?: ReceiverEndSpec; outlet?: SenderEndSpec; lost: number } {
  const init = member.init!;
  let lost = 0;
  const peer = (groupIndex: number, index: number) =>
    peers.members.find((m) => m.groupIndex === groupIndex && m.index === index);
  const hand = (to: RunMember | undefined, spec: RelinkSpec) => {
    if (
      to?.handle !== undefined &&
      (to.state === "running" || to.state === "done")
    ) {
      to.handle.post({ kind: "relink", spec }, transferables(spec));
    } else {
      discardEnd(spec);
    }
  };
  let inlet: ReceiverEndSpec | undefined;
  if (init.inlet !== undefined) {
    const edge = peers.edges.find((e) => e.to === member.group)!;
    const restarted = edge.restartReceiver!(member.index);
    // Only a source's messages cannot be made again by a replay to it.
    if (member.groupIndex === 1) lost += restarted.lost;
    inlet = restarted.end;
    restarted.peers.forEach((spec, s) => {
      if (edge.from === "input" && peers.input !== undefined) {
        relinkEnd(peers.input, spec);
      } else hand(peer(member.groupIndex - 1, s), spec);
    });
  }
  let outlet: SenderEndSpec | undefined;
  if (init.outlet !== undefined) {
    const edge = peers.edges.find((e) => e.from === member.group)!;
    const restarted = edge.restartSender!(member.index);
    if (init.inlet === undefined) lost += restarted.lost;
    outlet = restarted.end;
    restarted.peers.forEach((spec, r) => {
      if (edge.to === "results" && peers.results !== undefined) {
        peers.results.relink(spec);
      } else hand(peer(member.groupIndex + 1, r), spec);
    });
  }
  return { inlet, outlet, lost };
}

/** The error of a `recv()` that ran past its group's `recvTimeoutMs`. */
export function stuckError(timeoutMs: number, ranMs: number): Error {
  return new Error(
    `recv() ran for ${ranMs} ms, longer than recvTimeoutMs (${timeoutMs} ms), without returning; its worker was terminated (a synchronous loop cannot be interrupted in its own thread)`,
  );
}

/**
 * Watches the `recv()` in hand of every actor of the groups that restart on
 * a timeout, through the start times their runtimes write into the shared
 * counters (`worker/recv_watch.ts`), and reports the ones past their limit.
 */
export class RecvWatch<
  M extends Pick<RunMember, "state" | "groupIndex"> = RunMember,
> {
  readonly #timer: ReturnType<typeof setInterval> | undefined;

  /**
   * `stats` holds the counters of `members`, each at its index in it
   * (a worker process watches its one actor, at index 0 of its own).
   */
  constructor(
    members: readonly M[],
    policies: readonly Policy[],
    stats: SharedArrayBuffer,
    onStuck: (member: M, error: Error) => void,
  ) {
    const watched = members.map((m, slot) => ({ m, slot })).filter(({ m }) => {
      const p = policies[m.groupIndex];
      return p.onError === "restart" && p.recvTimeoutMs !== undefined;
    });
    if (watched.length === 0) return;
    const shortest = Math.min(
      ...watched.map(({ m }) => policies[m.groupIndex].recvTimeoutMs!),
    );
    // A tenth of the shortest limit, and not more often than every 10 ms.
    const period = Math.min(250, Math.max(10, shortest / 10));
    // The attempt's own timeout (in the worker) fires first when it can: an
    // async recv() fails its attempt there; only a call that holds its
    // thread is still running past this grace.
    const grace = (limit: number) => Math.max(250, limit / 4);
    this.#timer = setInterval(() => {
      const now = Date.now();
      for (const { m, slot } of watched) {
        if (m.state !== "running") continue;
        const since = recvSince(stats, slot);
        const limit = policies[m.groupIndex].recvTimeoutMs!;
        if (since > 0 && now - since > limit + grace(limit)) {
          onStuck(m, stuckError(limit, Math.round(now - since)));
        }
      }
    }, period);
  }

  /** Stops watching. */
  stop(): void {
    clearInterval(this.#timer);
  }
}
