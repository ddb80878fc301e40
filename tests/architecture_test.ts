/**
 * The import rules of ARCHITECTURE.md, checked over the module graph that
 * `deno info --json` reads (static, dynamic and type-only imports alike),
 * and the lean worker checked at run time. A rule broken prints every
 * offending edge as `importer → imported`.
 *
 * @module
 */

import assert from "node:assert/strict";
import { Relay } from "../mod.ts";
import { Drain, Probe } from "./fixtures/log_forms.ts";
import { leakChecked, startWithin } from "./_harness.ts";

const ROOT = new URL("../", import.meta.url);

/** How a module imports another. */
type Kind = "static" | "dynamic" | "type";

/** One import: both ends repository-relative for files (`src/x.ts`). */
interface Edge {
  readonly from: string;
  readonly to: string;
  readonly kind: Kind;
}

interface Info {
  roots: string[];
  redirects: Record<string, string>;
  modules: {
    specifier: string;
    error?: string;
    dependencies?: {
      code?: { specifier: string };
      type?: { specifier: string };
      isDynamic?: boolean;
    }[];
  }[];
}

/** A specifier as the rules name it: a path for this repository's files. */
function name(specifier: string): string {
  return specifier.startsWith(ROOT.href)
    ? specifier.slice(ROOT.href.length)
    : specifier;
}

async function denoInfo(file: string): Promise<Info> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", new URL(file, ROOT).href],
    cwd: ROOT.pathname,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(
    output.success,
    `deno info ${file}: ${new TextDecoder().decode(output.stderr)}`,
  );
  return JSON.parse(new TextDecoder().decode(output.stdout));
}

async function sourceFiles(dir: string): Promise<string[]> {
  const files: string[] = [];
  for await (const entry of Deno.readDir(new URL(dir, ROOT))) {
    const path = `${dir}${entry.name}`;
    if (entry.isDirectory) files.push(...await sourceFiles(`${path}/`));
    else if (entry.isFile && path.endsWith(".ts")) files.push(path);
  }
  return files;
}

/**
 * Every import of the entry points and of every file of `src/`: one
 * `deno info` per root, until each file of `src/` is in the graph.
 */
async function readGraph(): Promise<Edge[]> {
  const edges = new Map<string, Edge>();
  const seen = new Set<string>();
  const roots = [
    "mod.ts",
    "actor.ts",
    "config.ts",
    "cli.ts",
    "src/worker/bootstrap.ts",
    "src/worker/entry.ts",
  ];
  const pending = [...roots, ...await sourceFiles("src/")];
  for (const file of pending) {
    if (seen.has(file)) continue;
    const info = await denoInfo(file);
    const resolve = (s: string) => name(info.redirects[s] ?? s);
    for (const module of info.modules) {
      const from = name(module.specifier);
      assert.equal(module.error, undefined, `${from} does not resolve`);
      if (seen.has(from)) continue;
      seen.add(from);
      for (const dependency of module.dependencies ?? []) {
        const found: [string | undefined, Kind][] = [
          [
            dependency.code?.specifier,
            dependency.isDynamic ? "dynamic" : "static",
          ],
          [dependency.type?.specifier, "type"],
        ];
        for (const [specifier, kind] of found) {
          if (specifier === undefined) continue;
          const edge = { from, to: resolve(specifier), kind };
          edges.set(`${edge.from} ${edge.to} ${kind}`, edge);
        }
      }
    }
  }
  const missing = pending.filter((file) => !seen.has(file));
  assert.deepEqual(missing, [], "every file of src/ is in the graph");
  return [...edges.values()];
}

const show = (e: Edge) => `${e.from} → ${e.to} (${e.kind})`;

const isFile = (s: string) => !/^[a-z]+:/.test(s);
const isNpmOrNode = (s: string) =>
  s.startsWith("npm:") || s.startsWith("node:");
const under = (dir: string) => (s: string) => isFile(s) && s.startsWith(dir);
const inCommon = under("src/common/");
const inWorker = under("src/worker/");
const inHost = under("src/host/");
const inConfig = under("src/config/");
const inLink = under("src/link/");
/** The public concepts: `src/*.ts`, in no folder. */
const isPublic = (s: string) => /^src\/[^/]+\.ts$/.test(s);
const LOGTAPE = /^npm:\/?@logtape\/logtape@/;

