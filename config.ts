/**
 * baton's YAML layer: logging set up from a file shaped like Python's
 * logging dictConfig, and pipelines described in files. A separate entry
 * point, so that a program (and every actor's worker) that does not read
 * such files loads no YAML parser.
 *
 * @example Checking a logging configuration given as an object
 * ```ts
 * import { configureLoggingFrom } from "@baton/relay/config";
 * import { reset } from "@logtape/logtape";
 * import assert from "node:assert/strict";
 *
 * await assert.rejects(
 *   configureLoggingFrom({ root: { level: "LOUD" } }),
 *   /root\.level/,
 * );
 * await configureLoggingFrom({ root: { level: "WARNING" } });
 * await reset();
 * ```
 *
 * @module
 */

export {
  configureLogging,
  configureLoggingFrom,
  type ConfigureLoggingOptions,
} from "./src/config/logging.ts";
export {
  loadPipeline,
  type LoadPipelineOptions,
  type Pipeline,
  type PipelineGroup,
} from "./src/config/pipeline.ts";
export { CONFIG_LIMITS, type ConfigLimits } from "./src/config/limits.ts";
export { ConfigFileError, type Problem } from "./src/config/source.ts";

// What a loaded pipeline names (its relay, actors, options, and what those
// name in turn) is the main entry's API: its types, for this entry's docs.
export type * from "./mod.ts";
export type { RedisOptions } from "./src/host/redis/options.ts";
