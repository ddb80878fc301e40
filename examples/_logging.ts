/**
 * The console logging of the examples: the notebook's plain format, for the
 * examples' own records ("example") and the relay's ("baton").
 *
 * @module
 */

import { configure, getConsoleSink } from "@logtape/logtape";
import { plainFormatter } from "../mod.ts";

/** Prints records of the examples and the relay in the plain format. */
export async function setupLogging(): Promise<void> {
  await configure({
    sinks: { console: getConsoleSink({ formatter: plainFormatter }) },
    loggers: [
      { category: "example", sinks: ["console"], lowestLevel: "info" },
      { category: "baton", sinks: ["console"], lowestLevel: "info" },
      {
        category: ["logtape", "meta"],
        sinks: ["console"],
        lowestLevel: "warning",
      },
    ],
  });
}
