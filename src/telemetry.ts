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
import type { RelayMetrics } from "./metrics.ts";

/** Observes `read()` as OpenTelemetry metrics until the returned function is called. */
export function observe(read: () => RelayMetrics): () => void {
  const meter = metrics.getMeter("baton");
  const received = meter.createObservableCounter("baton.group.received", {
    description: "Messages the actors of a group took off their queues",
    unit: "{message}",
  });
  const sent = meter.createObservableCounter("baton.group.sent", {
    description: "Messages the actors of a group sent",
    unit: "{message}",
  });
  const waited = meter.createObservableCounter("baton.group.send_wait", {
    description: "Time the actors of a group waited for credit (backpressure)",
    unit: "ms",
  });
  const errors = meter.createObservableCounter("baton.group.errors", {
    description: "Failures of the actors of a group",
    unit: "{error}",
  });
  const inFlight = meter.createObservableGauge("baton.edge.in_flight", {
    description: "Messages sent on an edge and not yet taken by a receiver",
    unit: "{message}",
  });
  const instruments = [received, sent, waited, errors, inFlight];
  const callback = (result: BatchObservableResult): void => {
    const snapshot = read();
    for (const group of snapshot.groups) {
      const attributes = { "baton.group": group.name };
      result.observe(received, group.received, attributes);
      result.observe(sent, group.sent, attributes);
      result.observe(waited, group.waitedMs, attributes);
      result.observe(errors, group.errors, attributes);
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
