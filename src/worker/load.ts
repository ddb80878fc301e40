/**
 * Loading an actor in the thread that runs it: imports the module that
 * exports its class, finds the class, and rebuilds the actor from its copied
 * fields (the constructor does not run again).
 *
 * @module
 */

import { Actor, BATON_ROOT } from "../actor.ts";
import { findExport } from "../common/exports.ts";
import { importForActor } from "../common/importing.ts";
import { deniedRead, readAccessHint } from "../common/read_access.ts";
import type { InitMessage } from "../common/protocol.ts";

/** A module that would not load: the loader's error and what to do. */
export class LoadFailure extends Error {
  /** Creates the failure of `module` with the loader's error and a hint. */
  constructor(
    readonly module: string,
    readonly original: unknown,
    readonly hint: string | undefined,
  ) {
    super(`Cannot load ${module}`, { cause: original });
  }
}

/** Imports the actor's module and rebuilds the actor from its state. */
export async function loadActor(
  init: InitMessage,
): Promise<Actor<unknown, unknown>> {
  let exports: Record<string, unknown>;
  try {
    exports = await importForActor(init.module);
  } catch (error) {
    throw new LoadFailure(init.module, error, loadHint(init, error));
  }
  const ctor = findExport(exports, init.className, init.module);
  if (!(ctor.prototype instanceof Actor)) {
    throw new TypeError(
      `${init.className} exported by ${init.module} does not extend Actor`,
    );
  }
  const actor = Object.create(ctor.prototype) as Actor<unknown, unknown>;
  return Object.assign(actor, init.state);
}

function loadHint(init: InitMessage, error: unknown): string | undefined {
  const denied = deniedRead(error);
  if (denied === undefined) return undefined;
  if (!init.sandboxed) {
    return `the worker of ${init.name} needs read access to its modules: ${
      readAccessHint(denied || new URL(".", init.module).pathname)
    }`;
  }
  const read = [`new URL("./", import.meta.url)`];
  // Baton's own files, where they are files: what the actor's module
  // imports of baton (its entry) is read when the module loads.
  if (BATON_ROOT.protocol === "file:") {
    read.push(JSON.stringify(BATON_ROOT.pathname));
  }
  return `group ${init.group} runs with its own permissions: add the actor's modules to them, and what they import${
    denied === "" ? "" : ` (${denied} was denied)`
  }, for example group(actors, { permissions: { read: [${
    read.join(", ")
  }] } }) for the actors' folder${read.length > 1 ? " and baton's" : ""}`;
}
