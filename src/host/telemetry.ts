/**
 * The relay's metrics as OpenTelemetry instruments, through
 * `@opentelemetry/api`. With Deno's built-in OpenTelemetry on
 * (`OTEL_DENO=true`) they are exported with the rest of the program's
 * telemetry; otherwise the API's no-op meter does nothing, so they cost
 * nothing.
 *
 * Names and units follow the semantic conventions' rules: lowercase,
 * dot-separated namespaces, snake_case words, counts of things pluralized,
 * a total time named `.time`, units in UCUM (`s`, `{message}`). Every series
 * carries the relay's attributes (`baton.relay.id`,
 * `baton.relay.logger.category`), so two relays in one process never share
 * one.
 *
 * The group counters are synchronous counters, fed with what each count grew
 * by since the last collection, and once more with the final counts when the
 * run ends: a program that exits right after its run still exports the
 * final values, since the runtime's last export, at exit, calls no
 * observable callback. The edges' messages in flight are a current value,
 * observed at each collection while the run lasts.
 *
 * @module
 */

import {
  type Attributes,
  type BatchObservableResult,
  metrics,
} from "@opentelemetry/api";
import type { GroupMetrics, RelayMetrics } from "../metrics.ts";

/** The counters of each group, and how each one reads a group's metrics. */
const GROUP_COUNTERS = [
  {
    name: "baton.group.received.messages",
    description: "Messages the actors of a group took off their queues",
    unit: "{message}",
    read: (group: GroupMetrics) => group.received,
  },
  {
    name: "baton.group.sent.messages",
    description: "Messages the actors of a group sent",
    unit: "{message}",
    read: (group: GroupMetrics) => group.sent,
  },
  {
    name: "baton.group.send_wait.time",
    description:
      "Time the actors of a group waited in send() for credit (backpressure)",
    unit: "s",
    read: (group: GroupMetrics) => group.waitedMs / 1000,
  },
  {
    name: "baton.group.errors",
    description: "Failures of the actors of a group",
    unit: "{error}",
    read: (group: GroupMetrics) => group.errors,
  },
  {
    name: "baton.group.attempts",
    description:
      "Calls of recv() by the actors of a group: one per message, one more per retry",
    unit: "{attempt}",
    read: (group: GroupMetrics) => group.attempts,
  },
  {
    name: "baton.group.retries",
    description: "Failed attempts at a message that were tried again",
    unit: "{retry}",
    read: (group: GroupMetrics) => group.retries,
  },
  {
    name: "baton.group.skipped.messages",
    description:
      "Messages the actors of a group sent to the dead letters after their last attempt failed",
    unit: "{message}",
    read: (group: GroupMetrics) => group.skipped,
  },
  {
    name: "baton.group.restarts",
    description: "Restarts of the actors of a group",
    unit: "{restart}",
    read: (group: GroupMetrics) => group.restarts,
  },
] as const;

/**
 * Told apart from the main thread's relays, those an actor starts in its
 * worker: each worker counts its runs from 1 too.
 */
const ISOLATE = "WorkerGlobalScope" in globalThis
  ? `${crypto.randomUUID().slice(0, 8)}-`
  : "";
let runs = 0;

/**
 * Exports `read()` as OpenTelemetry metrics until the returned function is
 * called, which exports the final counts. `logger` is the relay's LogTape
 * category.
 */
export function observe(
  read: () => RelayMetrics,
  logger: readonly string[],
): () => void {
  const relay: Attributes = {
    "baton.relay.id": `relay-${ISOLATE}${++runs}`,
    "baton.relay.logger.category": logger.join("."),
  };
  const meter = metrics.getMeter("baton");
  const counters = GROUP_COUNTERS.map(({ name, description, unit, read }) => ({
    read,
    counter: meter.createCounter(name, { description, unit }),
    /** Per group, by index: the count exported so far. */
    exported: [] as number[],
  }));
  const inFlight = meter.createObservableUpDownCounter("baton.edge.in_flight", {
    description: "Messages sent on an edge and not yet taken by a receiver",
    unit: "{message}",
  });
  const groupAttributes: Attributes[] = [];
  const count = (snapshot: RelayMetrics): void => {
    snapshot.groups.forEach((group, index) => {
      const attributes = groupAttributes[index] ??= {
        ...relay,
        "baton.group.name": group.name,
      };
      for (const { read, counter, exported } of counters) {
        const value = read(group);
        const before = exported[index];
        // At the first collection a count of 0 starts its series too.
        if (before === undefined || value > before) {
          counter.add(value - (before ?? 0), attributes);
          exported[index] = value;
        }
      }
    });
  };
  const callback = (result: BatchObservableResult): void => {
    const snapshot = read();
    count(snapshot);
    for (const edge of snapshot.edges) {
      result.observe(inFlight, edge.inFlight, {
        ...relay,
        "baton.edge.from.name": edge.from,
        "baton.edge.to.name": edge.to,
      });
    }
  };
  meter.addBatchObservableCallback(callback, [inFlight]);
  return () => {
    meter.removeBatchObservableCallback(callback, [inFlight]);
    count(read());
  };
}
