/**
 * The actor class a pipeline file names: found among its module's exports by
 * the same rule a worker uses (`common/exports.ts`), and checked to be an
 * actor class.
 *
 * @module
 */

import { Actor } from "../actor.ts";
import { lookup } from "../common/exports.ts";

/** Whether `value` is a class that extends `Actor`. */
function isActorClass(
  value: unknown,
): value is new () => Actor<unknown, unknown> {
  return typeof value === "function" && value.prototype instanceof Actor;
}

/**
 * Finds the actor class a name refers to among a module's exports: throws a
 * `TypeError` that lists the module's actor classes when there is none of
 * that name, or says what the export is when it is no actor class.
 */
export function findActorClass(
  exports: Record<string, unknown>,
  name: string,
  module: string,
): new () => Actor<unknown, unknown> {
  const found = lookup(exports, name);
  if (isActorClass(found)) return found;
  if (found === undefined) {
    const actors = Object.keys(exports).filter((k) => isActorClass(exports[k]));
    throw new TypeError(
      `${module} has no export ${JSON.stringify(name)}; ${
        actors.length === 0
          ? "it exports no actor class"
          : `its actor classes are ${actors.join(", ")}`
      }`,
    );
  }
  throw new TypeError(
    typeof found === "function"
      ? `${name} exported by ${module} does not extend Actor`
      : `${name} exported by ${module} is ${
        found === null
          ? "null"
          : typeof found === "object"
          ? "an object"
          : `a ${typeof found}`
      }, not a class that extends Actor`,
  );
}