/** A rule over single imports: what the files it governs may import. */
interface Rule {
  readonly name: string;
  readonly governs: (file: string) => boolean;
  readonly allows: (edge: Edge) => boolean;
}

const RULES: readonly Rule[] = [
  {
    name:
      "src/common/ imports only src/common/, npm packages as types only, LogTape at run time only through common/logtape.ts's dynamic import",
    governs: inCommon,
    allows: ({ from, to, kind }) =>
      isFile(to) ? inCommon(to) : to.startsWith("npm:") && kind === "type" ||
        from === "src/common/logtape.ts" && kind === "dynamic" &&
          LOGTAPE.test(to),
  },
  {
    name: "src/worker/ never imports src/host/ or src/config/",
    governs: inWorker,
    allows: ({ to }) => !inHost(to) && !inConfig(to),
  },
  {
    name:
      "src/host/ never imports src/worker/ statically; only host/inline_member.ts may, dynamically (or for types), and host/worker_member.ts may name worker/entry.ts in a dynamic import that never runs (for Deno's tools)",
    governs: inHost,
    allows: ({ from, to, kind }) =>
      !inWorker(to) ||
      from === "src/host/inline_member.ts" && kind !== "static" ||
      from === "src/host/worker_member.ts" && kind === "dynamic" &&
        to === "src/worker/entry.ts",
  },
  {
    name:
      "src/worker/entry.ts (the worker's script) imports the thread's mark and the bundle's entry, nothing else",
    governs: (file) => file === "src/worker/entry.ts",
    allows: ({ to, kind }) =>
      kind === "static" &&
      (to === "src/worker/flag.ts" ||
        to === "src/worker/bundle/bootstrap.js"),
  },
  {
    name:
      "src/config/ imports only the public files src/*.ts, src/common/, host/validate.ts, host/plan.ts, host/redis/options.ts, src/config/, and host/redis/coordinator.ts dynamically",
    governs: inConfig,
    allows: ({ to, kind }) =>
      !isFile(to) || isPublic(to) || inCommon(to) || inConfig(to) ||
      to === "src/host/validate.ts" || to === "src/host/plan.ts" ||
      to === "src/host/redis/options.ts" ||
      to === "src/host/redis/coordinator.ts" && kind === "dynamic",
  },
  {
    name:
      "outside common/logtape.ts, src/ imports @logtape/logtape only as types",
    governs: (file) => under("src/")(file) && file !== "src/common/logtape.ts",
    allows: ({ to, kind }) => !LOGTAPE.test(to) || kind === "type",
  },
  {
    name:
      "replay's modules (src/link/port/replay*.ts) never import src/link/port/transport.ts but for types: it loads them with a top-level await, which a cycle would never end",
    governs: (file) => /^src\/link\/port\/replay[^/]*\.ts$/.test(file),
    allows: ({ to, kind }) =>
      to !== "src/link/port/transport.ts" || kind === "type",
  },
  {
    name: "src/link/ imports only src/link/ and src/common/ of this repository",
    governs: inLink,
    allows: ({ to }) => !isFile(to) || inLink(to) || inCommon(to),
  },
];

/** The offending edges of every rule, by rule. */
function violations(edges: readonly Edge[]): Map<string, Edge[]> {
  const found = new Map<string, Edge[]>();
  for (const rule of RULES) {
    const bad = edges.filter((e) => rule.governs(e.from) && !rule.allows(e));
    if (bad.length > 0) found.set(rule.name, bad);
  }
  return found;
}

/**
 * What loads with `root` before any dynamic import runs: the static code
 * imports, followed from `root`. Each module reached maps to the edge it
 * was first reached by.
 */
function staticGraph(
  edges: readonly Edge[],
  root: string,
  kinds: readonly Kind[] = ["static"],
): Map<string, Edge> {
  const reached = new Map<string, Edge>();
  const queue = [root];
  while (queue.length > 0) {
    const from = queue.shift()!;
    for (const edge of edges) {
      if (edge.from !== from || !kinds.includes(edge.kind)) continue;
      if (edge.to === root || reached.has(edge.to)) continue;
      reached.set(edge.to, edge);
      queue.push(edge.to);
    }
  }
  return reached;
}

