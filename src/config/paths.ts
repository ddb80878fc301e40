/**
 * Paths and file URLs as configuration files use them, and a way to parse
 * YAML without reading the environment.
 *
 * @module
 */

import { relative, resolve } from "node:path";
import process from "node:process";
import { fileURLToPath, pathToFileURL } from "node:url";

/** A file path or URL as a URL, relative paths against the working directory. */
export function toUrl(path: string | URL): URL {
  if (path instanceof URL) return path;
  return /^[a-z][a-z0-9+.-]+:/i.test(path)
    ? new URL(path)
    : pathToFileURL(resolve(path));
}

/** A file URL as a path; other URLs as they are. */
export function toPath(url: URL | string): string {
  const href = url instanceof URL ? url.href : url;
  return href.startsWith("file:") ? fileURLToPath(href) : href;
}

/** A file URL as a path relative to the working directory when inside it. */
export function displayPath(url: URL): string {
  if (url.protocol !== "file:") return url.href;
  const path = fileURLToPath(url);
  try {
    const rel = relative(Deno.cwd(), path);
    return rel.startsWith("..") ? path : rel;
  } catch {
    return path; // no read permission for the working directory
  }
}

/**
 * Runs `parse` with an empty `process.env`, unless `variables` may be read.
 * yaml's Node build reads `LOG_TOKENS` and `LOG_STREAM` for every token it
 * parses (a debugging aid of its own), which Deno refuses without
 * `--allow-env`; the parse is synchronous, so nothing else sees the swap.
 */
export function withoutEnv<T>(variables: readonly string[], parse: () => T): T {
  const granted = variables.every((variable) =>
    Deno.permissions.querySync({ name: "env", variable }).state === "granted"
  );
  const saved = Object.getOwnPropertyDescriptor(process, "env");
  if (granted || !saved?.configurable || !("value" in saved)) return parse();
  Object.defineProperty(process, "env", { ...saved, value: {} });
  try {
    return parse();
  } finally {
    Object.defineProperty(process, "env", saved);
  }
}
