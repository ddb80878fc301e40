import assert from "node:assert/strict";
import {
  type Attributes,
  type BatchObservableCallback,
  type BatchObservableResult,
  type Meter,
  type MeterProvider,
  metrics,
  type Observable,
} from "@opentelemetry/api";
import { observe } from "../../src/host/telemetry.ts";
import type { GroupMetrics, RelayMetrics } from "../../src/metrics.ts";

// --- Over a fake meter: what observe() records, collection by collection ---

/**
 * A meter that logs counters' adds and observations as lines, and keeps its
 * batch callbacks, to run a collection by hand.
 */
function recordingProvider() {
  const callbacks = new Set<BatchObservableCallback>();
  const lines: string[] = [];
  const line = (name: string, attributes: unknown, value: number) =>
    void lines.push(`${name} ${JSON.stringify(attributes)} ${value}`);
  const meter = {
    createCounter: (name: string) => ({
      add: (value: number, attributes?: Attributes) =>
        line(`add ${name}`, attributes, value),
    }),
    createObservableUpDownCounter: (name: string) =>
      ({ name }) as unknown as Observable,
    addBatchObservableCallback: (cb: BatchObservableCallback) =>
      void callbacks.add(cb),
    removeBatchObservableCallback: (cb: BatchObservableCallback) =>
      void callbacks.delete(cb),
  } as unknown as Meter;
  const provider: MeterProvider = { getMeter: () => meter };
  const result: BatchObservableResult = {
    observe: (o: Observable, value: number, attributes?: Attributes) =>
      line(
        `observe ${(o as unknown as { name: string }).name}`,
        attributes,
        value,
      ),
  };
  /** Runs a collection; returns what was recorded since the last call. */
  const collect = () => {
    for (const cb of callbacks) cb(result);
    return take();
  };
  const take = () => lines.splice(0);
  return { provider, callbacks, collect, take };
}

function group(name: string, fields: Partial<GroupMetrics>): GroupMetrics {
  return {
    name,
    actors: 1,
    finished: 0,
    received: 0,
    sent: 0,
    waitedMs: 0,
    errors: 0,
    attempts: 0,
    retries: 0,
    skipped: 0,
    restarts: 0,
    ...fields,
  };
}

function snapshot(
  prod: Partial<GroupMetrics>,
  cons: Partial<GroupMetrics>,
  inFlight: number,
): RelayMetrics {
  return {
    elapsedMs: 10,
    groups: [group("prod", prod), group("cons", cons)],
    edges: [{
      from: "prod",
      to: "cons",
      maxsize: 4,
      inFlight,
      waitingSenders: 0,
    }],
  };
}

/** The `baton.relay.id` of the first line recorded. */
const relayId = (lines: string[]) =>
  lines[0]?.match(/"baton\.relay\.id":"([^"]+)"/)?.[1];

