/**
 * The relay's metrics as OpenTelemetry instruments, through
 * `@opentelemetry/api`. With Deno's built-in OpenTelemetry on
 * (`OTEL_DENO=true`) they are exported with the rest of the program's
 * telemetry; otherwise the API's no-op meter never calls back, so they cost
 * nothing.
 *
 * @module
 */

import { type BatchObservableResult, metrics } from "@opentelemetry/api";
import type { GroupMetrics, RelayMetrics } from "../metrics.ts";

/** The counters of each group: the field of `GroupMetrics` each one reads. */
const GROUP_COUNTERS = [
  {
    field: "received",
    name: "baton.group.received",
    description: "Messages the actors of a group took off their queues",
    unit: "{message}",
  },
  {
    field: "sent",
    name: "baton.group.sent",
    description: "Messages the actors of a group sent",
    unit: "{message}",
  },
  {
    field: "waitedMs",
    name: "baton.group.send_wait",
    description: "Time the actors of a group waited for credit (backpressure)",
    unit: "ms",
  },
  {
    field: "errors",
    name: "baton.group.errors",
    description: "Failures of the actors of a group",
    unit: "{error}",
  },
] as const satisfies readonly {
  field: keyof GroupMetrics;
  name: string;
  description: string;
  unit: string;
}[];

/** Observes `read()` as OpenTelemetry metrics until the returned function is called. */
export function observe(read: () => RelayMetrics): () => void {
  const meter = metrics.getMeter("baton");
  const counters = GROUP_COUNTERS.map(({ field, name, description, unit }) => ({
    field,
    instrument: meter.createObservableCounter(name, { description, unit }),
  }));
  const inFlight = meter.createObservableGauge("baton.edge.in_flight", {
    description: "Messages sent on an edge and not yet taken by a receiver",
    unit: "{message}",
  });
  const instruments = [...counters.map((c) => c.instrument), inFlight];
  const callback = (result: BatchObservableResult): void => {
    const snapshot = read();
    for (const group of snapshot.groups) {
      const attributes = { "baton.group": group.name };
      for (const { field, instrument } of counters) {
        result.observe(instrument, group[field], attributes);
      }
    }
    for (const edge of snapshot.edges) {
      result.observe(inFlight, edge.inFlight, {
        "baton.edge.from": edge.from,
        "baton.edge.to": edge.to,
      });
    }
  };
  meter.addBatchObservableCallback(callback, instruments);
  return () => meter.removeBatchObservableCallback(callback, instruments);
}
