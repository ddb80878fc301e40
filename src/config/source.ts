/**
 * YAML configuration files (a pipeline, a logging setup): reading them, and
 * errors that point into them by file, line, column and key path.
 *
 * @module
 */

import {
  type Alias,
  Document,
  isAlias,
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  parseDocument,
  type Scalar,
  type YAMLMap,
} from "yaml";
import { render } from "../common/values.ts";
import { unknownKey } from "../host/validate.ts";
import { displayPath, toPath, toUrl, withoutEnv } from "./paths.ts";
import { readConfigText } from "./read_text.ts";
import { plain, scan } from "./yaml_tree.ts";

/** One thing wrong in a configuration file. */
export interface Problem {
  /** The key path inside the file, for example `groups.prod.count`. */
  readonly path: string;
  /** The line, 1-based; absent for configurations given as objects. */
  readonly line?: number;
  /** The column, 1-based. */
  readonly column?: number;
  /** What is wrong and how to fix it. */
  readonly message: string;
}

/**
 * A configuration file that cannot be used: each line of the message is one
 * problem, as `file:line:column: path: what is wrong`.
 *
 * @example Telling a bad configuration from a failed run
 * ```ts
 * import { ConfigFileError, configureLoggingFrom } from "@baton/relay/config";
 * import assert from "node:assert/strict";
 *
 * await assert.rejects(
 *   configureLoggingFrom({ root: { level: "LOUD" } }),
 *   (err) => {
 *     assert.ok(err instanceof ConfigFileError);
 *     assert.equal(err.file, "logging configuration");
 *     assert.equal(err.problems[0].path, "root.level");
 *     assert.match(
 *       err.message,
 *       /^logging configuration: root\.level: unknown level "LOUD"/,
 *     );
 *     return true;
 *   },
 * );
 * ```
 */
export class ConfigFileError extends Error {
  /** The file, as shown in the message. */
  readonly file: string;
  /** Every problem found, in the order of the file. */
  readonly problems: readonly Problem[];

  /** Creates the error for the problems of one file. */
  constructor(file: string, problems: readonly Problem[]) {
    super(problems.map((p) => formatProblem(file, p)).join("\n"));
    this.name = "ConfigFileError";
    this.file = file;
    this.problems = problems;
  }
}

function formatProblem(file: string, p: Problem): string {
  const at = p.line === undefined ? file : `${file}:${p.line}:${p.column}`;
  return p.path === ""
    ? `${at}: ${p.message}`
    : `${at}: ${p.path}: ${p.message}`;
}

/** A key path: mapping keys and sequence indices. */
export type KeyPath = readonly (string | number)[];

/** `groups.prod.count`, `root.handlers[1]`, `groups[""]`. */
function pathText(path: KeyPath): string {
  let text = "";
  for (const key of path) {
    text += typeof key === "number"
      ? `[${key}]`
      : key === ""
      ? '[""]'
      : text === ""
      ? key
      : `.${key}`;
  }
  return text;
}

/**
 * A parsed configuration, with the problems found while reading it. Nodes
 * of a file carry their place in it; nodes of an object given in code do not.
 */
export class ConfigSource {
  /** The file as shown in messages. */
  readonly label: string;
  /** The base of relative paths in the file. */
  readonly base: URL;
  /** The top node, or null for an empty file. */
  readonly contents: Node | null;
  readonly #lines: LineCounter | undefined;
  readonly #targets: ReadonlyMap<Alias, Node>;
  readonly #problems: Problem[] = [];

  private constructor(
    label: string,
    base: URL,
    doc: Document,
    lines?: LineCounter,
  ) {
    this.label = label;
    this.base = base;
    this.#lines = lines;
    this.contents = doc.contents as Node | null;
    // A file's limits; an object given in code was never parsed.
    const found = scan(doc, lines !== undefined);
    this.#targets = found.targets;
    for (const { node, message } of found.problems) {
      this.report(node, [], message);
    }
  }