/** The chain of static imports from the root to `module`. */
function chain(reached: Map<string, Edge>, module: string): string {
  const path = [module];
  for (let e = reached.get(module); e !== undefined; e = reached.get(e.from)) {
    path.unshift(e.from);
  }
  return path.join(" → ");
}

/** The modules of `root`'s static graph that `forbidden` names, with chains. */
function forbiddenIn(
  edges: readonly Edge[],
  root: string,
  forbidden: (module: string) => boolean,
  kinds: readonly Kind[] = ["static"],
): string[] {
  const reached = staticGraph(edges, root, kinds);
  return [...reached.keys()].filter(forbidden).map((m) => chain(reached, m));
}

/** The static graphs that must stay lean, and what must not be in them. */
/**
 * Modules an actor's worker loads only when its actor needs them (a group's
 * policy, ordered results, a restartable edge), and modules of types only,
 * which no thread evaluates: none may be in a worker's static graph.
 */
const ON_DEMAND = [
  "src/worker/attempts.ts",
  "src/worker/recv_watch.ts",
  "src/worker/ordering.ts",
  "src/worker/handled_prefix.ts",
  "src/common/protocol.ts",
  "src/options.ts",
];
const onDemand = (m: string) =>
  ON_DEMAND.includes(m) || /^src\/link\/port\/replay[^/]*\.ts$/.test(m);

/**
 * The packages only the main thread uses (progress bars, telemetry, the
 * YAML layer, file sinks, the formats' libraries, Redis), which an actor's
 * worker never loads, whatever its actor does but start a relay itself.
 */
const HOST_ONLY =
  /^npm:\/?(cli-progress|@opentelemetry\/api|yaml|d3-time-format|sprintf-js|@logtape\/file|redis)@/;

const LEAN: readonly [string, string, (module: string) => boolean][] = [
  [
    "src/worker/bootstrap.ts",
    "no npm: or node: module, no file of src/host/ or src/config/, none of the modules loaded on demand or of types only",
    (m) => isNpmOrNode(m) || inHost(m) || inConfig(m) || onDemand(m),
  ],
  [
    "mod.ts",
    "no module but this repository's files, none of src/config/, src/worker/ or src/host/session.ts, none of the modules loaded on demand or of types only",
    (m) =>
      !isFile(m) || inConfig(m) || inWorker(m) ||
      m === "src/host/session.ts" || onDemand(m),
  ],
  // An actor module that imports the actor alone loads none of the relay.
  [
    "actor.ts",
    "no npm: or node: module, no file of src/host/, src/config/, src/link/ or src/worker/, no mod.ts or src/relay.ts",
    (m) =>
      isNpmOrNode(m) || inHost(m) || inConfig(m) || inWorker(m) ||
      m.startsWith("src/link/") || m === "mod.ts" || m === "src/relay.ts",
  ],
  // A pipeline file loads the Redis client only when it asks for Redis.
  ...["config.ts", "cli.ts"].map((root): [
    string,
    string,
    (module: string) => boolean,
  ] => [
    root,
    "no Redis client (npm:redis, src/link/redis/link.ts)",
    (m) => /^npm:\/?@?redis/.test(m) || m === "src/link/redis/link.ts",
  ]),
];

/**
 * What the bootstrap may ever load, dynamic imports followed: nothing of
 * the main thread's (its files or its packages).
 */
const WORKER_REACH = (m: string) =>
  HOST_ONLY.test(m) || inHost(m) || inConfig(m) ||
  /^src\/(relay|topology)\.ts$/.test(m) || m === "mod.ts";

function report(found: Map<string, Edge[]>): string {
  return [...found].map(([rule, bad]) =>
    `${rule}:\n${bad.map((e) => `  ${show(e)}`).join("\n")}`
  ).join("\n");
}

/** An edge written as {@linkcode show} prints it. */
function edge(text: string): Edge {
  const match = /^(\S+) → (\S+) \((static|dynamic|type)\)$/.exec(text);
  assert.ok(match !== null, text);
  return { from: match[1], to: match[2], kind: match[3] as Kind };
}

