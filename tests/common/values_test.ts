/**
 * The checks and renderings of `src/common/values.ts`, on values that fight
 * back: proxies, throwing `toString()` and inspectors, cycles, Map entries.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  cloneableOrText,
  isPlainObject,
  render,
  uncloneablePath,
} from "../../src/common/values.ts";

/** A proxy whose `getPrototypeOf` trap throws. */
function prototypeless(): object {
  return new Proxy({}, {
    getPrototypeOf() {
      throw new Error("no prototype");
    },
  });
}

Deno.test("render() shows strings as JSON and other values as Deno.inspect does, on one line", () => {
  assert.equal(render("hi"), '"hi"');
  assert.equal(render("a\nb"), '"a\\nb"');
  assert.equal(render(42), "42");
  assert.equal(render(undefined), "undefined");
  assert.equal(render(null), "null");
  assert.equal(render(Symbol("s")), "Symbol(s)");
  assert.equal(render(function named() {}), "[Function: named]");
  assert.equal(render({ a: 1, b: [1, 2] }), "{ a: 1, b: [ 1, 2 ] }");
  assert.equal(render(new Map([[1, 2]])), "Map(1) { 1 => 2 }");
  assert.equal(
    render({ deep: { deeper: { deepest: { d: 1 } } } }),
    "{ deep: { deeper: { deepest: [Object] } } }",
    "depth 2",
  );
});

Deno.test("render() cuts long values to max characters, the last an ellipsis", () => {
  const long = render("x".repeat(100));
  assert.equal(long.length, 80);
  assert.equal(long, `"${"x".repeat(78)}…`);
  assert.equal(render(12345, 3), "12…");
  assert.equal(render(12345, 5), "12345");
  const wide = render({ list: Array.from({ length: 50 }, (_, i) => i) }, 20);
  assert.equal(wide, "{ list: [ 0, 1, 2, …");
});

Deno.test("render() never throws, whatever the value does", () => {
  assert.equal(render(prototypeless()), "{}");
  const inspectThrows = {
    [Symbol.for("Deno.customInspect")]() {
      throw new Error("no inspect");
    },
    toString() {
      return "shown by toString";
    },
  };
  assert.equal(render(inspectThrows), "shown by toString");
  const bothThrow = {
    [Symbol.for("Deno.customInspect")]() {
      throw new Error("no inspect");
    },
    toString() {
      throw new Error("no toString");
    },
  };
  assert.equal(render(bothThrow), "[a value that cannot be shown]");
  // Deno.inspect does not call toString(): one that throws is harmless.
  const toStringThrows = {
    toString() {
      throw new Error("no toString");
    },
  };
  assert.equal(render(toStringThrows), "{ toString: [Function: toString] }");
});

Deno.test("uncloneablePath() is undefined for what clones", () => {
  assert.equal(uncloneablePath(1), undefined);
  assert.equal(uncloneablePath({ a: [1, { b: "c" }] }), undefined);
  assert.equal(uncloneablePath(new Map([["k", new Set([1])]])), undefined);
  // A class instance with private state clones, as a plain object.
  class Private {
    #p = 1;
    get p(): number {
      return this.#p;
    }
  }
  assert.equal(uncloneablePath({ k: new Private() }), undefined);
});

Deno.test("uncloneablePath() names the key path of the first part that does not clone", () => {
  assert.equal(uncloneablePath(() => 1), "message");
  assert.equal(uncloneablePath(Symbol("x")), "message");
  assert.equal(uncloneablePath({ fn: () => 1 }), "message.fn");
  assert.equal(uncloneablePath({ s: Symbol("x") }), "message.s");
  assert.equal(
    uncloneablePath({ a: 1, deep: { list: [0, 1, { fn() {} }] } }),
    "message.deep.list[2].fn",
  );
  assert.equal(
    uncloneablePath({ "not an id": () => 1 }),
    'message["not an id"]',
  );
  assert.equal(uncloneablePath({ w: new WeakMap() }), "message.w");
  assert.equal(uncloneablePath([1, [2, [3, () => 0]]], "x"), "x[1][1][1]");
});

Deno.test("uncloneablePath() names Map entries by their key", () => {
  assert.equal(
    uncloneablePath(new Map<string, unknown>([["ok", 1], ["k", { f() {} }]])),
    'message.get("k").f',
  );
  assert.equal(
    uncloneablePath(new Map<unknown, unknown>([[{ o: 1 }, () => 1]])),
    "message.get({ o: 1 })",
  );
});

Deno.test("uncloneablePath() passes over a cycle to the part that does not clone", () => {
  const cyclic: Record<string, unknown> = { a: 1 };
  cyclic.self = cyclic;
  cyclic.fn = () => 1;
  assert.equal(uncloneablePath(cyclic), "message.fn");
  const list: unknown[] = [];
  list.push(list, { later: Symbol("s") });
  assert.equal(uncloneablePath(list), "message[1].later");
});

Deno.test("isPlainObject() holds for object literals and null-prototype objects only", () => {
  assert.equal(isPlainObject({}), true);
  assert.equal(isPlainObject({ a: 1 }), true);
  assert.equal(isPlainObject(Object.create(null)), true);
  assert.equal(isPlainObject([]), false);
  assert.equal(isPlainObject(new Date()), false);
  assert.equal(isPlainObject(new (class A {})()), false);
  assert.equal(isPlainObject(new Map()), false);
  assert.equal(isPlainObject(null), false);
  assert.equal(isPlainObject(undefined), false);
  assert.equal(isPlainObject("s"), false);
  assert.equal(isPlainObject(() => {}), false);
  assert.equal(isPlainObject(prototypeless()), false, "and does not throw");
});

Deno.test("cloneableOrText() returns what clones as itself, the rest rendered", () => {
  const value = { a: [1, 2] };
  assert.equal(cloneableOrText(value), value, "the same object, not a copy");
  assert.equal(cloneableOrText("text"), "text");
  assert.equal(cloneableOrText(undefined), undefined);
  assert.equal(cloneableOrText(() => 1), "[Function (anonymous)]");
  assert.equal(cloneableOrText({ f() {} }), "{ f: [Function: f] }");
  assert.equal(cloneableOrText(Symbol("q")), "Symbol(q)");
  assert.equal(cloneableOrText(function long() {}, 10), "[Function…");
  assert.equal(cloneableOrText(prototypeless()), "{}");
});
