/**
 * Which actor module baton is importing right now, in this thread. A worker
 * imports its actor's module, and so does the main thread before it
 * spawns (to check the export): a module that starts a relay at its top
 * level, without an `if (import.meta.main)` guard, would start one in every
 * worker, each starting more. `Relay.start()` refuses to run while a module
 * is being imported for an actor, and names it.
 *
 * @module
 */

const IMPORTING = Symbol.for("baton.importing");

type Scope = Record<symbol, string[] | undefined>;

/**
 * Imports `module` for an actor, marked as such while it evaluates. Two
 * relays of one thread may import at once: each import is counted, and
 * removed, on its own.
 */
export async function importForActor(
  module: string,
): Promise<Record<string, unknown>> {
  const scope = globalThis as unknown as Scope;
  const active = scope[IMPORTING] ??= [];
  active.push(module);
  try {
    return await import(module);
  } finally {
    active.splice(active.lastIndexOf(module), 1);
  }
}

/** The actor module being imported in this thread, if any. */
export function importingModule(): string | undefined {
  const active = (globalThis as unknown as Scope)[IMPORTING];
  return active?.[active.length - 1];
}
