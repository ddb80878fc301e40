/**
 * The conformance suite fails a broken transport: the port transport with
 * one fault each (a wire that doubles a batch, one that sends a pill twice
 * or too early, credits that never run out) must fail the interleavings.
 * The faults that lose a message or a wake-up are caught too, by the
 * suite's guard on settling, but only after it: too slow to run here.
 *
 * @module
 */

import assert from "node:assert/strict";
// Named here, not in deno.json: the import map is the package's, and this
// one is for tests and benchmarks only.
// deno-lint-ignore no-import-prefix
import fc from "npm:fast-check@^4.10.2";
import { Inlet } from "../../src/link/inlet.ts";
import { grabSize, Outlet } from "../../src/link/outlet.ts";
import {
  SharedReceiverCredit,
  SharedSenderCredit,
} from "../../src/link/port/credit.ts";
import {
  portEnd,
  portTransport,
  portWire,
} from "../../src/link/port/transport.ts";
import {
  PILL,
  type SenderCredit,
  type Transport,
  type Wire,
  type WireItem,
} from "../../src/link/transport.ts";
import { check } from "./_interleavings.ts";
import { cases } from "./conformance.ts";

/** The port transport, its senders' wires and credits altered. */
function broken(
  post: (wire: Wire, item: WireItem, n: number) => void,
  credit: (credit: SenderCredit) => SenderCredit = (c) => c,
): Transport {
  return {
    ...portTransport,
    openSender(spec, onFailure) {
      const end = portEnd(spec);
      const wires = end.ports.map((port): Wire => {
        const wire = portWire(port);
        let n = 0;
        return { ...wire, post: (item) => post(wire, item, ++n) };
      });
      const shared = new SharedSenderCredit(
        end.cells,
        grabSize(end.maxsize, end.senders),
      );
      return new Outlet(wires, credit(shared), onFailure);
    },
    openReceiver(spec) {
      const end = portEnd(spec);
      return new Inlet(
        end.ports.map(portWire),
        new SharedReceiverCredit(end.cells, end.index, end.maxsize),
      );
    },
  };
}

/** Each fault, on the port transport. */
const faults: [string, Transport][] = [
  [
    "a wire that doubles a batch",
    broken((wire, item, n) => {
      wire.post(item, []);
      if (n === 2 && item !== PILL) wire.post(item, []);
    }),
  ],
  [
    "a wire that sends its pill twice",
    broken((wire, item) => {
      wire.post(item, []);
      if (item === PILL) wire.post(PILL, []);
    }),
  ],
  [
    "a wire that sends a pill before its second batch",
    broken((wire, item, n) => {
      if (n === 2) wire.post(PILL, []);
      wire.post(item, []);
    }),
  ],
  [
    "credits that never run out",
    broken(
      (wire, item) => wire.post(item, []),
      (credit) => ({
        take: () => (credit.take(), true),
        giveBack: () => credit.giveBack(),
        queued: (index, n) => credit.queued(index, n),
        queueLength: (index) => credit.queueLength(index),
        wait: () => credit.wait(),
        wakeAll: () => credit.wakeAll(),
      }),
    ),
  ],
];

for (const [fault, transport] of faults) {
  Deno.test(`the conformance suite fails ${fault}`, async () => {
    await assert.rejects(
      fc.assert(
        fc.asyncProperty(
          cases(false, 8),
          (c) => check(transport, undefined, c),
        ),
        { numRuns: 150, endOnFailure: true },
      ),
      // A property of the suite failed, not the test itself.
      (error: Error) => error.cause instanceof assert.AssertionError,
    );
  });
}
