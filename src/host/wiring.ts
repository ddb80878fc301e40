/**
 * Wiring a run's edges: between every two adjacent groups, and, when the
 * main thread takes part, from it into the first group (`input()`) and from
 * the last group to it (`results()`). One function makes every edge, so the
 * main thread's ends are the same kind of end an actor gets.
 *
 * @module
 */

import type { EdgeEnd } from "../common/protocol.ts";
import { createCells, readCells } from "../link/port/credit.ts";

/** One edge of a run, as metrics and snapshots read it. */
export interface Edge {
  /** The sending group, or `"input"` for the main thread. */
  readonly from: string;
  /** The receiving group, or `"results"` for the main thread. */
  readonly to: string;
  readonly maxsize: number;
  /** Each sender's end, by sender index. */
  readonly senders: readonly EdgeEnd[];
  /** Each receiver's end, by receiver index. */
  readonly receivers: readonly EdgeEnd[];
  readonly cells: SharedArrayBuffer;
}

/** An edge's state right now. */
export interface EdgeState {
  /** The sending group, or `"input"` for the main thread. */
  readonly from: string;
  /** The receiving group, or `"results"` for the main thread. */
  readonly to: string;
  /** The edge's bound. */
  readonly maxsize: number;
  /** Credits taken: messages in flight, counting those senders reserved. */
  readonly inFlight: number;
  /** Senders waiting for credit right now. */
  readonly waitingSenders: number;
  /** Messages queued for each receiver. */
  readonly queued: number[];
}

/**
 * Makes an edge from `senders` senders to `receivers` receivers, at most
 * `maxsize` messages in flight: a link (a `MessageChannel`) from every
 * sender to every receiver, and the shared credits of the edge.
 */
export function createEdge(
  from: string,
  to: string,
  senders: number,
  receivers: number,
  maxsize: number,
): Edge {
  const cells = createCells(maxsize, receivers);
  const channels = Array.from(
    { length: senders },
    () => Array.from({ length: receivers }, () => new MessageChannel()),
  );
  return {
    from,
    to,
    maxsize,
    cells,
    senders: channels.map((row, index) => ({
      ports: row.map((c) => c.port1),
      cells,
      maxsize,
      index,
      senders,
    })),
    receivers: Array.from({ length: receivers }, (_, index) => ({
      ports: channels.map((row) => row[index].port2),
      cells,
      maxsize,
      index,
      senders,
    })),
  };
}

/** Reads an edge's counters. */
export function edgeState(edge: Edge): EdgeState {
  const cells = readCells(edge.cells);
  return {
    from: edge.from,
    to: edge.to,
    maxsize: edge.maxsize,
    inFlight: edge.maxsize - cells.available,
    waitingSenders: cells.waiters,
    queued: cells.queued,
  };
}

/** Closes every port of an edge end (an end that no thread took). */
export function closeEnd(end: EdgeEnd): void {
  for (const port of end.ports) port.close();
}

/** The groups as wiring needs them. */
export interface WiredGroup {
  readonly name: string;
  readonly size: number;
  readonly maxsize: number | undefined;
}

/** Every edge of a run, in order, and each group's ends. */
export interface Wiring {
  readonly edges: readonly Edge[];
  /** Per group, per actor: the end it receives on (none for sources). */
  readonly inlets: readonly (readonly (EdgeEnd | undefined)[])[];
  /** Per group, per actor: the end it sends on (none for the last group). */
  readonly outlets: readonly (readonly (EdgeEnd | undefined)[])[];
  /** The main thread's end of the input edge, if it feeds the first group. */
  readonly input: EdgeEnd | undefined;
  /** The main thread's end of the results edge, if it reads them. */
  readonly results: EdgeEnd | undefined;
}

/**
 * Wires a run: an edge between every two adjacent groups (bounded by the
 * receiving group's `maxsize`, else `maxsize`), plus the main thread's input
 * and results edges when asked for.
 */
export function wire(
  groups: readonly WiredGroup[],
  maxsize: number,
  options: { input: boolean; results: boolean },
): Wiring {
  const edges: Edge[] = [];
  const inlets: (EdgeEnd | undefined)[][] = groups.map((g) =>
    new Array(g.size).fill(undefined)
  );
  const outlets: (EdgeEnd | undefined)[][] = groups.map((g) =>
    new Array(g.size).fill(undefined)
  );
  let input: EdgeEnd | undefined;
  let results: EdgeEnd | undefined;
  const first = groups[0];
  if (options.input) {
    const edge = createEdge(
      "input",
      first.name,
      1,
      first.size,
      first.maxsize ?? maxsize,
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
    );
    edges.push(edge);
    outlets[e] = [...edge.senders];
    inlets[e + 1] = [...edge.receivers];
  }
  if (options.results) {
    const last = groups[groups.length - 1];
    const edge = createEdge(last.name, "results", last.size, 1, maxsize);
    edges.push(edge);
    outlets[groups.length - 1] = [...edge.senders];
    results = edge.receivers[0];
  }
  return { edges, inlets, outlets, input, results };
}
