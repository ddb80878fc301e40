/**
 * The command line of baton: runs the pipeline a YAML file describes.
 *
 *     deno run -R jsr:@baton/relay/cli pipeline.yaml
 *     deno run -R jsr:@baton/relay/cli --check pipeline.yaml
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
import { ConfigFileError } from "./src/config/source.ts";
import { RelayAbortError } from "./src/errors.ts";

const USAGE = "Usage: baton [--check] [--no-progress] <pipeline.yaml>";

const HELP = `${USAGE}

Runs the pipeline a YAML file describes: its groups in order, each an actor
class from a module, with a count and fields for its instances.

  deno run -R jsr:@baton/relay/cli pipeline.yaml

Options:
  --check        check the file, load the actor modules and print the
                 topology; start nothing
  --no-progress  no progress bars (they are drawn only when standard
                 error is a terminal)
  -h, --help     show this help

A pipeline file:

  maxsize: 50                      # messages in flight per edge (default 256)
  logger: example                  # category of the actors' records (default baton)
  shutdownTimeout: 5000            # ms an interrupted run may drain (default 5000)
  logging: ../conf/logging.yaml    # Python-style logging setup (default: console)
  groups:                          # in order; the first group's actors loop()
    prod: { actor: ./actors.ts#Producer, count: 3, with: { amount: 100 } }
    work: { actor: ./actors.ts#Worker, count: 4, maxsize: 8 }
    cons: { actor: ./actors.ts#Consumer }

Paths are relative to the file. A group may also set permissions (inherit,
none or a mapping, as Deno's worker permissions; needs
--unstable-worker-options).

Permissions: -R reads the file and the actor modules; a log file needs
--allow-write for it.

Exit codes: 0 the run succeeded; 1 it failed (an actor threw); 2 bad usage
or an invalid file; 130 interrupted (Ctrl-C, after draining).
`;

/** The default logging of a pipeline without a `logging:` file. */
const CONSOLE_LOGGING = {
  formatters: {
    plain: {
      format: "[%(asctime)s] [%(process)d] %(name)s - %(message)s",
      datefmt: "%H:%M:%S",
    },
  },
  handlers: { console: { class: "console", formatter: "plain" } },
  root: { level: "INFO", handlers: ["console"] },
};

/** Runs the command line with `args`; resolves to the exit code. */
export async function main(args: readonly string[]): Promise<number> {
  let values: { check?: boolean; help?: boolean; "no-progress"?: boolean };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: [...args],
      options: {
        check: { type: "boolean" },
        "no-progress": { type: "boolean" },
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
    pipeline = await loadPipeline(positionals[0]);
    if (values.check) {
      console.log(await describePipeline(pipeline));
      console.log("ok: nothing started (--check)");
      return 0;
    }
    if (pipeline.logging === undefined) {
      await configureLoggingFrom(CONSOLE_LOGGING);
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
    // One progress bar per group when standard error is a terminal.
    const summary = await pipeline.relay.start({
      signal: controller.signal,
      onAbort: "drain",
      progress: !values["no-progress"],
    });
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

function usage(problem: string): number {
  console.error(`baton: ${problem}\n${USAGE}\nRun with --help for more.`);
  return 2;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