Deno.test("observe() adds what each count grew by, waits in seconds, and the final counts when stopped", () => {
  const { provider, callbacks, collect, take } = recordingProvider();
  metrics.setGlobalMeterProvider(provider);
  try {
    let current = snapshot({ sent: 7, waitedMs: 1500 }, { received: 5 }, 2);
    const stop = observe(() => current, ["app", "etl"]);
    assert.deepEqual(take(), [], "nothing is recorded before a collection");
    const first = collect();
    const relay = relayId(first);
    assert.match(relay ?? "", /^relay-\d+$/);
    const on = (g: string) =>
      JSON.stringify({
        "baton.relay.id": relay,
        "baton.relay.logger.category": "app.etl",
        "baton.group.name": g,
      });
    const edge = JSON.stringify({
      "baton.relay.id": relay,
      "baton.relay.logger.category": "app.etl",
      "baton.edge.from.name": "prod",
      "baton.edge.to.name": "cons",
    });
    assert.deepEqual(first, [
      // A count of 0 starts its series too.
      `add baton.group.received.messages ${on("prod")} 0`,
      `add baton.group.sent.messages ${on("prod")} 7`,
      `add baton.group.send_wait.time ${on("prod")} 1.5`,
      `add baton.group.errors ${on("prod")} 0`,
      `add baton.group.attempts ${on("prod")} 0`,
      `add baton.group.retries ${on("prod")} 0`,
      `add baton.group.skipped.messages ${on("prod")} 0`,
      `add baton.group.restarts ${on("prod")} 0`,
      `add baton.group.received.messages ${on("cons")} 5`,
      `add baton.group.sent.messages ${on("cons")} 0`,
      `add baton.group.send_wait.time ${on("cons")} 0`,
      `add baton.group.errors ${on("cons")} 0`,
      `add baton.group.attempts ${on("cons")} 0`,
      `add baton.group.retries ${on("cons")} 0`,
      `add baton.group.skipped.messages ${on("cons")} 0`,
      `add baton.group.restarts ${on("cons")} 0`,
      `observe baton.edge.in_flight ${edge} 2`,
    ]);

    current = snapshot({ sent: 9, waitedMs: 1750 }, { received: 8 }, 1);
    assert.deepEqual(
      collect(),
      [
        `add baton.group.sent.messages ${on("prod")} 2`,
        `add baton.group.send_wait.time ${on("prod")} 0.25`,
        `add baton.group.received.messages ${on("cons")} 3`,
        `observe baton.edge.in_flight ${edge} 1`,
      ],
      "a later collection adds only what grew",
    );

    current = snapshot({ sent: 10, waitedMs: 1750 }, {
      received: 10,
      errors: 1,
      attempts: 12,
      retries: 2,
      skipped: 1,
    }, 0);
    stop();
    assert.equal(
      callbacks.size,
      0,
      "the callback is removed when the run ends",
    );
    assert.deepEqual(
      take(),
      [
        `add baton.group.sent.messages ${on("prod")} 1`,
        `add baton.group.received.messages ${on("cons")} 2`,
        `add baton.group.errors ${on("cons")} 1`,
        `add baton.group.attempts ${on("cons")} 12`,
        `add baton.group.retries ${on("cons")} 2`,
        `add baton.group.skipped.messages ${on("cons")} 1`,
      ],
      "the final counts are added when the run ends",
    );
  } finally {
    metrics.disable();
  }
});

Deno.test("observe() gives each run its own baton.relay.id", () => {
  const { provider, collect } = recordingProvider();
  metrics.setGlobalMeterProvider(provider);
  try {
    const current = snapshot({}, {}, 0);
    const stopA = observe(() => current, ["baton"]);
    const a = relayId(collect());
    stopA();
    const stopB = observe(() => current, ["baton"]);
    const b = relayId(collect());
    stopB();
    assert.match(a ?? "", /^relay-\d+$/);
    assert.match(b ?? "", /^relay-\d+$/);
    assert.notEqual(a, b);
  } finally {
    metrics.disable();
  }
});

// --- A real run exporting to a real OTLP receiver ---

/** The few fields of an OTLP/JSON `ExportMetricsServiceRequest` read here. */
interface MetricsRequest {
  resourceMetrics: {
    scopeMetrics: {
      scope: { name: string };
      metrics: OtlpMetric[];
    }[];
  }[];
}

interface OtlpMetric {
  name: string;
  unit?: string;
  sum?: {
    dataPoints: DataPoint[];
    aggregationTemporality?: number;
    isMonotonic?: boolean;
  };
  gauge?: { dataPoints: DataPoint[] };
  histogram?: { dataPoints: DataPoint[] };
}

interface DataPoint {
  attributes?: { key: string; value: { stringValue?: string } }[];
  asDouble?: number;
  asInt?: string | number;
}

/** OTLP's `AGGREGATION_TEMPORALITY_CUMULATIVE`. */
const CUMULATIVE = 2;

const FIXTURE = new URL("../fixtures/otel_run.ts", import.meta.url);

