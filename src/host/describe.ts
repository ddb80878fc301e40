/**
 * Finding what a worker needs to rebuild an actor: the module that exports
 * its class, the export's name, and the actor's own fields.
 *
 * The module comes from the stack captured when the actor was constructed:
 * V8 names each constructor frame (`at new Producer (file:///…/actors.ts:3:1)`),
 * so the frame of the most derived class gives the file that defines it, with
 * nothing asked of the user. A class can also say it itself, with
 * `static readonly module = import.meta.url` (a bundled or generated module
 * whose frames name another file).
 *
 * @module
 */

import { type Actor, metaOf } from "../actor.ts";
import { findExport } from "../common/exports.ts";
import { render } from "../common/values.ts";
import { importForActor } from "../common/importing.ts";
import { privateMembers } from "./private_members.ts";

/** What a worker needs to rebuild an actor. */
export interface ActorSpec {
  readonly module: string;
  readonly className: string;
  readonly state: Record<string, unknown>;
}

/** Actor's own members: a field of the same name would hide them. */
const RESERVED: ReadonlySet<string> = new Set([
  "name",
  "group",
  "log",
  "signal",
  "send",
  "report",
  "startup",
  "loop",
  "recv",
  "shutdown",
]);

function reasonText(error: unknown): string {
  try {
    return error instanceof Error ? error.message : String(error);
  } catch {
    return "an error that cannot be shown";
  }
}

const FRAME = /^\s*at (new )?(\S+) \((.*):\d+:\d+\)$/;

/** The names of the classes `actor` is an instance of, its own first. */
function classNames(actor: object): Set<string> {
  const names = new Set<string>();
  try {
    for (
      let p = Object.getPrototypeOf(actor);
      p !== null;
      p = Object.getPrototypeOf(p)
    ) {
      const name = Object.getOwnPropertyDescriptor(p, "constructor")?.value
        ?.name;
      if (typeof name === "string") names.add(name);
    }
  } catch {
    // A hostile prototype: the frames with "new" still say it.
  }
  return names;
}

/** The URL of the module that defines the actor's class. */
export function classModule(actor: Actor<unknown, unknown>): string {
  const ctor = actor.constructor as { name: string };
  // Said by the class itself: `static readonly module = import.meta.url`.
  if (Object.hasOwn(ctor, "module")) {
    const declared = (ctor as { module?: unknown }).module;
    if (typeof declared === "string" && URL.canParse(declared)) {
      return declared;
    }
    throw new TypeError(
      `Cannot start relay: class ${ctor.name} has a static module field, but it holds ${
        render(declared)
      }; set it to the URL of the module that exports the class: static readonly module = import.meta.url`,
    );
  }
  const stack = metaOf(actor)?.stack ?? "";
  // The top frames are the constructors, base first; the most derived one
  // with the class's name is the class itself.
  // Once V8 optimizes the call site, the frame of a class without a
  // constructor of its own reads `at Producer (...)`, without `new`: such a
  // frame is a constructor's if it names one of the actor's classes.
  const classes = classNames(actor);
  let found: string | undefined;
  for (const line of stack.split("\n").slice(1)) {
    const match = FRAME.exec(line);
    if (match === null) break;
    const [, constructs, name, url] = match;
    if (constructs === undefined && !classes.has(name)) break;
    if (name === ctor.name) found = url;
  }
  if (found === undefined || found.startsWith("ext:")) {
    throw new TypeError(
      `Cannot start relay: cannot find the module that defines class ${ctor.name}; define it at the top level of a module and export it, or say where it is with static readonly module = import.meta.url`,
    );
  }
  return found;
}

/**
 * Describes an actor for its worker: module, class and cloneable own fields.
 * Throws a `TypeError` naming the class and the field that cannot be copied.
 */
export async function describe(
  actor: Actor<unknown, unknown>,
  host: "worker" | "inline" = "worker",
): Promise<ActorSpec> {
  const ctor = actor.constructor as new () => unknown;
  const className = ctor.name;
  // Inline, the class is at hand: it need not be exported, nor found.
  const module = host === "inline" ? "" : classModule(actor);
  const privates = privateMembers(ctor);
  if (privates.length > 0) {
    throw new TypeError(
      `Cannot start relay: class ${className} declares ${
        privates.join(", ")
      }; #private members cannot be copied into an actor's worker, use ordinary fields (for example _${
        privates[0].slice(1)
      }) instead`,
    );
  }
  // A module that is still evaluating (the main script, awaiting start())
  // cannot be imported here without a deadlock; its worker checks instead.
  if (module !== "" && module !== Deno.mainModule) {
    const exports = await importForActor(module);
    const found = findExport(exports, className, module);
    if (found !== ctor) {
      throw new TypeError(
        `Cannot start relay: ${module} exports a different class named ${className}; give the actor's class a unique name`,
      );
    }
  }
  const state: Record<string, unknown> = {};
  for (const key of Object.keys(actor)) {
    if (RESERVED.has(key)) {
      throw new TypeError(
        `Cannot start relay: ${actor.name} (class ${className}) has a field named "${key}", which is a member of Actor; rename the field (for example ${key}_)`,
      );
    }
    let value: unknown;
    try {
      value = (actor as unknown as Record<string, unknown>)[key];
    } catch (error) {
      throw new TypeError(
        `Cannot start relay: reading field "${key}" of ${actor.name} (class ${className}) throws (${
          reasonText(error)
        }); keep fields to plain data`,
        { cause: error },
      );
    }
    try {
      structuredClone(value);
    } catch (error) {
      throw new TypeError(
        `Cannot start relay: field "${key}" of ${actor.name} (class ${className}) cannot be copied into its worker (${
          reasonText(error)
        }); keep fields to cloneable data and open resources in startup()`,
        { cause: error },
      );
    }
    state[key] = value;
  }
  return { module, className, state };
}
