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
import { group, type GroupLike, input } from "../topology.ts";
import {
  checkLogger,
  checkMaxsize,
  checkOptions,
  checkShutdownTimeout,
  checkWorkers,
} from "../host/validate.ts";
import { render } from "../common/values.ts";
import { type PipelineGroup, planGroup } from "./pipeline_group.ts";
import {
  checkRedisCount,
  checkRedisUrl,
  checkRunName,
  REDIS_KEYS,
  type RedisOptions,
} from "../host/redis/options.ts";
import type { WorkersOption } from "../options.ts";
import type { Entry } from "./source.ts";
import { safeUrl } from "../common/redis_url.ts";

export type { PipelineGroup };

/** A pipeline read from a file: its relay is connected, not started. */
export interface Pipeline {
  /** The file, as shown in messages. */
  readonly file: string;
  /** The relay's options from the file. */
  readonly options: Readonly<RelayOptions>;
  /** The logging file the pipeline names, if any (checked, not applied). */
  readonly logging: URL | undefined;
  /**
   * `"lines"` when the file says `input: lines`: the relay's first group is
   * `input()`, for the caller to feed one line of text per message (the
   * command line feeds standard input), and the last group's messages are
   * the pipeline's output (the command line prints them, one per line).
   */
  readonly input: "lines" | undefined;
  /**
   * The file's `transport: { redis: … }`, checked: the options of `redis()`
   * (`@baton/relay/redis`), whose transport is in `options.transport`.
   */
  readonly redis: Readonly<RedisOptions> | undefined;
  /**
   * The worker processes to wait for or start (the file's `workers:`), for
   * `relay.start({ workers })`, with a `transport`.
   */
  readonly workers: WorkersOption | undefined;
  /** The groups, in order. */
  readonly groups: readonly PipelineGroup[];
  /** The relay, connected; `start()` runs the pipeline. */
  readonly relay: Relay;
}

const TOP_KEYS = [
  "maxsize",
  "logger",
  "shutdownTimeout",
  "logging",
  "input",
  "transport",
  "workers",
  "groups",
];

const TRANSPORTS = ["redis"];
const REDIS_EXAMPLE = "{ url: redis://10.0.0.5:6379, run: nightly-1201 }";

/**
 * The file's `transport: { redis: … }`, checked at its keys with the rules
 * of `redis()`; undefined (reported) when it has problems. Loads no Redis
 * code.
 */
function planTransport(
  source: ConfigSource,
  entry: Entry,
): RedisOptions | undefined {
  const kinds = source.entries(
    entry.value,
    entry.path,
    TRANSPORTS,
    `a mapping such as { redis: ${REDIS_EXAMPLE} }`,
  );
  if (kinds === undefined) return undefined;
  const r = kinds.find((e) => e.key === "redis");
  if (r === undefined) {
    const given = source.toJS(entry.value) as Record<string, unknown>;
    if (Object.keys(given).length === 0) {
      source.report(
        entry.value,
        entry.path,
        `transport names no transport; use { redis: ${REDIS_EXAMPLE} }, or leave transport out to run every actor in this process`,
      );
    }
    return undefined;
  }
  const keys = source.entries(
    r.value,
    r.path,
    REDIS_KEYS,
    `a mapping such as ${REDIS_EXAMPLE}`,
  );
  if (keys === undefined) return undefined;
  const get = (key: string) => keys.find((e) => e.key === key);
  const out: Record<string, unknown> = {};
  let ok = true;
  for (const key of ["url", "run"] as const) {
    const e = get(key);
    if (e === undefined) {
      source.report(
        r.keyNode,
        r.path,
        `redis needs ${key}, as in ${REDIS_EXAMPLE}`,
      );
      ok = false;
      continue;
    }
    const value = source.validate(
      e.value,
      e.path,
      (where) =>
        key === "url"
          ? checkRedisUrl(source.toJS(e.value), where)
          : checkRunName(source.toJS(e.value), where),
    );
    if (value === undefined) ok = false;
    else out[key] = value;
  }
  for (const e of keys) {
    if (e.key === "url" || e.key === "run") continue;
    const value = source.validate(
      e.value,
      e.path,
      (where) => checkRedisCount(e.key, source.toJS(e.value), where),
    );
    if (value === undefined) ok = false;
    else out[e.key] = value;
  }
  return ok ? out as unknown as RedisOptions : undefined;
}

/** Options of {@linkcode loadPipeline}. */
export interface LoadPipelineOptions {
  /**
   * Whether actor modules may be other than local files: `http:`, `https:`,
   * `jsr:` and `npm:` specifiers, `data:` and `blob:` URLs. Default false:
   * importing a module runs its code, so a file naming such a module is
   * refused before any of it runs. Local files, relative to the pipeline
   * file or `file:` URLs, are always allowed.
   */
  allowRemoteActors?: boolean;
}

