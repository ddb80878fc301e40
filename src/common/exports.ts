/**
 * Finding an actor's class among its module's exports: the main thread does
 * it before spawning (to refuse a class that is not exported), the worker
 * when it loads the module.
 *
 * @module
 */

/** Finds the actor's class among a module's exports, or says how to fix it. */
export function findExport(
  exports: Record<string, unknown>,
  className: string,
  module: string,
): new () => unknown {
  const named = exports[className];
  if (typeof named === "function") return named as new () => unknown;
  for (const value of Object.values(exports)) {
    if (typeof value === "function" && value.name === className) {
      return value as new () => unknown;
    }
  }
  throw new TypeError(
    `class ${className} is not exported by ${module}; add \`export\` to its declaration (workers import the class from its module)`,
  );
}
