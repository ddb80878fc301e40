/**
 * A Redis URL as messages show it, apart from the Redis client so that
 * code that loads no Redis (a pipeline file's checks) can show one too.
 *
 * @module
 */

/** A Redis URL without its password, for messages. */
export function safeUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== "") u.password = "***";
    return u.href;
  } catch {
    return "(an invalid Redis URL)";
  }
}