  /**
   * Reads and parses a YAML file of at most `maxBytes`. Throws a
   * {@linkcode ConfigFileError} when it cannot be read, is larger, is not
   * valid YAML or passes a limit of {@linkcode CONFIG_LIMITS}.
   */
  static async read(
    path: string | URL,
    what: string,
    limit: "pipelineFileBytes" | "loggingFileBytes",
  ): Promise<ConfigSource> {
    const url = toUrl(path);
    const label = displayPath(url);
    const read = await readConfigText(url, what, limit);
    if (typeof read !== "string") {
      throw new ConfigFileError(label, [{ path: "", message: read.problem }]);
    }
    const text = read;
    const lines = new LineCounter();
    // See withoutEnv() for why the environment is hidden from the parser.
    // yaml's duplicate-key check is quadratic: scan() does it instead.
    const doc = withoutEnv(
      ["LOG_TOKENS", "LOG_STREAM"],
      () =>
        parseDocument(text, {
          lineCounter: lines,
          prettyErrors: false,
          uniqueKeys: false,
        }),
    );
    const source = new ConfigSource(label, url, doc, lines);
    for (const error of doc.errors) {
      const { line, col } = source.#position(error.pos[0]);
      source.#problems.push({
        path: "",
        line,
        column: col,
        message: `invalid YAML: ${error.message.split("\n")[0]}`,
      });
    }
    source.check();
    return source;
  }

  /** Wraps a configuration given as an object; relative paths from `base`. */
  static of(value: unknown, label: string, base: URL): ConfigSource {
    return new ConfigSource(label, base, new Document(value));
  }

  /** Records a problem at a node (or at no place, when it is missing). */
  report(node: Node | null | undefined, path: KeyPath, message: string): void {
    const start = node?.range?.[0];
    const place = start === undefined || this.#lines === undefined
      ? {}
      : (() => {
        const { line, col } = this.#position(start);
        return { line, column: col };
      })();
    this.#problems.push({ path: pathText(path), ...place, message });
  }

  /**
   * Runs a check shared with the code API (`host/validate.ts`), which takes
   * the place to name in its message: given none, it names the problem
   * alone, and the `TypeError` or `RangeError` it throws is recorded here,
   * at the node. Returns the checked value, or undefined (reported).
   */
  validate<T>(
    node: Node | null | undefined,
    path: KeyPath,
    check: (where: "") => T,
  ): T | undefined {
    try {
      return check("");
    } catch (error) {
      if (!(error instanceof TypeError || error instanceof RangeError)) {
        throw error;
      }
      this.report(node, path, error.message);
      return undefined;
    }
  }

  /** Whether problems have been recorded. */
  get failed(): boolean {
    return this.#problems.length > 0;
  }

  /** Throws a {@linkcode ConfigFileError} with the problems, if any. */
  check(): void {
    if (this.#problems.length === 0) return;
    const sorted = [...this.#problems].sort((a, b) =>
      (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0)
    );
    throw new ConfigFileError(this.label, sorted);
  }

  /** The node an alias points to, or the node itself. */
  deref(node: unknown): Node | null {
    if (isAlias(node)) return this.#targets.get(node) ?? null;
    return (node ?? null) as Node | null;
  }

  /**
   * The entries of a mapping, reporting a node that is not a mapping and
   * keys that are not in `allowed`. Returns undefined for a non-mapping.
   */
  entries(
    node: Node | null,
    path: KeyPath,
    allowed?: readonly string[],
    expected = "a mapping",
  ): Entry[] | undefined {
    node = this.deref(node);
    if (!isMap(node)) {
      this.report(
        node,
        path,
        `expected ${expected}, received ${this.describe(node)}`,
      );
      return undefined;
    }
    const out: Entry[] = [];
    for (const pair of (node as YAMLMap<unknown, unknown>).items) {
      const keyNode = this.deref(pair.key);
      const key = isScalar(keyNode) ? keyNode.value : undefined;
      if (typeof key !== "string" && typeof key !== "number") {
        this.report(
          keyNode,
          path,
          `keys must be strings, received ${this.describe(keyNode)}`,
        );
        continue;
      }
      const name = String(key);
      if (allowed !== undefined && !allowed.includes(name)) {
        this.report(keyNode, path, unknownKey(name, allowed));
        continue;
      }
      out.push({
        key: name,
        keyNode,
        value: this.deref(pair.value),
        path: [...path, name],
      });
    }
    return out;
  }

  /** The items of a sequence, or undefined (reported) for anything else. */
  items(
    node: Node | null,
    path: KeyPath,
    expected: string,
  ): Node[] | undefined {
    node = this.deref(node);
    if (!isSeq(node)) {
      this.report(
        node,
        path,
        `expected ${expected}, received ${this.describe(node)}`,
      );
      return undefined;
    }
    return node.items.map((item) => this.deref(item) as Node);
  }

  /** The plain value of a scalar node, or undefined for any other node. */
  scalar(node: Node | null): unknown {
    return isScalar(node) ? (node as Scalar).value : undefined;
  }

  /** The plain data of a node: mappings as objects, lists as arrays. */
  toJS(node: Node | null): unknown {
    return plain(node, this.#targets);
  }

  /** A string scalar, or undefined (reported). */
  string(
    node: Node | null,
    path: KeyPath,
    expected = "a string",
  ): string | undefined {
    const value = this.scalar(node);
    if (typeof value === "string" && value !== "") return value;
    this.report(
      node,
      path,
      `expected ${expected}, received ${this.describe(node)}`,
    );
    return undefined;
  }

  /** A file URL as a local path (other URLs as they are). */
  path(url: URL | string): string {
    return toPath(url);
  }

  /** A relative path or URL in the file, resolved against the file. */
  resolve(ref: string): URL {
    return new URL(ref, this.base);
  }

  /** A short description of what a node holds, for "received …". */
  describe(node: Node | null | undefined): string {
    if (node === null || node === undefined) return "nothing";
    if (isMap(node)) return "a mapping";
    if (isSeq(node)) return "a list";
    if (isScalar(node)) {
      const value = node.value;
      return value === null ? "null" : render(value);
    }
    return "an unknown node";
  }

  #position(offset: number): { line: number; col: number } {
    const { line, col } = this.#lines!.linePos(offset);
    // Before the first newline the counter knows no line: that is line 1.
    return line === 0 ? { line: 1, col: offset + 1 } : { line, col };
  }
}

/** A key of a mapping with its value and path. */
export interface Entry {
  readonly key: string;
  readonly keyNode: Node | null;
  readonly value: Node | null;
  readonly path: KeyPath;
}
