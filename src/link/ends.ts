/**
 * Opening an edge's ends in any thread, by the name of the transport that
 * made them. Every transport is listed here, so a worker can open the ends
 * it is handed without the main thread's help: a new transport adds itself
 * to {@linkcode TRANSPORTS}.
 *
 * @module
 */

import type { Inlet } from "./inlet.ts";
import type { Outlet, PostFailure } from "./outlet.ts";
import { portTransport } from "./port/transport.ts";
import type {
  EdgeEnd,
  ReceiverEndSpec,
  RelinkSpec,
  SenderEndSpec,
  Transport,
} from "./transport.ts";

/** Every transport, by name. */
const TRANSPORTS: ReadonlyMap<string, Transport> = new Map(
  [portTransport].map((t) => [t.name, t]),
);

/**
 * Transports of one process, registered while it uses them (a run across
 * processes names its Redis transport after the run): never in a worker.
 */
const registered = new Map<string, Transport>();

/** Lists `transport` by its name until the returned function is called. */
export function registerTransport(transport: Transport): () => void {
  registered.set(transport.name, transport);
  return () => {
    if (registered.get(transport.name) === transport) {
      registered.delete(transport.name);
    }
  };
}

/** The transport a run uses unless told otherwise. */
export const defaultTransport: Transport = portTransport;

/** The transport that made `spec`; throws if none is known by its name. */
export function transportOf(spec: EdgeEnd | RelinkSpec): Transport {
  const transport = TRANSPORTS.get(spec.transport) ??
    registered.get(spec.transport);
  if (transport === undefined) {
    throw new TypeError(`Unknown link transport: ${String(spec.transport)}`);
  }
  return transport;
}

/**
 * Loads what opening `spec` needs in this thread, if its transport loads
 * anything lazily (see `Transport.prepare`).
 */
export async function prepareEnd(spec: EdgeEnd | undefined): Promise<void> {
  if (spec !== undefined) await transportOf(spec).prepare?.(spec);
}

/** Opens a sender's end, whatever transport made it. */
export function openSender(
  spec: SenderEndSpec,
  onFailure: PostFailure,
): Outlet {
  return transportOf(spec).openSender(spec, onFailure);
}

/** Opens a receiver's end, whatever transport made it. */
export function openReceiver(spec: ReceiverEndSpec): Inlet {
  return transportOf(spec).openReceiver(spec);
}

/** What moves with an end to another thread (none for no end). */
export function transferables(
  spec: EdgeEnd | RelinkSpec | undefined,
): Transferable[] {
  return spec === undefined ? [] : transportOf(spec).transferables(spec);
}

/** Closes an end that no thread opened. */
export function discardEnd(spec: EdgeEnd | RelinkSpec): void {
  transportOf(spec).discard(spec);
}

/**
 * Hands a live end the fresh link to a peer that restarted; throws if its
 * transport cannot restart.
 */
export function relinkEnd(end: Outlet | Inlet, spec: RelinkSpec): void {
  const transport = transportOf(spec);
  if (transport.relink === undefined) {
    throw new TypeError(
      `Cannot relink: the ${transport.name} transport cannot restart actors`,
    );
  }
  transport.relink(end, spec);
}

/**
 * Tells an actor's inlet the outlet its handler sends on, for transports
 * that count a message handled only once its outputs went out.
 */
export function chainEnds(
  spec: ReceiverEndSpec,
  inlet: Inlet,
  outlet: Outlet | undefined,
): void {
  transportOf(spec).chain?.(inlet, outlet);
}

/** Resolves once every message `inlet` handled counts as handled. */
export function drainedEnd(spec: ReceiverEndSpec, inlet: Inlet): Promise<void> {
  return transportOf(spec).drained?.(inlet) ?? Promise.resolve();
}

/** Whether the message `inlet` (opened from `spec`) handles may be a replay. */
export function isRedelivered(spec: ReceiverEndSpec, inlet: Inlet): boolean {
  return transportOf(spec).redelivered?.(inlet) ?? false;
}
