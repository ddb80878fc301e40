/**
 * Everything a relay needs to run, loaded with its first `start()`: the run,
 * its hosts, and what the main thread does while it works. `relay.ts`
 * imports this module dynamically, so that an actor's worker, which imports
 * `mod.ts` for `Actor`, does not evaluate the main thread's machinery.
 *
 * @module
 */

export { attend } from "./attend.ts";
export { InlineHost } from "./inline_member.ts";
export { Run } from "./run.ts";
export { workerHost, WorkerMember } from "./worker_member.ts";
