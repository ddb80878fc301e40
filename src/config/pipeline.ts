/**
 * Pipelines described in YAML files: the groups in order, each an actor
 * class from a module, a count and the fields of its instances; the relay's
 * options; a logging file. Everything is checked, and the actors built and
 * connected, before any worker exists.
 *
 * @module
 */

import { ConfigFileError, ConfigSource } from "./source.ts";
import { readLogging } from "./logging.ts";
import { displayPath } from "./paths.ts";
import {
  DEFAULT_MAXSIZE,
  DEFAULT_SHUTDOWN_TIMEOUT,
  Relay,
  type RelayOptions,
} from "../relay.ts";
import { group } from "../topology.ts";
import {
  checkLogger,
  checkMaxsize,
  checkShutdownTimeout,
} from "../host/validate.ts";
import { type PipelineGroup, planGroup } from "./pipeline_group.ts";

export type { PipelineGroup };

/** A pipeline read from a file: its relay is connected, not started. */
export interface Pipeline {
  /** The file, as shown in messages. */
  readonly file: string;
  /** The relay's options from the file. */
  readonly options: Readonly<RelayOptions>;
  /** The logging file the pipeline names, if any (checked, not applied). */
  readonly logging: URL | undefined;
  /** The groups, in order. */
  readonly groups: readonly PipelineGroup[];
  /** The relay, connected; `start()` runs the pipeline. */
  readonly relay: Relay;
}

const TOP_KEYS = ["maxsize", "logger", "shutdownTimeout", "logging", "groups"];

/**
 * Reads a pipeline file, checks it, imports the actor modules, builds the
 * actors and connects them to a new relay. Throws a `ConfigFileError` that
 * names the file, line and key of every problem; no worker is started.
 *
 * @example Running a pipeline file
 * ```ts ignore
 * import { loadPipeline } from "@baton/relay/config";
 *
 * const pipeline = await loadPipeline("pipeline.yaml");
 * await pipeline.relay.start();
 * ```
 */
export async function loadPipeline(path: string | URL): Promise<Pipeline> {
  const source = await ConfigSource.read(path, "pipeline file");
  const top = source.contents === null
    ? []
    : source.entries(source.contents, [], TOP_KEYS) ?? [];
  const get = (key: string) => top.find((e) => e.key === key);
  // The relay's own checks, reported at their keys.
  const options: RelayOptions = {};
  const maxsize = get("maxsize");
  if (maxsize !== undefined) {
    options.maxsize = source.validate(
      maxsize.value,
      maxsize.path,
      (where) => checkMaxsize(source.toJS(maxsize.value), where),
    );
  }
  const logger = get("logger");
  if (logger !== undefined) {
    options.logger = source.validate(
      logger.value,
      logger.path,
      (where) => checkLogger(source.toJS(logger.value), where, true),
    );
  }
  const timeout = get("shutdownTimeout");
  if (timeout !== undefined) {
    options.shutdownTimeout = source.validate(
      timeout.value,
      timeout.path,
      (where) => checkShutdownTimeout(source.toJS(timeout.value), where),
    );
  }
  let logging: URL | undefined;
  const log = get("logging");
  if (log !== undefined) {
    const ref = source.string(
      log.value,
      log.path,
      "the path of a logging file",
    );
    if (ref !== undefined) logging = source.resolve(ref);
  }
  const groups = get("groups");
  if (groups === undefined) {
    source.report(
      source.contents,
      [],
      "no groups; list them under groups, in order, for example groups: { prod: { actor: ./actors.ts#Producer } }",
    );
  }
  const entries = groups === undefined
    ? []
    : source.entries(groups.value, groups.path) ?? [];
  if (groups !== undefined && !source.failed && entries.length < 2) {
    source.report(
      groups.value,
      groups.path,
      `a pipeline needs at least 2 groups (a source and a receiver), received ${entries.length}`,
    );
  }
  // One group after the other: actors are numbered in the order of the file.
  const planned: (PipelineGroup | undefined)[] = [];
  for (const [i, entry] of entries.entries()) {
    planned.push(await planGroup(source, entry, i));
  }
  let loggingError: unknown;
  if (logging !== undefined) {
    try {
      await readLogging(logging);
    } catch (error) {
      // A logging file that cannot be read is this file's problem; the
      // problems inside a logging file are its own, reported after these.
      const problem =
        error instanceof ConfigFileError && error.problems.length === 1
          ? error.problems[0]
          : undefined;
      if (problem?.path === "" && problem.line === undefined) {
        source.report(
          log!.value,
          log!.path,
          `${(error as ConfigFileError).file}: ${problem.message}`,
        );
      } else {
        loggingError = error;
      }
    }
  }
  source.check();
  if (loggingError !== undefined) throw loggingError;
  const built = planned as PipelineGroup[];
  let relay: Relay;
  try {
    relay = new Relay(options);
    relay.connect(
      ...built.map((g) =>
        group(g.actors, {
          name: g.name,
          maxsize: g.maxsize,
          permissions: g.permissions,
        })
      ),
    );
  } catch (error) {
    source.report(groups!.value, groups!.path, (error as Error).message);
    source.check();
    throw error;
  }
  return { file: source.label, options, logging, groups: built, relay };
}

/** The topology of a pipeline as text, for `--check`. */
export function describePipeline(pipeline: Pipeline): string {
  const { groups, options } = pipeline;
  const total = groups.reduce((n, g) => n + g.count, 0);
  const width = (f: (g: PipelineGroup) => string) =>
    Math.max(...groups.map((g) => f(g).length));
  const nameW = width((g) => g.name);
  const countW = width((g) => String(g.count));
  const classW = width((g) => g.className);
  const actorW = width((g) => g.actor);
  const lines = [`${pipeline.file}: ${groups.length} groups, ${total} actors`];
  groups.forEach((g, i) => {
    if (i > 0) {
      const edge = g.maxsize ?? options.maxsize ?? DEFAULT_MAXSIZE;
      // The arrow stands under the counts.
      lines.push(`${" ".repeat(nameW + countW + 3)}↓ maxsize ${edge}`);
    }
    let line = `  ${g.name.padEnd(nameW)}  ${
      String(g.count).padStart(countW)
    } × ${g.className.padEnd(classW)}  ${g.actor.padEnd(actorW)}`;
    if (Object.keys(g.with).length > 0) {
      line += `  with ${
        Deno.inspect(g.with, {
          compact: true,
          breakLength: Infinity,
          colors: false,
        })
      }`;
    }
    if (g.permissions !== undefined) {
      line += `  permissions ${
        Deno.inspect(g.permissions, {
          compact: true,
          breakLength: Infinity,
          colors: false,
        })
      }`;
    }
    lines.push(line.trimEnd());
  });
  const logger = options.logger === undefined
    ? "baton"
    : [options.logger].flat().join(".");
  lines.push(`logger: ${logger}`);
  if (pipeline.logging !== undefined) {
    lines.push(`logging: ${displayPath(pipeline.logging)}`);
  }
  lines.push(
    `shutdown timeout: ${
      options.shutdownTimeout ?? DEFAULT_SHUTDOWN_TIMEOUT
    } ms`,
  );
  return lines.join("\n");
}
