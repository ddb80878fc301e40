/**
 * The text of a run's failures: what a {@linkcode RelayError} says about an
 * actor that failed, or about the main thread's input. Messages name the
 * actor, its class and group, the phase, where it happened (the message in
 * hand, the key path, the module) and what to do, when that is known.
 *
 * @module
 */

import type { Phase } from "../common/protocol.ts";
import { render } from "../common/values.ts";
import { RelayError } from "../errors.ts";

/** The longest error message copied into a `RelayError`'s own message. */
const MAX_REASON = 2000;

/** Who failed. */
export interface Culprit {
  readonly name: string;
  readonly className: string;
  readonly group: string;
  /** The group runs with its own permissions. */
  readonly sandboxed: boolean;
}

/** Where and how an actor failed, as its runtime reported it. */
export interface FailureDetail {
  /** A short rendering of the message in hand (recv). */
  readonly summary?: string;
  /** The key path of the value that could not be cloned (send). */
  readonly path?: string;
  /** What to do about it, if the runtime knows. */
  readonly hint?: string;
  /** The actor's module (load). */
  readonly module?: string;
  /** How many times `recv()` was called with the message in hand. */
  readonly attempts?: number;
}

/** `Name: message` of any thrown value, cut to a readable length. */
export function reasonOf(cause: unknown): string {
  let text: string;
  try {
    text = cause instanceof Error
      ? `${cause.name}: ${cause.message}`
      : render(cause, MAX_REASON);
  } catch {
    text = render(cause, MAX_REASON);
  }
  return text.length > MAX_REASON
    ? `${text.slice(0, MAX_REASON - 1)}… (cut; the whole error is the cause)`
    : text;
}

/** The error of an actor that failed in `phase` (or whose worker exited). */
export function actorFailure(
  who: Culprit,
  phase: Phase | "exit",
  cause: unknown,
  detail: FailureDetail = {},
): RelayError {
  const actor = `${who.name} (${who.className}) in ${who.group}`;
  let text: string;
  if (phase === "exit") {
    text = `${actor} ${(cause as Error).message}`;
  } else {
    const at = detail.path !== undefined
      ? ` at ${detail.path}`
      : detail.summary !== undefined
      ? ` on message ${detail.summary}`
      : detail.module !== undefined
      ? ` of ${detail.module}`
      : "";
    const tries = detail.attempts !== undefined && detail.attempts > 1
      ? ` after ${detail.attempts} attempts`
      : "";
    text = `${actor} failed in ${phase}()${at}${tries}: ${reasonOf(cause)}`;
    if (detail.hint !== undefined) {
      text += `; ${detail.hint}`;
    } else if (who.sandboxed && isNotCapable(cause)) {
      text +=
        `; group ${who.group} runs with its own permissions: grant it there, in group(actors, { permissions })`;
    }
  }
  return new RelayError(text, {
    actor: who.name,
    actorClass: who.className,
    group: who.group,
    phase,
    summary: detail.summary,
    path: detail.path,
    attempts: detail.attempts,
    cause,
  });
}

/** The error of the main thread's input (an iterable that threw). */
export function inputFailure(cause: unknown): RelayError {
  return new RelayError(
    `the main thread's input failed: ${reasonOf(cause)}`,
    {
      actor: "input",
      actorClass: "main thread",
      group: "input",
      phase: "input",
      cause,
    },
  );
}

function isNotCapable(cause: unknown): boolean {
  try {
    return cause instanceof Error && cause.name === "NotCapable";
  } catch {
    return false;
  }
}
