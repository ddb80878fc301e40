import assert from "node:assert/strict";
import {
  type BatchObservableCallback,
  type BatchObservableResult,
  type Meter,
  type MeterProvider,
  metrics,
  type Observable,
} from "@opentelemetry/api";
import { observe } from "../../src/host/telemetry.ts";
import type { RelayMetrics } from "../../src/metrics.ts";

/** A meter that keeps its instruments and batch callbacks, to call by hand. */
function recordingProvider() {
  const callbacks = new Set<BatchObservableCallback>();
  const instrument = (name: string) => ({ name } as unknown as Observable);
  const meter = {
    createObservableCounter: instrument,
    createObservableGauge: instrument,
    addBatchObservableCallback: (cb: BatchObservableCallback) =>
      void callbacks.add(cb),
    removeBatchObservableCallback: (cb: BatchObservableCallback) =>
      void callbacks.delete(cb),
  } as unknown as Meter;
  const provider: MeterProvider = { getMeter: () => meter };
  const collect = () => {
    const seen: string[] = [];
    const result: BatchObservableResult = {
      observe: (
        o: Observable,
        value: number,
        attributes?: Record<string, unknown>,
      ) =>
        void seen.push(
          `${(o as unknown as { name: string }).name} ${
            JSON.stringify(attributes)
          } ${value}`,
        ),
    };
    for (const cb of callbacks) cb(result);
    return seen;
  };
  return { provider, callbacks, collect };
}

Deno.test("observe() exports group and edge metrics through @opentelemetry/api, until stopped", () => {
  const { provider, callbacks, collect } = recordingProvider();
  metrics.setGlobalMeterProvider(provider);
  try {
    const snapshot: RelayMetrics = {
      elapsedMs: 10,
      groups: [
        {
          name: "prod",
          actors: 1,
          finished: 0,
          received: 0,
          sent: 7,
          waitedMs: 1.5,
          errors: 0,
        },
        {
          name: "cons",
          actors: 2,
          finished: 0,
          received: 5,
          sent: 0,
          waitedMs: 0,
          errors: 1,
        },
      ],
      edges: [{
        from: "prod",
        to: "cons",
        maxsize: 4,
        inFlight: 2,
        waitingSenders: 1,
      }],
    };
    const stop = observe(() => snapshot);
    assert.deepEqual(collect(), [
      'baton.group.received {"baton.group":"prod"} 0',
      'baton.group.sent {"baton.group":"prod"} 7',
      'baton.group.send_wait {"baton.group":"prod"} 1.5',
      'baton.group.errors {"baton.group":"prod"} 0',
      'baton.group.received {"baton.group":"cons"} 5',
      'baton.group.sent {"baton.group":"cons"} 0',
      'baton.group.send_wait {"baton.group":"cons"} 0',
      'baton.group.errors {"baton.group":"cons"} 1',
      'baton.edge.in_flight {"baton.edge.from":"prod","baton.edge.to":"cons"} 2',
    ]);
    stop();
    assert.equal(
      callbacks.size,
      0,
      "the callback is removed when the run ends",
    );
  } finally {
    metrics.disable();
  }
});
