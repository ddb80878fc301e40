/**
 * Checks and renderings of arbitrary values, used on both sides of a worker
 * boundary: every function here takes a value it did not make and must not
 * throw on it, whatever its getters, prototype or `toString()` do.
 *
 * @module
 */

/** Whether `value` is an object literal (or has a null prototype). */
export function isPlainObject(
  value: unknown,
): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null) return false;
  try {
    const proto = Object.getPrototypeOf(value);
    return proto === Object.prototype || proto === null;
  } catch {
    return false; // a Proxy whose getPrototypeOf throws is no plain object
  }
}

/** A short, single-line rendering of any value, for error messages. */
export function render(value: unknown, max = 80): string {
  let text: string;
  try {
    text = typeof value === "string" ? JSON.stringify(value) : Deno.inspect(
      value,
      { depth: 2, colors: false, compact: true, breakLength: Infinity },
    );
  } catch {
    try {
      text = String(value);
    } catch {
      text = "[a value that cannot be shown]";
    }
  }
  text = text.replace(/\s+/g, " ");
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/**
 * The key path of the first value inside `value` that structured clone
 * refuses (`message.items[2].fn`), or `undefined` if it clones. Only called
 * after a clone failed: never on the hot path.
 */
export function uncloneablePath(
  value: unknown,
  path = "message",
  seen: Set<unknown> = new Set(),
): string | undefined {
  try {
    structuredClone(value);
    return undefined;
  } catch {
    // fall through: find the part that fails
  }
  if (value === null || typeof value !== "object") return path;
  // A value met again (a cycle, a shared part) is examined where first met.
  if (seen.has(value)) return undefined;
  seen.add(value);
  const entries: [string, unknown][] = value instanceof Map
    ? [...value.entries()].map(([k, v]) => [`.get(${render(k, 30)})`, v])
    : Array.isArray(value)
    ? value.map((v, i) => [`[${i}]`, v])
    : Object.entries(value).map(([k, v]) => [
      /^[A-Za-z_$][\w$]*$/.test(k) ? `.${k}` : `[${JSON.stringify(k)}]`,
      v,
    ]);
  for (const [key, child] of entries) {
    const found = uncloneablePath(child, path + key, seen);
    if (found !== undefined) return found;
  }
  return path;
}

/**
 * `value` itself if structured clone accepts it, else its rendering as text:
 * for what goes to the main thread as information (a log argument, an abort
 * reason), where text is better than nothing.
 */
export function cloneableOrText(value: unknown, max = 2000): unknown {
  try {
    structuredClone(value);
    return value;
  } catch {
    return render(value, max);
  }
}
