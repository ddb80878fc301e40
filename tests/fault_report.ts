/**
 * Runs the fault scenarios of docs/faults.md once each and prints one line
 * per scenario: the outcome, messages sent and received, the time from the
 * fault to the settlement of `start()`, the peak RSS, and the thread count
 * before the run, when it settled, and once its workers are gone (at most
 * 2 s later). `deno task faults:report F1 F9` runs only those scenarios.
 *
 *     deno task faults:report
 *
 * @module
 */

import { type LogRecord, reset } from "@logtape/logtape";
import { Relay, RelayAbortError, RelayError } from "../mod.ts";
import { workersOf } from "../src/relay.ts";
import {
  barrier,
  Counter,
  type FaultKind,
  type FaultPhase,
  Faulty,
  Sink,
} from "./fixtures/faults.ts";
import { BadSyntax } from "./fixtures/faults_bad_syntax.ts";
import { threads } from "./_harness.ts";
import { type Watch, watchLogs } from "./_faults.ts";

interface Scenario {
  id: string;
  name: string;
  build(relay: Relay): void;
  /** What to do once the run is under way (an abort, a terminate). */
  act?(relay: Relay, records: Watch): Promise<number>;
  relay?: { maxsize?: number; shutdownTimeout?: number };
}

const fault = (
  phase: FaultPhase,
  kind: FaultKind,
  fields: Partial<Faulty> = {},
) => Object.assign(new Faulty(), { phase, kind, ...fields });

const counter = (count: number) => Object.assign(new Counter(), { count });

const scenarios: Scenario[] = [
  {
    id: "F1",
    name: "recv throws on 517/1000",
    build: (r) =>
      r.connect(
        counter(1000),
        [0, 1, 2].map(() =>
          fault("recv", "throw", { seq: 516, forward: true })
        ),
        new Sink(),
      ),
  },
  {
    id: "F2",
    name: "startup throws (1 of 3)",
    build: (r) =>
      r.connect(counter(1_000_000), [
        new Sink(),
        fault("startup", "throw"),
        new Sink(),
      ]),
  },
  {
    id: "F3",
    name: "shutdown throws",
    build: (r) => r.connect(counter(1000), fault("shutdown", "throw")),
  },
  {
    id: "F4",
    name: "loop throws",
    build: (r) =>
      r.connect([
        fault("loop", "throw", { count: 50, at: 51 }),
        counter(Infinity),
      ], new Sink()),
  },
  ...(["reject", "unhandled", "timer"] as const).map((kind): Scenario => ({
    id: "F5",
    name: `${kind} in recv`,
    build: (r) => r.connect(counter(1000), fault("recv", kind, { at: 100 })),
  })),
  ...(["exit0", "exit3", "close"] as const).map((kind): Scenario => ({
    id: "F6",
    name: `${kind} in recv`,
    build: (r) =>
      r.connect(counter(Infinity), fault("recv", kind, { at: 100 })),
  })),
  {
    id: "F7",
    name: "terminated from outside",
    build: (r) =>
      r.connect(
        counter(Infinity),
        [
          fault("recv", "none", { forward: true, mark: 100 }),
          fault("recv", "none", { forward: true }),
        ],
        new Sink(),
      ),
    act: async (relay, watch) => {
      await watch.when("reached");
      const victim = [...workersOf(relay).keys()].find((n) =>
        n.startsWith("Faulty")
      )!;
      const at = Date.now();
      workersOf(relay).get(victim)!.terminate();
      return at;
    },
  },
  {
    id: "F9",
    name: "hung recv, abort 300 ms",
    relay: { shutdownTimeout: 300, maxsize: 16 },
    build: (r) =>
      r.connect(counter(Infinity), fault("recv", "hang", { at: 100 })),
    act: async (relay, watch) => {
      await watch.when("fault");
      const at = Date.now();
      relay.close();
      return at;
    },
  },
  {
    id: "F10",
    name: "uncloneable, deep",
    build: (r) =>
      r.connect(
        counter(1000),
        fault("recv", "uncloneable-deep", { at: 10, forward: true }),
        new Sink(),
      ),
  },
  {
    id: "F15",
    name: "abort, drain",
    relay: { maxsize: 16 },
    build: (r) =>
      r.connect(
        counter(Infinity),
        fault("recv", "none", { forward: true }),
        Object.assign(new Sink(), { mark: 1000 }),
      ),
    act: async (relay, watch) => {
      await watch.when("reached");
      const at = Date.now();
      relay.close();
      return at;
    },
  },
  {
    id: "F15",
    name: "close, cancel (timeout 0)",
    relay: { maxsize: 16 },
    build: (r) =>
      r.connect(
        counter(Infinity),
        Object.assign(new Sink(), { mark: 1000, busyMicros: 50 }),
      ),
    act: async (relay, watch) => {
      await watch.when("reached");
      const at = Date.now();
      relay.close({ timeout: 0 });
      return at;
    },
  },
  {
    id: "F19",
    name: "eight fail at once",
    build: (r) => {
      const all = barrier();
      r.connect(
        counter(100),
        Array.from(
          { length: 8 },
          () =>
            fault("startup", "throw", { waitFor: all, parties: 8, join: true }),
        ),
      );
    },
  },
  {
    id: "F21",
    name: "module fails to load",
    build: (r) => r.connect(counter(10), new BadSyntax()),
  },
  // Last: Deno cannot stop a worker spinning in a synchronous loop, so its
  // thread keeps a core busy until the process ends.
  {
    id: "F9",
    name: "spinning recv, abort 300 ms",
    relay: { shutdownTimeout: 300, maxsize: 16 },
    build: (r) =>
      r.connect(counter(Infinity), fault("recv", "spin", { at: 100 })),
    act: async (relay, watch) => {
      await watch.when("fault");
      const at = Date.now();
      relay.close();
      return at;
    },
  },
];