Deno.test("a run exports its metrics over OTLP/JSON, one series per relay and group, with the final counts", async () => {
  const requests: MetricsRequest[] = [];
  const contentTypes = new Set<string | null>();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    async (request) => {
      if (
        request.method === "POST" &&
        new URL(request.url).pathname === "/v1/metrics"
      ) {
        contentTypes.add(request.headers.get("content-type"));
        requests.push(await request.json());
      } else {
        // Logs and traces are accepted, and not read.
        await request.body?.cancel();
      }
      return Response.json({});
    },
  );
  let output: Deno.CommandOutput;
  try {
    output = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-R", FIXTURE.href],
      env: {
        OTEL_DENO: "true",
        OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
        OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${server.addr.port}`,
        OTEL_METRIC_EXPORT_INTERVAL: "50",
      },
      stdout: "piped",
      stderr: "piped",
      // A guard against a run that never ends, not a synchronisation.
      signal: AbortSignal.timeout(60_000),
    }).output();
  } finally {
    await server.shutdown();
  }
  const stderr = new TextDecoder().decode(output.stderr);
  assert.equal(output.code, 0, stderr);
  // Complete now: the runtime's last export, at exit, waits for its answer,
  // and the receiver records a body before it answers.
  const final: Record<"fed" | "sourced", RelayMetrics> = JSON.parse(
    new TextDecoder().decode(output.stdout),
  );
  assert.deepEqual([...contentTypes], ["application/json"]);

  // Every baton data point, in export order, and each instrument's kind.
  const kinds = new Map<string, string>();
  const points: { metric: string; attributes: Attributes; value: number }[] =
    [];
  for (const request of requests) {
    for (const { scopeMetrics } of request.resourceMetrics) {
      for (const { scope, metrics } of scopeMetrics) {
        if (scope.name !== "baton") continue;
        for (const metric of metrics) {
          const data = metric.sum ?? metric.gauge ?? metric.histogram;
          const kind = JSON.stringify({
            unit: metric.unit,
            type: metric.sum ? "sum" : metric.gauge ? "gauge" : "histogram",
            monotonic: metric.sum?.isMonotonic,
            temporality: metric.sum?.aggregationTemporality,
          });
          assert.equal(kinds.get(metric.name) ?? kind, kind, metric.name);
          kinds.set(metric.name, kind);
          for (const point of data!.dataPoints) {
            points.push({
              metric: metric.name,
              attributes: Object.fromEntries(
                (point.attributes ?? []).map((a) => [
                  a.key,
                  a.value.stringValue,
                ]),
              ),
              value: point.asDouble ?? Number(point.asInt),
            });
          }
        }
      }
    }
  }
  const counter = (unit: string) =>
    JSON.stringify({
      unit,
      type: "sum",
      monotonic: true,
      temporality: CUMULATIVE,
    });
  assert.deepEqual(
    Object.fromEntries(kinds),
    {
      "baton.group.received.messages": counter("{message}"),
      "baton.group.sent.messages": counter("{message}"),
      "baton.group.send_wait.time": counter("s"),
      "baton.group.errors": counter("{error}"),
      "baton.group.attempts": counter("{attempt}"),
      "baton.group.retries": counter("{retry}"),
      "baton.group.skipped.messages": counter("{message}"),
      "baton.group.restarts": counter("{restart}"),
      "baton.edge.in_flight": JSON.stringify({
        unit: "{message}",
        type: "sum",
        monotonic: false,
        temporality: CUMULATIVE,
      }),
    },
  );

  // The relays by their logger category, each with one id of its own.
  const ids = new Map<string, Set<unknown>>();
  for (const { attributes } of points) {
    const category = String(attributes["baton.relay.logger.category"]);
    ids.set(
      category,
      (ids.get(category) ?? new Set()).add(attributes["baton.relay.id"]),
    );
  }
  assert.deepEqual([...ids.keys()].sort(), ["baton", "otel.fed"]);
  const fedId = [...ids.get("otel.fed")!];
  const sourcedId = [...ids.get("baton")!];
  assert.equal(fedId.length, 1);
  assert.equal(sourcedId.length, 1);
  assert.match(String(fedId[0]), /^relay-\d+$/);
  assert.match(String(sourcedId[0]), /^relay-\d+$/);
  assert.notEqual(fedId[0], sourcedId[0]);

  // The last value of each counter series: the final counts, in seconds
  // for waits, and separate series for the two relays' group-0 and group-1.
  const last = new Map<string, number>();
  for (const { metric, attributes, value } of points) {
    if (metric === "baton.edge.in_flight") continue;
    assert.deepEqual(Object.keys(attributes).sort(), [
      "baton.group.name",
      "baton.relay.id",
      "baton.relay.logger.category",
    ]);
    last.set(
      `${metric} ${attributes["baton.relay.logger.category"]} ${
        attributes["baton.group.name"]
      }`,
      value,
    );
  }
  const expected = new Map<string, number>();
  for (const [relay, category] of [["fed", "otel.fed"], ["sourced", "baton"]]) {
    for (const g of final[relay as "fed" | "sourced"].groups) {
      const at = (metric: string) => `${metric} ${category} ${g.name}`;
      expected.set(at("baton.group.received.messages"), g.received);
      expected.set(at("baton.group.sent.messages"), g.sent);
      expected.set(at("baton.group.send_wait.time"), g.waitedMs / 1000);
      expected.set(at("baton.group.errors"), g.errors);
      expected.set(at("baton.group.attempts"), g.attempts);
      expected.set(at("baton.group.retries"), g.retries);
      expected.set(at("baton.group.skipped.messages"), g.skipped);
      expected.set(at("baton.group.restarts"), g.restarts);
    }
  }
  assert.deepEqual(
    [...last.keys()].sort(),
    [...expected.keys()].sort(),
  );
  for (const [series, value] of expected) {
    assert.ok(
      Math.abs(last.get(series)! - value) <= 1e-9,
      `${series}: exported ${last.get(series)}, ran ${value}`,
    );
  }
  // What the runs sent: 30 items fed through two proxies to a tally, and 50
  // from a source to a tally behind an edge of maxsize 1, so that its sends
  // after the first wait for credit.
  const counts = (m: RelayMetrics) =>
    m.groups.map((g) => [g.name, g.received, g.sent, g.errors]);
  assert.deepEqual(counts(final.fed), [
    ["group-0", 30, 30, 0],
    ["group-1", 30, 0, 0],
  ]);
  assert.deepEqual(counts(final.sourced), [
    ["group-0", 0, 50, 0],
    ["group-1", 50, 0, 0],
  ]);
  assert.ok(final.sourced.groups[0].waitedMs > 0);

  // Messages in flight, per relay and edge: the fed relay's were collected
  // during its run (its input ends only after a collection).
  const edges = new Set<string>();
  for (const { metric, attributes, value } of points) {
    if (metric !== "baton.edge.in_flight") continue;
    assert.deepEqual(Object.keys(attributes).sort(), [
      "baton.edge.from.name",
      "baton.edge.to.name",
      "baton.relay.id",
      "baton.relay.logger.category",
    ]);
    assert.ok(value >= 0);
    edges.add(
      `${attributes["baton.relay.logger.category"]} ${
        attributes["baton.edge.from.name"]
      }>${attributes["baton.edge.to.name"]}`,
    );
  }
  assert.ok(edges.has("otel.fed input>group-0"), [...edges].join(", "));
  assert.ok(edges.has("otel.fed group-0>group-1"), [...edges].join(", "));
  for (const edge of edges) {
    assert.ok(
      [
        "otel.fed input>group-0",
        "otel.fed group-0>group-1",
        "baton group-0>group-1",
      ]
        .includes(edge),
      edge,
    );
  }
});
