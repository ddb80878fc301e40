/**
 * LogTape's levels in order, for deciding in a worker (which has no LogTape)
 * whether a level is on, and in the main thread which is the lowest on.
 *
 * @module
 */

import type { LogLevel } from "@logtape/logtape";

/** LogTape's levels, lowest first. */
export const LEVELS: readonly LogLevel[] = [
  "trace",
  "debug",
  "info",
  "warning",
  "error",
  "fatal",
];
