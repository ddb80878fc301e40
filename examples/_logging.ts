/**
 * The logging of the examples: `conf/logging.yaml`, which prints the
 * examples' records ("example") and the relay's ("baton") in the notebook's
 * plain format on the console. Its file handler is used by no logger, so
 * the examples run with read permission only.
 *
 * @module
 */

import { configureLogging } from "../config.ts";

/** Sets logging up from `conf/logging.yaml`. */
export async function setupLogging(): Promise<void> {
  await configureLogging(new URL("../conf/logging.yaml", import.meta.url));
}