const LOGTAPE_NPM = "npm:/@logtape/logtape@2.4.2";

Deno.test("The rules catch the imports they forbid (a synthetic graph)", () => {
  const forbidden = [
    "src/common/values.ts → src/errors.ts (type)",
    "src/common/levels.ts → npm:/yaml@2.9.1 (static)",
    "src/common/levels.ts → node:util (dynamic)",
    `src/common/levels.ts → ${LOGTAPE_NPM} (dynamic)`,
    `src/common/logtape.ts → ${LOGTAPE_NPM} (static)`,
    "src/worker/runner.ts → src/host/run.ts (static)",
    "src/worker/runner.ts → src/config/x.ts (type)",
    "src/host/run.ts → src/worker/runner.ts (dynamic)",
    "src/host/run.ts → src/worker/runner.ts (type)",
    "src/host/inline_member.ts → src/worker/runner.ts (static)",
    "src/config/pipeline.ts → src/host/run.ts (static)",
    "src/config/pipeline.ts → src/link/outlet.ts (type)",
    "src/link/outlet.ts → src/host/run.ts (type)",
    `src/host/log_replay.ts → ${LOGTAPE_NPM} (static)`,
    `src/config/logging.ts → ${LOGTAPE_NPM} (dynamic)`,
  ];
  const allowed = [
    `src/common/logtape.ts → ${LOGTAPE_NPM} (dynamic)`,
    `src/common/levels.ts → ${LOGTAPE_NPM} (type)`,
    "src/common/error_data.ts → src/common/values.ts (static)",
    "src/host/inline_member.ts → src/worker/runner.ts (dynamic)",
    "src/host/inline_member.ts → src/worker/runner.ts (type)",
    "src/host/run.ts → src/link/outlet.ts (static)",
    "src/config/pipeline.ts → src/relay.ts (static)",
    "src/config/pipeline.ts → src/host/plan.ts (static)",
    "src/config/pipeline.ts → src/host/validate.ts (static)",
    "src/config/paths.ts → node:path (static)",
    "src/config/source.ts → npm:/yaml@2.9.1 (static)",
    "src/worker/bootstrap.ts → src/link/inlet.ts (static)",
    "src/link/inlet.ts → src/link/port/credit.ts (static)",
    "src/actor.ts → src/common/logtape.ts (static)",
    `src/host/log_replay.ts → ${LOGTAPE_NPM} (type)`,
    "src/config/logging.ts → npm:/@logtape/file@2.3.10 (static)",
  ];
  const flagged = new Set(
    [...violations([...forbidden, ...allowed].map(edge)).values()].flat()
      .map(show),
  );
  assert.deepEqual([...flagged].sort(), [...forbidden].sort());

  const lean = [
    "src/worker/bootstrap.ts → src/actor.ts (static)",
    "src/actor.ts → src/common/logtape.ts (static)",
    `src/common/logtape.ts → ${LOGTAPE_NPM} (dynamic)`,
    `src/actor.ts → ${LOGTAPE_NPM} (type)`,
    "src/actor.ts → src/host/run.ts (static)",
    "src/host/run.ts → node:util (static)",
  ].map(edge);
  assert.deepEqual(forbiddenIn(lean, "src/worker/bootstrap.ts", LEAN[0][2]), [
    "src/worker/bootstrap.ts → src/actor.ts → src/host/run.ts",
    "src/worker/bootstrap.ts → src/actor.ts → src/host/run.ts → node:util",
  ]);
  assert.deepEqual(forbiddenIn(lean, "src/actor.ts", LEAN[1][2]), [
    "src/actor.ts → src/host/run.ts → node:util",
  ]);

  // What loads on demand, statically imported; a host-only package behind
  // a dynamic import of the worker's; replay importing the port transport.
  const eager = [
    "src/worker/bootstrap.ts → src/worker/runner.ts (static)",
    "src/worker/runner.ts → src/worker/attempts.ts (static)",
    "src/worker/runner.ts → src/worker/ordering.ts (dynamic)",
    "src/worker/runner.ts → src/common/protocol.ts (type)",
    "src/worker/runner.ts → src/link/ends.ts (static)",
    "src/link/ends.ts → src/link/port/transport.ts (static)",
    "src/link/port/transport.ts → src/link/port/replay.ts (static)",
    "src/link/port/replay.ts → src/link/port/replay_cells.ts (static)",
    "src/worker/ordering.ts → npm:/yaml@2.9.1 (dynamic)",
    "src/worker/ordering.ts → src/common/order.ts (static)",
  ].map(edge);
  assert.deepEqual(forbiddenIn(eager, "src/worker/bootstrap.ts", LEAN[0][2]), [
    "src/worker/bootstrap.ts → src/worker/runner.ts → src/worker/attempts.ts",
    "src/worker/bootstrap.ts → src/worker/runner.ts → src/link/ends.ts → src/link/port/transport.ts → src/link/port/replay.ts",
    "src/worker/bootstrap.ts → src/worker/runner.ts → src/link/ends.ts → src/link/port/transport.ts → src/link/port/replay.ts → src/link/port/replay_cells.ts",
  ]);
  assert.deepEqual(
    forbiddenIn(eager, "src/worker/bootstrap.ts", WORKER_REACH, [
      "static",
      "dynamic",
    ]),
    [
      "src/worker/bootstrap.ts → src/worker/runner.ts → src/worker/ordering.ts → npm:/yaml@2.9.1",
    ],
  );
  assert.deepEqual(
    [
      ...violations([
        edge(
          "src/link/port/replay_sender.ts → src/link/port/transport.ts (static)",
        ),
        edge("src/link/port/replay.ts → src/link/port/transport.ts (dynamic)"),
        edge("src/link/port/replay.ts → src/link/port/transport.ts (type)"),
      ]).values(),
    ].flat().map(show),
    [
      "src/link/port/replay_sender.ts → src/link/port/transport.ts (static)",
      "src/link/port/replay.ts → src/link/port/transport.ts (dynamic)",
    ],
  );
});

