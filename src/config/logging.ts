/**
 * Logging set up from a YAML file shaped like Python's `logging.config`
 * dictionary (`formatters`, `handlers`, `loggers`, `root`), applied to
 * LogTape: a dotted logger name is a category, a handler a sink.
 *
 * @module
 */

import type {
  LoggerConfig,
  LogLevel,
  Sink,
  TextFormatter,
} from "@logtape/logtape";
import { getFileSink } from "@logtape/file";
import { logtape } from "../common/logtape.ts";
import { formatting } from "./log_format.ts";
import {
  type HandlerPlan,
  openSink,
  planHandler,
  planLevel,
} from "./log_handlers.ts";
import { toUrl } from "./paths.ts";
import { ConfigSource, type Entry } from "./source.ts";

/** Options of {@linkcode configureLoggingFrom}. */
export interface ConfigureLoggingOptions {
  /**
   * What relative file names are resolved against, as in
   * `new URL(filename, base)`: a URL such as `import.meta.url`, or a
   * directory path. Default: the working directory.
   */
  base?: string | URL;
}

/**
 * Sets LogTape up from a YAML file shaped like Python's logging dictConfig,
 * replacing any configuration before it. File names in the file are
 * relative to it. Throws a `ConfigFileError` naming the file, line and key
 * of every problem found.
 *
 * @example The notebook's plain format on the console
 * ```ts
 * import { configureLogging } from "@baton/relay/config";
 * import { getConfig, reset } from "@logtape/logtape";
 * import assert from "node:assert/strict";
 *
 * // Relative to the working directory: this repository's root here.
 * await configureLogging("conf/logging.yaml");
 * const baton = getConfig()?.loggers.find((l) => l.category[0] === "baton");
 * assert.equal(baton?.lowestLevel, "info");
 * await reset();
 * ```
 */
export async function configureLogging(path: string | URL): Promise<void> {
  await applyLogging(await readLogging(path));
}

/**
 * Sets LogTape up from a configuration object of the same shape as the file
 * {@linkcode configureLogging} reads.
 *
 * @example Console output in the plain format
 * ```ts
 * import { configureLoggingFrom } from "@baton/relay/config";
 * import { getConfig, reset } from "@logtape/logtape";
 * import assert from "node:assert/strict";
 *
 * await configureLoggingFrom({
 *   formatters: {
 *     plain: {
 *       format: "[%(asctime)s] %(name)s - %(message)s",
 *       datefmt: "%H:%M:%S",
 *     },
 *   },
 *   handlers: { console: { class: "console", formatter: "plain" } },
 *   root: { level: "INFO", handlers: ["console"] },
 * });
 * const root = getConfig()?.loggers.find((l) => l.category.length === 0);
 * assert.deepEqual(root?.sinks, ["console"]);
 * await reset();
 * ```
 */
export async function configureLoggingFrom(
  config: unknown,
  options: ConfigureLoggingOptions = {},
): Promise<void> {
  let base = toUrl(options.base ?? "./");
  // A directory path names the directory itself, not a file in its parent.
  if (typeof options.base !== "object" && !base.href.endsWith("/")) {
    base = new URL(`${base.href}/`);
  }
  const source = ConfigSource.of(config, "logging configuration", base);
  await applyLogging(await planLogging(source));
}

/** A checked logging configuration, not applied yet. */
export interface LoggingPlan {
  readonly source: ConfigSource;
  readonly handlers: ReadonlyMap<string, HandlerPlan>;
  readonly loggers: readonly LoggerPlan[];
}

interface LoggerPlan {
  readonly category: readonly string[];
  /** As in Python: NOTSET (or none) inherits; on the root, NOTSET is all. */
  readonly level: LogLevel | "notset" | undefined;
  readonly handlers: readonly string[];
  readonly propagate: boolean;
}

/** Reads and checks a logging file; nothing is opened or applied. */
export async function readLogging(path: string | URL): Promise<LoggingPlan> {
  return await planLogging(
    await ConfigSource.read(path, "logging file", "loggingFileBytes"),
  );
}

/** Checks a parsed logging configuration; throws a `ConfigFileError`. */
function planLogging(source: ConfigSource): LoggingPlan {
  const { checkFormat, checkDatefmt, formatter } = formatting();
  const top = source.contents === null ? [] : source.entries(
    source.contents,
    [],
    ["version", "formatters", "handlers", "loggers", "root"],
  ) ?? [];
  const section = (key: string) => top.find((e) => e.key === key);
  const version = section("version");
  if (version !== undefined && source.scalar(version.value) !== 1) {
    source.report(
      version.value,
      version.path,
      `only version 1 exists, received ${source.describe(version.value)}`,
    );
  }

  // Every declared formatter, undefined where it has problems of its own.
  const formatters = new Map<string, TextFormatter | undefined>();
  for (const f of sectionEntries(source, section("formatters"))) {
    formatters.set(f.key, undefined);
    const keys = source.entries(f.value, f.path, ["format", "datefmt"]);
    if (keys === undefined) continue;
    const get = (k: string) => keys.find((e) => e.key === k);
    const fmt = get("format");
    const datefmt = get("datefmt");
    const format = fmt === undefined ? "%(message)s" : checked(
      source,
      fmt,
      'a format string such as "%(name)s - %(message)s"',
      checkFormat,
    );
    const date = datefmt === undefined ? undefined : checked(
      source,
      datefmt,
      'a strftime format such as "%H:%M:%S"',
      checkDatefmt,
    );
    if (format !== undefined && (datefmt === undefined || date !== undefined)) {
      formatters.set(f.key, formatter(format, date));
    }
  }

  const handlers = new Map<string, HandlerPlan>();
  const entries = sectionEntries(source, section("handlers"));
  // Looked up once per reference: a set, not a search of the list.
  const declared = new Set(entries.map((e) => e.key));
  for (const h of entries) {
    const plan = planHandler(source, h, formatters);
    if (plan !== undefined) handlers.set(h.key, plan);
  }

  const loggers: LoggerPlan[] = [];
  const root = section("root");
  if (root !== undefined) {
    const plan = planLogger(source, root, [], ["level", "handlers"], declared);
    if (plan !== undefined) loggers.push(plan);
  }
  for (const l of sectionEntries(source, section("loggers"))) {
    if (l.key === "root") {
      source.report(
        l.keyNode,
        l.path,
        "the root logger is configured by the top-level key root, not under loggers",
      );
      continue;
    }
    const category = l.key.split(".");
    if (category.some((part) => part === "")) {
      source.report(
        l.keyNode,
        l.path,
        `logger names are dotted words, such as ktz.ipynb; received ${
          JSON.stringify(l.key)
        }`,
      );
      continue;
    }
    const plan = planLogger(source, l, category, [
      "level",
      "handlers",
      "propagate",
    ], declared);
    if (plan !== undefined) loggers.push(plan);
  }
  source.check();
  return { source, handlers, loggers };
}

