/**
 * The few values of the protocol that exist at run time; `protocol.ts`
 * holds only types, so an actor's worker never evaluates it.
 *
 * @module
 */

import type { Policy } from "./protocol.ts";

/**
 * Dead letters an actor may post before the main thread acknowledged them:
 * past this many, an actor that skips a message waits for its reader.
 */
export const DEAD_LETTER_WINDOW = 16;

/** Whether a policy is the default one: one attempt, fail, one call at once. */
export function isDefaultPolicy(policy: Policy): boolean {
  return policy.retries === 0 && policy.onError === "fail" &&
    policy.recvTimeoutMs === undefined && policy.concurrency === 1;
}
