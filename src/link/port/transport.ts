/**
 * The port transport: every sender→receiver pair of an edge is a
 * `MessageChannel`, and the edge's credits are counters in one
 * `SharedArrayBuffer` (`credit.ts`). Both cross to a worker with its init
 * message: the ports are transferred, the buffer is shared. So it links
 * threads of one process, and only those.
 *
 * @module
 */

import { Inlet } from "../inlet.ts";
import { grabSize, Outlet, type PostFailure } from "../outlet.ts";
import type {
  EdgeEnd,
  EdgeHandle,
  EdgeShape,
  ReceiverEndSpec,
  SenderEndSpec,
  Transport,
  Wire,
} from "../transport.ts";
import {
  createCells,
  readCells,
  SharedReceiverCredit,
  SharedSenderCredit,
  wakeAt,
  wakeSenders,
} from "./credit.ts";
import type * as Replay from "./replay.ts";
import type { PortRelink, ReplayEnd } from "./replay.ts";

/**
 * Replay (`replay.ts` and its three modules), which only the ends of a
 * restartable edge use: loaded with this module, but in an actor's worker
 * (marked by `worker/flag.ts` before any module of baton evaluates) only
 * once an end needs it, by {@linkcode portTransport}'s `prepare()`, which
 * the runner awaits before it opens its ends. So the worker of an actor on
 * ordinary edges never loads it. No module of replay's graph may import
 * this one: its evaluation waits for replay here, a cycle would never end
 * (`tests/architecture_test.ts` checks).
 */
let replayCode: typeof Replay | undefined =
  (globalThis as Record<symbol, unknown>)[Symbol.for("baton.actorWorker")] ===
      true
    ? undefined
    : await import("./replay.ts");

/** Replay's module; throws unless it is loaded. */
function replayModule(): typeof Replay {
  if (replayCode === undefined) {
    throw new Error(
      "the port transport's replay is not loaded in this thread: await portTransport.prepare() first",
    );
  }
  return replayCode;
}

/** The port transport's name, in every end spec it makes. */
export const PORT = "port";

/** What the port transport adds to an end spec. */
export interface PortEnd extends EdgeEnd {
  /** One port per peer on the other side of the edge, by its index. */
  readonly ports: MessagePort[];
  /** The edge's shared credit counters. */
  readonly cells: SharedArrayBuffer;
  /** On an edge whose actors may restart: its replay cells (`replay.ts`). */
  readonly replay?: ReplayEnd;
}

/** `spec` as a relink of the port transport, if it is one. */
function portRelink(spec: unknown): PortRelink | undefined {
  const relink = spec as PortRelink;
  return relink.transport === PORT && relink.port instanceof MessagePort &&
      Number.isInteger(relink.peer)
    ? relink
    : undefined;
}

/** A port as a wire. */
export function portWire(port: MessagePort): Wire {
  return {
    post: (item, transfer) => port.postMessage(item, transfer),
    listen: (deliver) => {
      port.onmessage = (event) => deliver(event.data);
    },
    close: () => port.close(),
  };
}

/** `spec` as a port end; throws if another transport made it. */
export function portEnd(spec: EdgeEnd): PortEnd {
  const end = spec as PortEnd;
  if (
    end.transport !== PORT || !Array.isArray(end.ports) ||
    !(end.cells instanceof SharedArrayBuffer)
  ) {
    throw new TypeError(
      `Not an end of the port transport: ${String(end.transport)}`,
    );
  }
  return end;
}

function newReplayEdge(
  senders: number,
  receivers: number,
  cells: SharedArrayBuffer,
  maxsize: number,
  restart: { senders: boolean; receivers: boolean },
): Replay.ReplayEdge {
  const { ReplayEdge, ReplayLayout } = replayModule();
  return new ReplayEdge(
    new ReplayLayout(senders, receivers),
    cells,
    maxsize,
    restart,
  );
}

