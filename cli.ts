/**
 * The command line of baton: runs the pipeline a YAML file describes.
 *
 *     deno run -R cli.ts pipeline.yaml
 *     deno run -R cli.ts --check pipeline.yaml
 *     deno install -g -R -n baton --config deno.json ./cli.ts
 *
 * (from a clone of baton; see the README for a project that holds one).
 *
 * Exit codes: 0 when every actor finished, 1 when the run failed, 2 for bad
 * usage or an invalid file, 130 when interrupted.
 *
 * @module
 */

import { dispose } from "@logtape/logtape";
import { parseArgs } from "node:util";
import {
  applyLogging,
  configureLoggingFrom,
  readLogging,
} from "./src/config/logging.ts";
import {
  describePipeline,
  loadPipeline,
  type Pipeline,
} from "./src/config/pipeline.ts";
import { bytesText, CONFIG_LIMITS } from "./src/config/limits.ts";
import { lineSplitter, printLines } from "./src/config/lines.ts";
import { ConfigFileError } from "./src/config/source.ts";
import { RelayAbortError } from "./src/errors.ts";
import type { RelayMetrics } from "./src/metrics.ts";
import { DEFAULT_MAXSIZE, DEFAULT_SHUTDOWN_TIMEOUT } from "./src/relay.ts";

const USAGE =
  "Usage: baton [--check] [--no-progress] [--allow-remote-actors] <pipeline.yaml>";

const HELP = `${USAGE}

Runs the pipeline a YAML file describes: its groups in order, each an actor
class from a module, with a count and fields for its instances.

  deno run -R cli.ts pipeline.yaml

Options:
  --check        check the file, import the actor modules (their top-level
                 code runs) and print the topology; start nothing
  --no-progress  no progress bars (they are drawn only when standard
                 error is a terminal)
  --allow-remote-actors
                 import actor modules that are not local files (http:,
                 https:, jsr:, npm:, data:, blob:); refused by default, as
                 importing a module runs its code
  -h, --help     show this help

A pipeline file:

  maxsize: 50                      # messages in flight per edge (default ${DEFAULT_MAXSIZE})
  logger: example                  # category of the actors' records (default baton)
  shutdownTimeout: 5000            # ms an interrupted run may drain (default ${DEFAULT_SHUTDOWN_TIMEOUT})
  logging: ../conf/logging.yaml    # Python-style logging setup (default: console)
  groups:                          # in order; the first group's actors loop()
    prod: { actor: ./actors.ts#Producer, count: 3, with: { amount: 100 } }
    work: { actor: ./actors.ts#Worker, count: 4, maxsize: 8 }
    cons: { actor: ./actors.ts#Consumer }

Paths are relative to the file; actor modules are local files unless
--allow-remote-actors. A group may also set permissions (inherit, none or a
mapping, as Deno's worker permissions; needs --unstable-worker-options).

Across processes, on Redis (loaded only for such a file):

  transport:
    redis: { url: redis://10.0.0.5:6379, run: nightly-1201 }
  workers: { spawn: 2 }            # or { wait: 2 }: started with baton worker
  groups:
    prod: { actor: ./actors.ts#Producer }
    work: { actor: ./actors.ts#Worker, count: 8, place: workers }
    cons: { actor: ./actors.ts#Consumer }

needs --allow-net=<redis host:port> --allow-env=REDIS_DEBUG_MAINTENANCE, and
with spawn --allow-run for Deno's executable. The redis mapping may also set
unreachableMs, heartbeatMs, joinTimeoutMs, maxDeliveries, slots and batch.
On every machine that takes a share: baton worker --redis URL --run NAME.

With input: lines, the main thread is the first group: each line of
standard input is one message to the first group in the file (whose actors
recv()), and what the last group sends is printed, one line per message
(strings as they are, other values as JSON), on standard output; log
records go to standard error unless a logging file says otherwise.

Limits: a pipeline file has at most ${
  bytesText(CONFIG_LIMITS.pipelineFileBytes)
}, a logging file
at most ${
  bytesText(CONFIG_LIMITS.loggingFileBytes)
}; a mapping at most ${CONFIG_LIMITS.mappingKeys} keys; aliases add
at most ${CONFIG_LIMITS.aliasNodes} nodes; a pipeline at most ${CONFIG_LIMITS.actors} actors.

Permissions: -R reads the file and the actor modules; a log file needs
--allow-write for it. As a command of its own, with the permissions given
once, from a clone: deno install -g -R -n baton --config deno.json ./cli.ts

Exit codes: 0 the run succeeded; 1 it failed (an actor threw); 2 bad usage
or an invalid file; 130 interrupted (Ctrl-C, after draining). A run whose
standard output is closed early (| head) stops and exits 0.
`;

