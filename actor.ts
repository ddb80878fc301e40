/**
 * The actor alone (`@baton/relay/actor`): {@linkcode Actor} and the types it
 * names, for a module that only defines actors. An actor's worker imports
 * the module of its class; one that imports `@baton/relay` loads the relay's
 * main-thread code too (Deno loads a module's whole static graph, and walks
 * the literal `import()`s in it), one that imports this entry only the actor.
 * The class is the same one: actors of either import run in any relay.
 *
 * @example An actor module
 * ```ts
 * import { Actor } from "@baton/relay/actor";
 *
 * export class Double extends Actor<number, number> {
 *   override recv(x: number): Promise<void> {
 *     return this.send(2 * x);
 *   }
 * }
 * ```
 *
 * @module
 */

export {
  Actor,
  type Cloneable,
  type Kept,
  type SendOptions,
} from "./src/actor.ts";
// The logging API's types (`Actor.log`, `plainFormatter`): LogTape's shapes.
export type * from "./src/log.ts";
