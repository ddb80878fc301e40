/**
 * The bench's idle actors in a module that imports `mod.ts`, as a module
 * that defines actors and starts the relay itself does: the counterpart of
 * `bench/actors.ts`, which imports `actor.ts` alone, in the RSS rows.
 *
 * @module
 */

import "../mod.ts";
import { Sink, Source } from "./actors.ts";

/** {@linkcode Source}, its worker importing this module. */
export class ModSource extends Source {
  static readonly module: string = import.meta.url;
}

/** {@linkcode Sink}, its worker importing this module. */
export class ModSink extends Sink {
  static readonly module: string = import.meta.url;
}
