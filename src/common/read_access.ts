/**
 * Denied reads: telling them among errors and saying how to grant them, the
 * same way wherever a module or file could not be read (a worker loading its
 * actor, the YAML layer importing one, reading a configuration file).
 *
 * @module
 */

const READ_DENIED = /Requires read access to "?([^",]*)"?/;

/**
 * The path a denied read names (`""` when its message names none), or
 * `undefined` when `error` is not a denied read.
 */
export function deniedRead(error: unknown): string | undefined {
  let message: string;
  try {
    message = error instanceof Error ? error.message : String(error);
  } catch {
    return undefined;
  }
  return READ_DENIED.exec(message)?.[1];
}

/**
 * How to grant a read: `run with --allow-read (-R), or at least
 * --allow-read=<path>` (without the second part when `path` is empty).
 */
export function readAccessHint(path?: string): string {
  return path === undefined || path === ""
    ? "run with --allow-read (-R)"
    : `run with --allow-read (-R), or at least --allow-read=${path}`;
}
