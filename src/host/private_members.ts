/**
 * Finding the instance `#private` members a class declares. An actor is
 * rebuilt in its worker from its copied fields, and `#private` fields cannot
 * be copied, so a class that declares them is refused before anything
 * starts. Static `#private` members stay on the class, which the worker
 * imports, so they work. The class's source is read at the depth of its
 * body, skipping comments, strings, templates and regular expressions.
 *
 * @module
 */

/** The instance `#private` members a class or its ancestors declare. */
export function privateMembers(ctor: unknown): string[] {
  const found = new Set<string>();
  let current = ctor as { name: string } | null;
  while (typeof current === "function" && current.name !== "Actor") {
    let source: string;
    try {
      source = Function.prototype.toString.call(current);
    } catch {
      break;
    }
    for (const name of declaredPrivates(source)) found.add(name);
    current = Object.getPrototypeOf(current);
  }
  return [...found];
}

/** `#names` declared at the top level of a class body, not `static`. */
function declaredPrivates(source: string): string[] {
  const found = new Set<string>();
  let depth = 0;
  // The last significant character: tells a regular expression's `/` from
  // a division's.
  let last = "{";
  let i = 0;
  while (i < source.length) {
    const c = source[i];
    const next = source[i + 1];
    if (c === "/" && next === "/") {
      const end = source.indexOf("\n", i);
      i = end < 0 ? source.length : end;
      continue;
    }
    if (c === "/" && next === "*") {
      const end = source.indexOf("*/", i + 2);
      i = end < 0 ? source.length : end + 2;
      continue;
    }
    if (c === '"' || c === "'" || c === "`") {
      i = skipQuoted(source, i);
      last = "a";
      continue;
    }
    if (c === "/" && REGEX_AFTER.test(last)) {
      i = skipRegex(source, i);
      last = "a";
      continue;
    }
    if (c === "{") depth++;
    else if (c === "}") depth--;
    else if (c === "#" && depth === 1) {
      const match = PRIVATE_NAME.exec(source.slice(i));
      if (match !== null) {
        const before = source.slice(0, i).replace(MODIFIERS, "");
        if (!/\bstatic$/.test(before)) found.add(match[0]);
        i += match[0].length;
        last = "a";
        continue;
      }
    }
    if (!/\s/.test(c)) last = /[\w$]/.test(c) ? "a" : c;
    i++;
  }
  return [...found];
}

const REGEX_AFTER = /[(,=:[!&|?{};+\-*%<>~^]/;
const PRIVATE_NAME = /^#[A-Za-z_$][\w$]*/;
const MODIFIERS = /(?:\s|\b(?:async|get|set|accessor)\b|\*)+$/;

function skipQuoted(source: string, start: number): number {
  const quote = source[start];
  let i = start + 1;
  while (i < source.length) {
    const c = source[i];
    if (c === "\\") {
      i += 2;
      continue;
    }
    if (c === quote) return i + 1;
    if (quote === "`" && c === "$" && source[i + 1] === "{") {
      // A template's expression: skip to its closing brace.
      let depth = 1;
      i += 2;
      while (i < source.length && depth > 0) {
        const d = source[i];
        if (d === '"' || d === "'" || d === "`") {
          i = skipQuoted(source, i);
          continue;
        }
        if (d === "{") depth++;
        else if (d === "}") depth--;
        i++;
      }
      continue;
    }
    i++;
  }
  return i;
}

function skipRegex(source: string, start: number): number {
  let i = start + 1;
  let inClass = false;
  while (i < source.length) {
    const c = source[i];
    if (c === "\\") {
      i += 2;
      continue;
    }
    if (c === "\n") return i;
    if (inClass) {
      if (c === "]") inClass = false;
    } else if (c === "[") {
      inClass = true;
    } else if (c === "/") {
      i++;
      while (i < source.length && /[a-z]/i.test(source[i])) i++;
      return i;
    }
    i++;
  }
  return i;
}