function loadOptions(options: unknown): Required<LoadPipelineOptions> {
  const where = "Cannot load pipeline";
  const { allowRemoteActors = false } = checkOptions(
    options,
    ["allowRemoteActors"],
    where,
    "{ allowRemoteActors: true }",
  );
  if (typeof allowRemoteActors !== "boolean") {
    throw new TypeError(
      `${where}: allowRemoteActors must be true or false, received ${
        render(allowRemoteActors)
      }`,
    );
  }
  return { allowRemoteActors };
}

/**
 * Reads a pipeline file, checks it, imports the actor modules, builds the
 * actors and connects them to a new relay. Throws a `ConfigFileError` that
 * names the file, line and key of every problem; no worker is started.
 * Importing a module runs its top-level code; modules other than local
 * files are refused unless `options.allowRemoteActors`. Throws a
 * `TypeError` for bad options. The file is held to
 * {@linkcode CONFIG_LIMITS}. A file with `transport: { redis: … }` (a run
 * across processes; `workers:` and a group's `place: workers` go with it)
 * loads the Redis client, and connects to nothing until `start()`; no
 * other file loads it.
 *
 * @example Loading a pipeline file
 * ```ts
 * import { loadPipeline } from "@baton/relay/config";
 * import assert from "node:assert/strict";
 *
 * // Relative to the working directory: this repository's root here.
 * const pipeline = await loadPipeline("examples/pipeline.yaml");
 * assert.deepEqual(pipeline.relay.groups, ["prod", "prep", "post", "cons"]);
 * assert.deepEqual(pipeline.groups.map((g) => g.count), [3, 10, 5, 1]);
 * assert.equal(pipeline.options.maxsize, 50);
 * // `await pipeline.relay.start()` would run it in 19 workers, as
 * // `deno task pipeline examples/pipeline.yaml` does.
 *
 * await assert.rejects(loadPipeline("examples/missing.yaml"), {
 *   name: "ConfigFileError",
 *   message: "examples/missing.yaml: cannot read the pipeline file: no such file",
 * });
 * ```
 */