function sectionEntries(
  source: ConfigSource,
  entry: Entry | undefined,
): Entry[] {
  if (entry === undefined || entry.value === null) return [];
  return source.entries(entry.value, entry.path) ?? [];
}

function checked(
  source: ConfigSource,
  entry: Entry,
  expected: string,
  check: (text: string) => string | undefined,
): string | undefined {
  const text = source.string(entry.value, entry.path, expected);
  if (text === undefined) return undefined;
  const problem = check(text);
  if (problem === undefined) return text;
  source.report(entry.value, entry.path, problem);
  return undefined;
}

function planLogger(
  source: ConfigSource,
  l: Entry,
  category: readonly string[],
  allowed: readonly string[],
  handlers: ReadonlySet<string>,
): LoggerPlan | undefined {
  const keys = l.value === null ? [] : source.entries(l.value, l.path, allowed);
  if (keys === undefined) return undefined;
  const get = (k: string) => keys.find((e) => e.key === k);
  const level = planLevel(source, get("level"));
  const names: string[] = [];
  const h = get("handlers");
  for (
    const [i, item]
      of (h === undefined
        ? []
        : source.items(h.value, h.path, "a list of handler names") ?? [])
        .entries()
  ) {
    const ref = source.string(item, [...h!.path, i], "the name of a handler");
    if (ref === undefined) continue;
    if (!handlers.has(ref)) {
      const known = [...handlers];
      source.report(
        item,
        [...h!.path, i],
        `unknown handler "${ref}"; ${
          known.length === 0
            ? "define it under handlers"
            : `use one of ${known.join(", ")}`
        }`,
      );
    }
    names.push(ref);
  }
  const p = get("propagate");
  const propagate = p === undefined ? true : source.scalar(p.value);
  if (typeof propagate !== "boolean") {
    source.report(
      p!.value,
      p!.path,
      `expected true or false, received ${source.describe(p!.value)}`,
    );
  }
  return {
    category,
    level,
    handlers: names,
    propagate: propagate !== false,
  };
}

/** Applies a checked plan to LogTape, opening its files. */
export async function applyLogging(plan: LoggingPlan): Promise<void> {
  const used = new Set(plan.loggers.flatMap((l) => l.handlers));
  const sinks: Record<string, Sink> = {};
  const opened: Disposable[] = [];
  for (const [name, h] of plan.handlers) {
    // As Python's delay: a handler no logger uses is never opened.
    if (!used.has(name)) continue;
    const sink = openSink(plan.source, h, getFileSink);
    if (sink === undefined) continue;
    if (Symbol.dispose in sink) opened.push(sink as Sink & Disposable);
    sinks[name] = sink;
  }
  if (plan.source.failed) {
    for (const d of opened) d[Symbol.dispose]();
    plan.source.check();
  }
  const { configure, getConsoleSink } = logtape();
  await configure({
    reset: true,
    sinks: { ...sinks, [META_SINK]: getConsoleSink() },
    loggers: loggerConfigs(plan),
  });
}

const META_SINK = "\u0000logtape.meta";

function loggerConfigs(plan: LoggingPlan): LoggerConfig<string, string>[] {
  const byKey = new Map(plan.loggers.map((l) => [l.category.join("."), l]));
  // As in Python, the root is at WARNING unless set (NOTSET: everything),
  // and a logger without a level takes its nearest ancestor's.
  const rootLevel = byKey.get("")?.level;
  const root: LogLevel = rootLevel === undefined
    ? "warning"
    : rootLevel === "notset"
    ? "trace"
    : rootLevel;
  const effective = (category: readonly string[]): LogLevel => {
    for (let n = category.length; n > 0; n--) {
      const level = byKey.get(category.slice(0, n).join("."))?.level;
      if (level !== undefined && level !== "notset") return level;
    }
    return root;
  };
  const configs: LoggerConfig<string, string>[] = plan.loggers.map((l) => ({
    category: [...l.category],
    sinks: [...l.handlers],
    // Python passes a record to every ancestor's handlers whatever their
    // loggers' levels: LogTape's "forward"; propagate: false stops there.
    parentSinks: l.category.length === 0
      ? undefined
      : l.propagate
      ? "forward"
      : "override",
    lowestLevel: effective(l.category),
  }));
  if (!byKey.has("")) {
    configs.push({ category: [], sinks: [], lowestLevel: root });
  }
  if (!byKey.has("logtape.meta")) {
    configs.push({
      category: ["logtape", "meta"],
      sinks: [META_SINK],
      parentSinks: "override",
      lowestLevel: "warning",
    });
  }
  return configs;
}
