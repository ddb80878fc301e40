/**
 * Finding an actor's class among its module's exports, by one rule: the
 * export of that name, else the exported class of that name (renamed or
 * default). The main thread looks before spawning (to refuse a class that
 * is not exported), the YAML layer for the class a file names, the worker
 * when it loads the module.
 *
 * @module
 */

/**
 * The function exported as `name`, else the exported function whose name
 * it is, else whatever is exported as `name`.
 */
export function lookup(
  exports: Record<string, unknown>,
  name: string,
): unknown {
  const named = exports[name];
  if (typeof named === "function") return named;
  return Object.values(exports).find((value) =>
    typeof value === "function" && value.name === name
  ) ?? named;
}

/** Finds the actor's class among a module's exports, or says how to fix it. */
export function findExport(
  exports: Record<string, unknown>,
  className: string,
  module: string,
): new () => unknown {
  const found = lookup(exports, className);
  if (typeof found === "function") return found as new () => unknown;
  throw new TypeError(
    `class ${className} is not exported by ${module}; workers import the class from its module: add \`export\` to its declaration, and if it is declared inside a function or a block, move it to the top level of the module (or run the relay with { inline: true })`,
  );
}