/** The default logging of a pipeline without a `logging:` file. */
const consoleLogging = (stream: "stdout" | "stderr") => ({
  formatters: {
    plain: {
      format: "[%(asctime)s] [%(process)d] %(name)s - %(message)s",
      datefmt: "%H:%M:%S",
    },
  },
  handlers: { console: { class: "console", formatter: "plain", stream } },
  root: { level: "INFO", handlers: ["console"] },
});

interface Flags {
  check?: boolean;
  help?: boolean;
  "no-progress"?: boolean;
  "allow-remote-actors"?: boolean;
}

const WORKER_USAGE =
  "Usage: baton worker --redis <url> --run <name> [--slots <n>] [--heartbeat-ms <ms>] [--unreachable-ms <ms>]";

/**
 * `baton worker`: a worker process of a run across processes, on Redis.
 * Loads `npm:redis` only here.
 */
async function worker(args: readonly string[]): Promise<number> {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...args],
      options: {
        redis: { type: "string" },
        run: { type: "string" },
        slots: { type: "string" },
        "heartbeat-ms": { type: "string" },
        "unreachable-ms": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (error) {
    console.error(`baton: ${(error as Error).message}\n${WORKER_USAGE}`);
    return 2;
  }
  if (values.help) {
    console.log(`${WORKER_USAGE}

Joins the run NAME on the Redis at URL and runs its share of the groups
placed on "workers", each actor in a Web Worker of this process, until the
run ends. Needs -R (the actor modules, the same code as the coordinator's),
--allow-net=<redis host:port> and --allow-env=REDIS_DEBUG_MAINTENANCE (read
by the Redis client).`);
    return 0;
  }
  const slots = Number(values.slots ?? "4");
  const heartbeatMs = values["heartbeat-ms"] === undefined
    ? undefined
    : Number(values["heartbeat-ms"]);
  const unreachableMs = values["unreachable-ms"] === undefined
    ? undefined
    : Number(values["unreachable-ms"]);
  if (
    typeof values.redis !== "string" || typeof values.run !== "string" ||
    !Number.isSafeInteger(slots) || slots < 1 ||
    (heartbeatMs !== undefined &&
      (!Number.isSafeInteger(heartbeatMs) || heartbeatMs < 30)) ||
    (unreachableMs !== undefined &&
      (!Number.isSafeInteger(unreachableMs) || unreachableMs < 1))
  ) {
    console.error(`baton: worker needs --redis and --run\n${WORKER_USAGE}`);
    return 2;
  }
  const { runWorkerProcess } = await import("./redis.ts");
  return await runWorkerProcess({
    url: values.redis,
    run: values.run,
    slots,
    heartbeatMs,
    unreachableMs,
  });
}

