/**
 * One check per option rule, shared by the code API (`Relay`, `group()`) and
 * the YAML layer (`config/`): each takes the value and the place to name in
 * its message, and throws a `TypeError` or `RangeError` that names the value
 * and the fix.
 *
 * @module
 */

/** The kinds of permission a worker's `permissions` option may name. */
export const PERMISSION_KINDS: readonly string[] = [
  "env",
  "ffi",
  "import",
  "net",
  "read",
  "run",
  "sys",
  "write",
];
const KINDS = new Set(PERMISSION_KINDS);

/** Throws a `RangeError` unless `value` is a positive integer. */
export function checkMaxsize(value: unknown, where: string): number {
  if (
    typeof value !== "number" || !Number.isInteger(value) || value < 1 ||
    value > 2 ** 30
  ) {
    const shown = typeof value === "string"
      ? JSON.stringify(value)
      : String(value);
    throw new RangeError(
      `${where}: maxsize must be a positive integer, received ${shown}`,
    );
  }
  return value;
}

/**
 * Throws a `TypeError` unless `value` is a valid `permissions` option:
 * `"inherit"`, `"none"`, or an object of Deno permission names to
 * `"inherit"`, a boolean, or a list of allowed values.
 */
export function checkPermissions(
  value: unknown,
  where: string,
): Deno.PermissionOptions {
  if (value === "inherit" || value === "none") return value;
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new TypeError(
      `${where}: permissions must be "inherit", "none" or an object such as { read: ["./data"], net: false }, received ${
        typeof value === "string" ? JSON.stringify(value) : String(value)
      }`,
    );
  }
  for (const [key, v] of Object.entries(value)) {
    if (!KINDS.has(key)) {
      throw new TypeError(
        `${where}: permissions has an unknown permission "${key}"; use ${
          [...KINDS].join(", ")
        }`,
      );
    }
    const ok = v === "inherit" || typeof v === "boolean" ||
      (Array.isArray(v) &&
        v.every((x) => typeof x === "string" || x instanceof URL));
    if (!ok) {
      throw new TypeError(
        `${where}: permissions.${key} must be "inherit", true, false or a list of allowed values, received ${
          JSON.stringify(v)
        }`,
      );
    }
  }
  return value as Deno.PermissionOptions;
}
