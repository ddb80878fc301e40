/**
 * What reads configuration files, as `mod.ts` exports it: each function
 * loads its implementation with its first call. Every actor's worker
 * imports `mod.ts` and never reads these files; loading the logging set-up
 * and the pipeline loader there would add about 0.8 MB to each worker
 * (`bench/README.md`).
 *
 * @module
 */

import type { ConfigureLoggingOptions } from "./log_config.ts";
import type { Pipeline } from "./pipeline_file.ts";

/**
 * Sets LogTape up from a YAML file shaped like Python's logging dictConfig,
 * replacing any configuration before it. File names in the file are
 * relative to it. Throws a `ConfigFileError` naming the file, line and key
 * of every problem found.
 *
 * @example The notebook's plain format on the console
 * ```ts ignore
 * import { configureLogging } from "@baton/relay";
 *
 * await configureLogging("conf/logging.yaml");
 * ```
 */
export async function configureLogging(path: string | URL): Promise<void> {
  const { configureLogging } = await import("./log_config.ts");
  await configureLogging(path);
}

/**
 * Sets LogTape up from a configuration object of the same shape as the file
 * {@linkcode configureLogging} reads.
 *
 * @example Console output in the plain format
 * ```ts ignore
 * await configureLoggingFrom({
 *   formatters: { plain: { format: "[%(asctime)s] %(name)s - %(message)s", datefmt: "%H:%M:%S" } },
 *   handlers: { console: { class: "console", formatter: "plain" } },
 *   root: { level: "INFO", handlers: ["console"] },
 * });
 * ```
 */
export async function configureLoggingFrom(
  config: unknown,
  options: ConfigureLoggingOptions = {},
): Promise<void> {
  const { configureLoggingFrom } = await import("./log_config.ts");
  await configureLoggingFrom(config, options);
}

/**
 * Reads a pipeline file, checks it, imports the actor modules, builds the
 * actors and connects them to a new relay. Throws a `ConfigFileError` that
 * names the file, line and key of every problem; no worker is started.
 *
 * @example Running a pipeline file
 * ```ts ignore
 * import { loadPipeline } from "@baton/relay";
 *
 * const pipeline = await loadPipeline("pipeline.yaml");
 * await pipeline.relay.start();
 * ```
 */
export async function loadPipeline(path: string | URL): Promise<Pipeline> {
  const { loadPipeline } = await import("./pipeline_file.ts");
  return await loadPipeline(path);
}