let graph: Promise<Edge[]> | undefined;

Deno.test("Every import follows the rules of ARCHITECTURE.md", async () => {
  const edges = await (graph ??= readGraph());
  assert.ok(
    edges.some((e) => e.from === "src/worker/bootstrap.ts") &&
      edges.some((e) => e.from === "src/config/pipeline.ts") &&
      edges.some((e) => e.from.startsWith("src/common/")),
    "the graph holds every layer",
  );
  const found = violations(edges);
  assert.equal(found.size, 0, `imports that break a rule:\n${report(found)}`);
});

Deno.test("An actor's worker loads neither LogTape nor a node: module of its own accord", async (t) => {
  const edges = await (graph ??= readGraph());
  for (const [root, rule, forbidden] of LEAN) {
    await t.step(`the static graph of ${root} holds ${rule}`, () => {
      // The actor's entry is small by design: itself, the class, its helpers.
      const least = root === "actor.ts" ? 1 : 5;
      assert.ok(staticGraph(edges, root).size > least, `${root} has a graph`);
      const bad = forbiddenIn(edges, root, forbidden);
      assert.deepEqual(bad, [], `statically imported:\n  ${bad.join("\n  ")}`);
    });
  }
  await t.step(
    "the bootstrap, dynamic imports followed, reaches no file or package of the main thread's",
    () => {
      const reach = staticGraph(edges, "src/worker/bootstrap.ts", [
        "static",
        "dynamic",
      ]);
      assert.ok(
        reach.has("src/worker/attempts.ts") &&
          reach.has("src/link/port/replay.ts"),
        "the walk follows the dynamic imports",
      );
      const bad = forbiddenIn(edges, "src/worker/bootstrap.ts", WORKER_REACH, [
        "static",
        "dynamic",
      ]);
      assert.deepEqual(bad, [], `reachable:\n  ${bad.join("\n  ")}`);
    },
  );
  await t.step(
    "LogTape's root logger never exists in it while it runs",
    () =>
      leakChecked(async () => {
        const relay = new Relay();
        relay.connect(new Probe(), new Drain());
        const reports = relay.reports();
        await startWithin(relay, 10_000);
        const seen = [];
        for await (const report of reports) seen.push(report.value);
        assert.deepEqual(seen, [{ logtape: false }]);
      }),
  );
});
