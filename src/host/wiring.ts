/**
 * Wiring a run's edges: between every two adjacent groups, and, when the
 * main thread takes part, from it into the first group (`input()`) and from
 * the last group to it (`results()`). One function makes every edge, through
 * one transport, so the main thread's ends are the same kind of end an actor
 * gets.
 *
 * @module
 */

import type {
  EdgeEnd,
  ReceiverEndSpec,
  SenderEndSpec,
} from "../common/protocol.ts";
import { defaultTransport, discardEnd, transferables } from "../link/ends.ts";
import type { EdgeHandle, EdgeState, Transport } from "../link/transport.ts";

/** One edge of a run, as its transport made it. */
export type Edge = EdgeHandle;

export type { EdgeState };

/** Reads an edge's counters. */
export function edgeState(edge: Edge): EdgeState {
  return edge.state();
}

/** Closes an end that no thread took. */
export function closeEnd(end: EdgeEnd): void {
  discardEnd(end);
}

/** What an actor's init message transfers: what its ends need moved. */
export function transfersOf(
  ends: { readonly inlet?: EdgeEnd; readonly outlet?: EdgeEnd },
): Transferable[] {
  return [...transferables(ends.inlet), ...transferables(ends.outlet)];
}

/** The groups as wiring needs them. */
export interface WiredGroup {
  readonly name: string;
  readonly size: number;
  readonly maxsize: number | undefined;
  /** Its actors restart when they fail (`onError: "restart"`). */
  readonly restart?: boolean;
}

/** Every edge of a run, in order, and each group's ends. */
export interface Wiring {
  readonly edges: readonly Edge[];
  /** Per group, per actor: the end it receives on (none for sources). */
  readonly inlets: readonly (readonly (ReceiverEndSpec | undefined)[])[];
  /** Per group, per actor: the end it sends on (none for the last group). */
  readonly outlets: readonly (readonly (SenderEndSpec | undefined)[])[];
  /** The main thread's end of the input edge, if it feeds the first group. */
  readonly input: SenderEndSpec | undefined;
  /** The main thread's end of the results edge, if it reads them. */
  readonly results: ReceiverEndSpec | undefined;
}

/**
 * Wires a run: an edge between every two adjacent groups (bounded by the
 * receiving group's `maxsize`, else `maxsize`), plus the main thread's input
 * and results edges when asked for; every edge through `transport`.
 */
export function wire(
  groups: readonly WiredGroup[],
  maxsize: number,
  options: { input: boolean; results: boolean },
  transport: Transport = defaultTransport,
): Wiring {
  const createEdge = (
    from: string,
    to: string,
    senders: number,
    receivers: number,
    maxsize: number,
    restart: { senders?: boolean; receivers?: boolean } = {},
  ) =>
    transport.createEdge({
      from,
      to,
      senders,
      receivers,
      maxsize,
      ...(restart.senders || restart.receivers
        ? {
          restartable: {
            senders: restart.senders === true,
            receivers: restart.receivers === true,
          },
        }
        : {}),
    });
  const edges: Edge[] = [];
  const inlets: (ReceiverEndSpec | undefined)[][] = groups.map((g) =>
    new Array(g.size).fill(undefined)
  );
  const outlets: (SenderEndSpec | undefined)[][] = groups.map((g) =>
    new Array(g.size).fill(undefined)
  );
  let input: SenderEndSpec | undefined;
  let results: ReceiverEndSpec | undefined;
  const first = groups[0];
  if (options.input) {
    const edge = createEdge(
      "input",
      first.name,
      1,
      first.size,
      first.maxsize ?? maxsize,
      { receivers: first.restart },
    );
    edges.push(edge);
    input = edge.senders[0];
    inlets[0] = [...edge.receivers];
  }
  for (let e = 0; e + 1 < groups.length; e++) {
    const [from, to] = [groups[e], groups[e + 1]];
    const edge = createEdge(
      from.name,
      to.name,
      from.size,
      to.size,
      to.maxsize ?? maxsize,
      { senders: from.restart, receivers: to.restart },
    );
    edges.push(edge);
    outlets[e] = [...edge.senders];
    inlets[e + 1] = [...edge.receivers];
  }
  if (options.results) {
    const last = groups[groups.length - 1];
    const edge = createEdge(last.name, "results", last.size, 1, maxsize, {
      senders: last.restart,
    });
    edges.push(edge);
    outlets[groups.length - 1] = [...edge.senders];
    results = edge.receivers[0];
  }
  return { edges, inlets, outlets, input, results };
}