/** Runs the command line with `args`; resolves to the exit code. */
export async function main(args: readonly string[]): Promise<number> {
  if (args[0] === "worker") return await worker(args.slice(1));
  let values: Flags;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: [...args],
      options: {
        check: { type: "boolean" },
        "no-progress": { type: "boolean" },
        "allow-remote-actors": { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
      allowPositionals: true,
    }));
  } catch (error) {
    return usage((error as Error).message);
  }
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  if (positionals.length !== 1) {
    return usage(
      positionals.length === 0
        ? "no pipeline file given"
        : `one pipeline file at a time, received ${positionals.length}`,
    );
  }

  let pipeline: Pipeline;
  try {
    pipeline = await loadPipeline(positionals[0], {
      allowRemoteActors: values["allow-remote-actors"] ?? false,
    });
    if (values.check) {
      console.log(await describePipeline(pipeline));
      console.log("ok: nothing started (--check)");
      return 0;
    }
    if (pipeline.logging === undefined) {
      // Standard output carries the pipeline's output, if it has one.
      await configureLoggingFrom(
        consoleLogging(pipeline.input === undefined ? "stdout" : "stderr"),
      );
    } else {
      await applyLogging(await readLogging(pipeline.logging));
    }
  } catch (error) {
    if (!(error instanceof ConfigFileError)) throw error;
    console.error(error.message);
    return 2;
  }

  // Ctrl-C stops the sources and lets the pipeline drain; a second one
  // ends the process at once.
  const controller = new AbortController();
  const interrupt = () => {
    if (controller.signal.aborted) Deno.exit(130);
    controller.abort(new DOMException("Interrupted", "AbortError"));
  };
  Deno.addSignalListener("SIGINT", interrupt);
  try {
    const summary = await run(pipeline, {
      signal: controller.signal,
      onAbort: "drain",
      progress: !values["no-progress"],
    });
    if (summary === undefined) return 0; // standard output was closed
    const groups = summary.groups.map((g) =>
      `${g.name} ${g.received}/${g.sent}`
    );
    console.error(
      `baton: finished in ${
        (summary.elapsedMs / 1000).toFixed(2)
      } s (received/sent: ${groups.join(", ")})`,
    );
    return 0;
  } catch (error) {
    if (error instanceof RelayAbortError) {
      console.error(`baton: ${error.message}`);
      return 130;
    }
    console.error(`baton: the run failed: ${(error as Error).message}`);
    // The worker's stack, below its first line (the message, shown above).
    const stack = ((error as Error).cause as Error | undefined)?.stack;
    if (typeof stack === "string") {
      console.error(stack.split("\n").slice(1).join("\n"));
    }
    return 1;
  } finally {
    Deno.removeSignalListener("SIGINT", interrupt);
    await dispose(); // flushes and closes log files
  }
}

/**
 * Runs the pipeline; with `input: lines`, from standard input to standard
 * output. Resolves to the final metrics, or undefined when the reader of
 * standard output went away (`| head`): the relay is then closed at once.
 */
async function run(
  pipeline: Pipeline,
  options: { signal: AbortSignal; onAbort: "drain"; progress: boolean },
): Promise<RelayMetrics | undefined> {
  const { relay } = pipeline;
  // Across processes: the worker processes the file names.
  const started = pipeline.workers === undefined
    ? options
    : { ...options, workers: pipeline.workers };
  // One progress bar per group when standard error is a terminal.
  if (pipeline.input === undefined) return await relay.start(started);
  const results = relay.results();
  const done = relay.start({
    ...started,
    input: Deno.stdin.readable
      .pipeThrough(new TextDecoderStream())
      .pipeThrough(lineSplitter()),
  });
  done.catch(() => {}); // awaited below, after the output
  let printed: boolean;
  try {
    printed = await printLines(results);
  } catch (error) {
    // The run failed (say why, as start() does), or a write did: leaving
    // the results closed the relay, and the write's error is the reason.
    const failed = await done.then(() => undefined, (e) => e);
    throw failed === undefined || failed instanceof RelayAbortError
      ? error
      : failed;
  }
  if (!printed) {
    await done.catch(() => {}); // closed by leaving the results early
    return undefined;
  }
  return await done;
}

function usage(problem: string): number {
  console.error(`baton: ${problem}\n${USAGE}\nRun with --help for more.`);
  return 2;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
