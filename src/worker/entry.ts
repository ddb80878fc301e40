/**
 * The script of every actor's Web Worker. It marks the thread as an actor's
 * worker, then runs the bootstrap (`bootstrap.ts`) from its bundle in
 * `bundle/`, which `tools/build_worker.ts` builds from the sources: a worker
 * holds what it loads, and the bundle costs it far less memory than the
 * runtime's TypeScript modules do.
 *
 * The mark comes first, in a module of its own: the bundle's entry imports
 * its chunks before anything else, so a module that reads the mark at its top
 * level could otherwise run before the bundle's own import of `flag.ts`.
 * Never imported by the main thread.
 *
 * @module
 */

import "./flag.ts";
import "./bundle/bootstrap.js";