export async function loadPipeline(
  path: string | URL,
  options?: LoadPipelineOptions,
): Promise<Pipeline> {
  const { allowRemoteActors } = loadOptions(options);
  const source = await ConfigSource.read(
    path,
    "pipeline file",
    "pipelineFileBytes",
  );
  const top = source.contents === null
    ? []
    : source.entries(source.contents, [], TOP_KEYS) ?? [];
  const get = (key: string) => top.find((e) => e.key === key);
  // The relay's own checks, reported at their keys.
  const relayOptions: RelayOptions = {};
  const maxsize = get("maxsize");
  if (maxsize !== undefined) {
    relayOptions.maxsize = source.validate(
      maxsize.value,
      maxsize.path,
      (where) => checkMaxsize(source.toJS(maxsize.value), where),
    );
  }
  const logger = get("logger");
  if (logger !== undefined) {
    relayOptions.logger = source.validate(
      logger.value,
      logger.path,
      (where) => checkLogger(source.toJS(logger.value), where, true),
    );
  }
  const timeout = get("shutdownTimeout");
  if (timeout !== undefined) {
    relayOptions.shutdownTimeout = source.validate(
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
  const inputKey = get("input");
  let fed: "lines" | undefined;
  if (inputKey !== undefined) {
    if (source.scalar(inputKey.value) === "lines") fed = "lines";
    else {
      source.report(
        inputKey.value,
        inputKey.path,
        `input must be lines (one line of standard input per message to the first group), received ${
          source.describe(inputKey.value)
        }; or leave input out, for a first group of sources`,
      );
    }
  }
  const transportKey = get("transport");
  const redisOptions = transportKey === undefined
    ? undefined
    : planTransport(source, transportKey);
  const workersKey = get("workers");
  let workers: WorkersOption | undefined;
  if (workersKey !== undefined) {
    workers = source.validate(
      workersKey.value,
      workersKey.path,
      (where) => checkWorkers(source.toJS(workersKey.value), where),
    );
    if (transportKey === undefined) {
      source.report(
        workersKey.keyNode,
        workersKey.path,
        `workers are the worker processes of a run across processes, which needs transport: { redis: ${REDIS_EXAMPLE} }; or leave workers out`,
      );
    }
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
  // With input (even a bad one, reported), the main thread is the source.
  const fedByMain = inputKey !== undefined;
  const least = fedByMain ? 1 : 2;
  if (groups !== undefined && !source.failed && entries.length < least) {
    source.report(
      groups.value,
      groups.path,
      !fedByMain
        ? `a pipeline needs at least 2 groups (a source and a receiver), received ${entries.length}`
        : `a pipeline with input needs at least 1 group, received 0`,
    );
  }
  // One group after the other: actors are numbered in the order of the file.
  const planned: (PipelineGroup | undefined)[] = [];
  let actorsBefore = 0;
  for (const [i, entry] of entries.entries()) {
    const g = await planGroup(source, entry, {
      source: i === 0 && !fedByMain,
      across: transportKey !== undefined,
      allowRemoteActors,
      actorsBefore,
    });
    actorsBefore += g?.count ?? 0;
    planned.push(g);
  }
  // Where groups run: on workers only across processes, and then the file
  // says which worker processes.
  const placed = planned.filter((g) => g?.place === "workers");
  if (
    placed.length > 0 && workersKey === undefined && redisOptions !== undefined
  ) {
    source.report(
      transportKey!.keyNode,
      transportKey!.path,
      `group ${
        placed[0]!.name
      } is placed on workers; say which worker processes run it with workers: { spawn: n } (started here) or workers: { wait: n } (started with cli.ts worker)`,
    );
  }
  // A group here that restarts next to one on workers (one on workers is
  // refused in its own checks): its edge across processes cannot restart.
  planned.forEach((g, i) => {
    if (g === undefined || g.place === "workers" || source.failed) return;
    if (g.policy.onError !== "restart") return;
    const near = [planned[i - 1], planned[i + 1]].find((n) =>
      n?.place === "workers"
    );
    if (near === undefined) return;
    const onError = source.entries(entries[i].value, entries[i].path)
      ?.find((e) => e.key === "onError");
    source.report(
      onError?.value,
      onError?.path ?? entries[i].path,
      `group ${g.name} has onError "restart" next to group ${
        near!.name
      }, which is placed on workers: an actor here cannot restart on an edge across processes for now; use onError "fail" or "skip", or place it on workers too`,
    );
  });
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
  if (redisOptions !== undefined) {
    // Only a file that asks for Redis loads npm:redis.
    const { redisPlacement } = await import("../host/redis/coordinator.ts");
    relayOptions.transport = redisPlacement(redisOptions);
  }
  let relay: Relay;
  try {
    relay = new Relay(relayOptions);
    const chain: GroupLike[] = built.map((g) =>
      group(g.actors, {
        name: g.name,
        maxsize: g.maxsize,
        permissions: g.permissions,
        ...(g.place === undefined ? {} : { place: g.place }),
        ...g.policy,
      })
    );
    if (fed !== undefined) chain.unshift(input<string>());
    relay.connect(...chain as never[]);
  } catch (error) {
    source.report(groups!.value, groups!.path, (error as Error).message);
    source.check();
    throw error;
  }
  return {
    file: source.label,
    options: relayOptions,
    logging,
    input: fed,
    redis: redisOptions,
    workers,
    groups: built,
    relay,
  };
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
    const policy = Object.entries(g.policy);
    if (policy.length > 0) {
      line += `  ${
        policy.map(([k, v]) =>
          `${k} ${
            Deno.inspect(v, {
              compact: true,
              breakLength: Infinity,
              colors: false,
            })
          }`
        ).join(", ")
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
    if (g.place === "workers") line += "  on workers";
    lines.push(line.trimEnd());
  });
  const logger = options.logger === undefined
    ? "baton"
    : [options.logger].flat().join(".");
  lines.push(`logger: ${logger}`);
  if (pipeline.logging !== undefined) {
    lines.push(`logging: ${displayPath(pipeline.logging)}`);
  }
  if (pipeline.redis !== undefined) {
    const w = pipeline.workers;
    lines.push(
      `transport: redis ${
        safeUrl(pipeline.redis.url)
      }, run ${pipeline.redis.run}${
        w === undefined
          ? ""
          : "spawn" in w
          ? `, ${w.spawn} worker processes started here`
          : `, waits for ${w.wait} worker processes`
      }`,
    );
  }
  lines.push(
    `shutdown timeout: ${
      options.shutdownTimeout ?? DEFAULT_SHUTDOWN_TIMEOUT
    } ms`,
  );
  if (pipeline.input === "lines") {
    lines.push(
      `input: lines of standard input, one per message to ${groups[0].name}`,
      `output: what ${
        groups.at(-1)!.name
      } sends, one line each on standard output`,
    );
  }
  return lines.join("\n");
}