function outcome(error: unknown): string {
  if (error === undefined) return "resolved";
  if (error instanceof RelayError) {
    const more = error.errors.length > 1
      ? ` (+${error.errors.length - 1})`
      : "";
    return `RelayError ${error.phase} ${error.actor}${more}`;
  }
  if (error instanceof RelayAbortError) {
    return `AbortError, terminated ${error.terminated.length}`;
  }
  return String(error);
}

async function settleThreads(baseline: number, ms: number): Promise<number> {
  const deadline = performance.now() + ms;
  let now = await threads();
  while (now > baseline && performance.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    now = await threads();
  }
  return now;
}

/**
 * The sum of `key` over the last `message` record of each of `actors` (a
 * sink may report when aborted and again when it shuts down), or "-".
 */
function sum(
  records: LogRecord[],
  message: string,
  key: string,
  actors: Set<unknown>,
): string {
  const last = new Map<unknown, number>();
  for (const r of records) {
    if (r.message[0] === message && actors.has(r.properties.actor)) {
      last.set(r.properties.actor, r.properties[key] as number);
    }
  }
  return last.size === 0
    ? "-"
    : String([...last.values()].reduce((a, b) => a + b, 0));
}

const pad = (s: string | number, n: number) => String(s).padEnd(n);
console.log(
  `${pad("id", 4)} ${pad("scenario", 28)} ${pad("outcome", 36)} ${
    pad("sent", 8)
  } ${pad("received", 8)} ${pad("settle", 8)} ${
    pad("peak RSS", 9)
  } worker threads before/settled/after`,
);
const only = Deno.args.length > 0 ? new Set(Deno.args) : undefined;
for (const s of scenarios) {
  if (only !== undefined && !only.has(s.id)) continue;
  const watch = await watchLogs(["report"]);
  const before = await threads();
  const relay = new Relay({ logger: "report", ...s.relay });
  s.build(relay);
  const base = Deno.memoryUsage().rss;
  let peak = base;
  const sampler = setInterval(() => {
    peak = Math.max(peak, Deno.memoryUsage().rss);
  }, 10);
  const started = relay.start();
  const acted = s.act?.(relay, watch);
  let error: unknown;
  try {
    await started;
  } catch (e) {
    error = e;
  }
  const settledAt = Date.now();
  clearInterval(sampler);
  const settledThreads = await threads();
  const faultAt = acted !== undefined
    ? await acted
    : watch.records.find((r) => r.message[0] === "fault")?.timestamp;
  const after = await settleThreads(before, 2000);
  const actors = relay.snapshot()?.actors ?? [];
  const first = new Set(
    actors.filter((a) => a.group === relay.groups[0]).map((a) => a.name),
  );
  const last = new Set(
    actors.filter((a) => a.group === relay.groups.at(-1)).map((a) => a.name),
  );
  const sent = sum(watch.records, "sent", "sent", first);
  const received = sum(watch.records, "received", "count", last);
  const settle = faultAt === undefined ? "-" : `${settledAt - faultAt} ms`;
  console.log(
    `${pad(s.id, 4)} ${pad(s.name, 28)} ${pad(outcome(error), 36)} ${
      pad(sent, 8)
    } ${pad(received, 8)} ${pad(settle, 8)} ${
      pad(`${(peak / 2 ** 20).toFixed(0)} MB`, 9)
    } ${before}/${settledThreads}/${after}`,
  );
  await reset();
}
// A spinning worker, if its scenario ran, would keep the process alive.
Deno.exit(0);
