/**
 * The handlers and levels of a logging file: checking a handler's entry
 * (`class`, `formatter`, `level`, `stream`, `filename`, `delay`) and making
 * its LogTape sink, a console sink or a file sink.
 *
 * @module
 */

import type { getFileSink as GetFileSink } from "@logtape/file";
import type { LogLevel, Sink, TextFormatter } from "@logtape/logtape";
import type { Node } from "yaml";
import type { ConfigSource, Entry, KeyPath } from "./source.ts";
import { logtape } from "../common/logtape.ts";

/** A checked handler: the sink to make. */
export interface HandlerPlan {
  readonly kind: "console" | "file";
  readonly formatter: TextFormatter | undefined;
  readonly level: LogLevel | undefined;
  readonly stream: "stdout" | "stderr" | undefined;
  readonly file:
    | { url: URL; lazy: boolean; node: Node | null; path: KeyPath }
    | undefined;
}

const HANDLER_CLASSES: Readonly<Record<string, "console" | "file">> = {
  console: "console",
  file: "file",
  "logging.StreamHandler": "console",
  "logging.FileHandler": "file",
};

const STREAMS: Readonly<Record<string, "stdout" | "stderr">> = {
  "ext://sys.stdout": "stdout",
  "ext://sys.stderr": "stderr",
  stdout: "stdout",
  stderr: "stderr",
};

const LEVELS: Readonly<Record<string, LogLevel | "notset">> = {
  notset: "notset",
  trace: "trace",
  debug: "debug",
  info: "info",
  warning: "warning",
  warn: "warning",
  error: "error",
  critical: "fatal",
  fatal: "fatal",
};

const LEVEL_LIST = "NOTSET, TRACE, DEBUG, INFO, WARNING, ERROR, CRITICAL";

/** A checked `level:`; reports unknown names. */
export function planLevel(
  source: ConfigSource,
  entry: Entry | undefined,
): LogLevel | "notset" | undefined {
  if (entry === undefined) return undefined;
  const name = source.scalar(entry.value);
  const level = typeof name === "string"
    ? LEVELS[name.toLowerCase()]
    : undefined;
  if (level === undefined) {
    source.report(
      entry.value,
      entry.path,
      `unknown level ${source.describe(entry.value)}; use one of ${LEVEL_LIST}`,
    );
  }
  return level;
}

/** Checks one entry under `handlers`. */
export function planHandler(
  source: ConfigSource,
  h: Entry,
  formatters: ReadonlyMap<string, TextFormatter | undefined>,
): HandlerPlan | undefined {
  const keys = source.entries(h.value, h.path, [
    "class",
    "formatter",
    "level",
    "stream",
    "filename",
    "delay",
  ]);
  if (keys === undefined) return undefined;
  const get = (k: string) => keys.find((e) => e.key === k);
  const cls = get("class");
  if (cls === undefined) {
    source.report(
      h.keyNode,
      h.path,
      "a handler needs a class: console or file",
    );
    return undefined;
  }
  const name = source.scalar(cls.value);
  const kind = typeof name === "string" ? HANDLER_CLASSES[name] : undefined;
  if (kind === undefined) {
    source.report(
      cls.value,
      cls.path,
      `unknown handler class ${source.describe(cls.value)}; use one of ${
        Object.keys(HANDLER_CLASSES).join(", ")
      }`,
    );
    return undefined;
  }
  let formatter: TextFormatter | undefined;
  const fmt = get("formatter");
  if (fmt !== undefined) {
    const ref = source.string(fmt.value, fmt.path, "the name of a formatter");
    formatter = ref === undefined ? undefined : formatters.get(ref);
    if (ref !== undefined && !formatters.has(ref)) {
      const known = [...formatters.keys()];
      source.report(
        fmt.value,
        fmt.path,
        `unknown formatter "${ref}"; ${
          known.length === 0
            ? "define it under formatters"
            : `use one of ${known.join(", ")}`
        }`,
      );
    }
  }
  const level = planLevel(source, get("level"));
  for (const key of kind === "console" ? ["filename", "delay"] : ["stream"]) {
    const e = get(key);
    if (e !== undefined) {
      source.report(e.keyNode, h.path, `a ${kind} handler takes no ${key}`);
    }
  }
  let stream: "stdout" | "stderr" | undefined;
  const s = get("stream");
  if (kind === "console" && s !== undefined) {
    const value = source.scalar(s.value);
    stream = typeof value === "string" ? STREAMS[value] : undefined;
    if (stream === undefined) {
      source.report(
        s.value,
        s.path,
        `unknown stream ${
          source.describe(s.value)
        }; use ext://sys.stdout or ext://sys.stderr`,
      );
    }
  }
  let file: HandlerPlan["file"];
  if (kind === "file") {
    const f = get("filename");
    const delay = get("delay");
    const lazy = delay === undefined ? false : source.scalar(delay.value);
    if (typeof lazy !== "boolean") {
      source.report(
        delay!.value,
        delay!.path,
        `expected true or false, received ${source.describe(delay!.value)}`,
      );
    }
    if (f === undefined) {
      source.report(
        h.keyNode,
        h.path,
        "a file handler needs a filename (relative to this file)",
      );
    } else {
      const name = source.string(f.value, f.path, "a file name");
      if (name !== undefined) {
        file = {
          url: source.resolve(name),
          lazy: lazy === true,
          node: f.value,
          path: f.path,
        };
      }
    }
  }
  return {
    kind,
    formatter,
    level: level === "notset" ? undefined : level,
    stream,
    file,
  };
}

/**
 * Makes the sink of a handler; reports a file that cannot be opened (and
 * returns undefined).
 */
export function openSink(
  source: ConfigSource,
  h: HandlerPlan,
  getFileSink: typeof GetFileSink,
): Sink | undefined {
  let sink: Sink;
  if (h.kind === "console") {
    const method = h.stream === "stdout"
      ? "log"
      : h.stream === "stderr"
      ? "error"
      : undefined;
    sink = logtape().getConsoleSink({
      formatter: h.formatter,
      levelMap: method === undefined ? undefined : {
        trace: method,
        debug: method,
        info: method,
        warning: method,
        error: method,
        fatal: method,
      },
    });
  } else {
    const { url, lazy, node, path } = h.file!;
    try {
      sink = getFileSink(source.path(url), { formatter: h.formatter, lazy });
    } catch (error) {
      source.report(node, path, openFailure(error, source.path(url)));
      return undefined;
    }
  }
  // withFilter() keeps the file sink's dispose(), which flushes it.
  return h.level === undefined
    ? sink
    : logtape().withFilter(sink, logtape().getLevelFilter(h.level));
}

function openFailure(error: unknown, path: string): string {
  const name = error instanceof Error ? error.name : "";
  if (name === "NotCapable" || name === "PermissionDenied") {
    return `cannot open ${path} for writing: no write permission; run deno with --allow-write=${path}`;
  }
  if (name === "NotFound") {
    return `cannot open ${path}: its directory does not exist`;
  }
  return `cannot open ${path}: ${
    error instanceof Error ? error.message : String(error)
  }`;
}