function createEdge(shape: EdgeShape): EdgeHandle {
  const { from, to, senders, receivers, maxsize } = shape;
  const cells = createCells(maxsize, receivers);
  const channels = Array.from(
    { length: senders },
    () => Array.from({ length: receivers }, () => new MessageChannel()),
  );
  const restartable = shape.restartable !== undefined &&
    (shape.restartable.senders || shape.restartable.receivers);
  const replay = restartable
    ? newReplayEdge(
      senders,
      receivers,
      cells,
      maxsize,
      shape.restartable!,
    )
    : undefined;
  const base = {
    transport: PORT,
    senders,
    receivers,
    maxsize,
    cells,
    ...(replay === undefined ? {} : { replay: replay.first }),
  };
  const restarts = replay === undefined ? {} : {
    restartSender(index: number) {
      const r = replay.restartSender(index);
      return {
        end: {
          ...base,
          role: "sender",
          index,
          ports: r.ports,
          replay: r.replay,
        },
        peers: r.peers.map((p): PortRelink => ({
          transport: PORT,
          role: "receiver",
          peer: index,
          ...p,
        })),
        lost: r.lost,
      } as const;
    },
    restartReceiver(index: number) {
      const r = replay.restartReceiver(index);
      return {
        end: {
          ...base,
          role: "receiver",
          index,
          ports: r.ports,
          replay: r.replay,
        },
        peers: r.peers.map((p): PortRelink => ({
          transport: PORT,
          role: "sender",
          peer: index,
          ...p,
        })),
        lost: r.lost,
      } as const;
    },
  };
  return {
    ...restarts,
    from,
    to,
    maxsize,
    senders: channels.map((row, index): SenderEndSpec & PortEnd => ({
      ...base,
      role: "sender",
      index,
      ports: row.map((c) => c.port1),
    })),
    receivers: Array.from(
      { length: receivers },
      (_, index): ReceiverEndSpec & PortEnd => ({
        ...base,
        role: "receiver",
        index,
        ports: channels.map((row) => row[index].port2),
      }),
    ),
    state() {
      const now = readCells(cells);
      return {
        from,
        to,
        maxsize,
        inFlight: maxsize - now.available,
        waitingSenders: now.waiters,
        queued: now.queued,
      };
    },
    close() {
      wakeSenders(cells);
      // A port transferred to another thread is detached here: closing it
      // is a no-op.
      for (const row of [...channels, replay?.channels ?? []]) {
        for (const channel of row) {
          channel.port1.close();
          channel.port2.close();
        }
      }
    },
  };
}

/** MessageChannels between threads, credits in shared memory. */
export const portTransport: Transport = {
  name: PORT,
  async prepare(spec) {
    if (spec === undefined || portEnd(spec).replay !== undefined) {
      replayCode ??= await import("./replay.ts");
    }
  },
  createEdge,
  openSender(spec: SenderEndSpec, onFailure: PostFailure): Outlet {
    const end = portEnd(spec);
    if (end.replay !== undefined) {
      return replayModule().openReplaySender(
        { ...end, replay: end.replay },
        // Sized as a plain edge's: without the bound, a batch filled the
        // whole window and a replaying link ran stop-and-wait.
        (wires, credit) =>
          new Outlet(wires, credit, onFailure, {
            maxsize: end.maxsize,
            senders: end.senders,
          }),
      );
    }
    return new Outlet(
      end.ports.map(portWire),
      new SharedSenderCredit(end.cells, grabSize(end.maxsize, end.senders)),
      onFailure,
      { maxsize: end.maxsize, senders: end.senders },
    );
  },
  openReceiver(spec: ReceiverEndSpec): Inlet {
    const end = portEnd(spec);
    if (end.replay !== undefined) {
      return replayModule().openReplayReceiver({ ...end, replay: end.replay });
    }
    return new Inlet(
      end.ports.map(portWire),
      new SharedReceiverCredit(
        end.cells,
        end.index,
        end.maxsize,
        wakeAt(end.maxsize),
      ),
    );
  },
  transferables(spec) {
    const relink = portRelink(spec);
    return relink !== undefined
      ? [relink.port]
      : [...portEnd(spec as EdgeEnd).ports];
  },
  discard(spec) {
    const relink = portRelink(spec);
    if (relink !== undefined) relink.port.close();
    else for (const port of portEnd(spec as EdgeEnd).ports) port.close();
  },
  relink(end, spec) {
    const relink = portRelink(spec);
    if (relink === undefined) {
      throw new TypeError(
        `Not a relink of the port transport: ${String(spec.transport)}`,
      );
    }
    replayModule().relinkEnd(end, relink);
  },
  // Without replay loaded, no inlet replays.
  chain(inlet, outlet) {
    if (isReplayInlet(inlet) && outlet !== undefined) inlet.chain(outlet);
  },
  redelivered: (inlet) => isReplayInlet(inlet) && inlet.redelivered,
  drained: (inlet) =>
    isReplayInlet(inlet) ? inlet.drained() : Promise.resolve(),
};

function isReplayInlet(inlet: Inlet): inlet is Replay.ReplayInlet {
  return replayCode !== undefined && inlet instanceof replayCode.ReplayInlet;
}
