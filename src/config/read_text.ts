/**
 * Reading a configuration file whole, up to its limit: a larger file is
 * never held in memory, and each failure is said as a message.
 *
 * @module
 */

import { readAccessHint } from "../common/read_access.ts";
import { bytesText, CONFIG_LIMITS } from "./limits.ts";
import { toPath } from "./paths.ts";

/**
 * The text of the file at `url` (`what` names it in messages), or the
 * problem that keeps it from being read: missing, out of reach, a
 * directory, or more bytes than `CONFIG_LIMITS[limit]`.
 */
export async function readConfigText(
  url: URL,
  what: string,
  limit: "pipelineFileBytes" | "loggingFileBytes",
): Promise<string | { problem: string }> {
  const max = CONFIG_LIMITS[limit];
  try {
    return await readText(url, max);
  } catch (error) {
    if (!(error instanceof TooLarge)) {
      return { problem: readFailure(error, what, toPath(url)) };
    }
    return {
      problem: `cannot read the ${what}: it has ${
        error.size === undefined ? "" : `${error.size} bytes, `
      }more than the ${
        bytesText(max)
      } a ${what} may have (CONFIG_LIMITS.${limit}); keep the data actors read in files of their own`,
    };
  }
}

/** A file larger than its limit; `size` when the file system tells it. */
class TooLarge extends Error {
  constructor(readonly size: number | undefined) {
    super("too large");
  }
}

/**
 * The text of a file, read up to one byte past `max` whatever the file
 * (a pipe or a device has no size to check first): a larger file is never
 * held whole.
 */
async function readText(url: URL, max: number): Promise<string> {
  const file = await Deno.open(url);
  try {
    const { size, isFile, isDirectory } = await file.stat();
    if (isDirectory) throw new Deno.errors.IsADirectory("a directory");
    if (isFile && size > max) throw new TooLarge(size);
    const buffer = new Uint8Array(max + 1);
    let length = 0;
    while (length <= max) {
      const n = await file.read(buffer.subarray(length));
      if (n === null) break;
      length += n;
    }
    if (length > max) throw new TooLarge(undefined);
    return new TextDecoder().decode(buffer.subarray(0, length));
  } finally {
    file.close();
  }
}

function readFailure(error: unknown, what: string, path: string): string {
  const name = error instanceof Error ? error.name : "";
  if (name === "NotFound") return `cannot read the ${what}: no such file`;
  if (name === "NotCapable" || name === "PermissionDenied") {
    return `cannot read the ${what}: no read permission; ${
      readAccessHint(path)
    }`;
  }
  if (name === "IsADirectory") {
    return `cannot read the ${what}: it is a directory`;
  }
  return `cannot read the ${what}: ${
    error instanceof Error ? error.message : String(error)
  }`;
}
