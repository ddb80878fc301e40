/**
 * Errors as data and back (`src/common/error_data.ts`): every case goes
 * through structured clone between `toErrorData` and `fromErrorData`, as it
 * does between an actor's worker and the main thread.
 *
 * @module
 */

import assert from "node:assert/strict";
import { fromErrorData, toErrorData } from "../../src/common/error_data.ts";

/** What the main thread rebuilds from an error thrown in a worker. */
function roundTrip(value: unknown): Error {
  return fromErrorData(structuredClone(toErrorData(value)));
}

Deno.test("A TypeError keeps its class, message and stack", () => {
  const original = new TypeError("bad type");
  assert.deepEqual(toErrorData(original), {
    name: "TypeError",
    message: "bad type",
    stack: original.stack,
  });
  const back = roundTrip(original);
  assert.ok(back instanceof TypeError);
  assert.equal(back.name, "TypeError");
  assert.equal(back.message, "bad type");
  assert.equal(back.stack, original.stack);
  assert.equal(back.cause, undefined);
  assert.equal(Object.hasOwn(back, "cause"), false);
});

Deno.test("A RangeError comes back as a RangeError", () => {
  const back = roundTrip(new RangeError("out of range"));
  assert.ok(back instanceof RangeError);
  assert.equal(back.name, "RangeError");
  assert.equal(back.message, "out of range");
});

Deno.test("A DOMException keeps its name, and so its code", () => {
  const original = new DOMException("cannot clone", "DataCloneError");
  assert.deepEqual(toErrorData(original), {
    name: "DataCloneError",
    className: "DOMException",
    message: "cannot clone",
    stack: original.stack,
  });
  const back = roundTrip(original);
  assert.ok(back instanceof DOMException);
  assert.equal(back.name, "DataCloneError");
  assert.equal((back as DOMException).code, DOMException.DATA_CLONE_ERR);
  assert.equal(back.message, "cannot clone");
  assert.equal(back.stack, original.stack);
});

Deno.test("A DOMException with a cause keeps the cause", () => {
  const original = new DOMException("stopped", "AbortError");
  Object.defineProperty(original, "cause", { value: "why" });
  const back = roundTrip(original);
  assert.ok(back instanceof DOMException);
  assert.equal(back.name, "AbortError");
  assert.equal(back.cause, "why");
});

Deno.test("Deno.errors.NotFound comes back as itself", () => {
  const original = new Deno.errors.NotFound("no such file");
  const data = toErrorData(original);
  assert.equal(data.name, "NotFound");
  assert.equal(data.className, undefined, "class and name agree");
  const back = roundTrip(original);
  assert.ok(back instanceof Deno.errors.NotFound);
  assert.equal(back.name, "NotFound");
  assert.equal(back.message, "no such file");
  assert.equal(back.stack, original.stack);
});

Deno.test("An AggregateError keeps its errors, non-errors rendered", () => {
  const original = new AggregateError(
    [new RangeError("r"), "text", 3],
    "several",
  );
  const data = toErrorData(original);
  assert.deepEqual(data.errors?.map((e) => [e.name, e.message, e.stack]), [
    ["RangeError", "r", (original.errors[0] as Error).stack],
    ["Error", '"text"', undefined],
    ["Error", "3", undefined],
  ]);
  const back = roundTrip(original) as AggregateError;
  assert.ok(back instanceof AggregateError);
  assert.equal(back.message, "several");
  assert.equal(back.errors.length, 3);
  assert.ok(back.errors[0] instanceof RangeError);
  assert.equal(back.errors[0].message, "r");
  assert.equal(back.errors[1].message, '"text"');
});

Deno.test("An AggregateError carries at most 16 of its errors", () => {
  const errors = Array.from({ length: 20 }, (_, i) => new Error(`e${i}`));
  const back = roundTrip(new AggregateError(errors, "many")) as AggregateError;
  assert.deepEqual(
    back.errors.map((e: Error) => e.message),
    errors.slice(0, 16).map((e) => e.message),
  );
});

Deno.test("A custom class comes back as an Error with its name and its cloneable own properties", () => {
  // Its name and class agree, so no class name travels beside the name.
  class QuotaError extends Error {
    override name = "QuotaError";
    code = "E_QUOTA";
    limit = { bytes: 1024 };
    retry = () => 1;
  }
  const original = new QuotaError("over quota");
  assert.deepEqual(toErrorData(original), {
    name: "QuotaError",
    message: "over quota",
    stack: original.stack,
    props: { name: "QuotaError", code: "E_QUOTA", limit: { bytes: 1024 } },
  });
  const back = roundTrip(original) as Error & Record<string, unknown>;
  assert.equal(back.constructor, Error, "the class does not cross threads");
  assert.equal(back.name, "QuotaError");
  assert.equal(back.message, "over quota");
  assert.equal(back.stack, original.stack);
  assert.equal(back.code, "E_QUOTA");
  assert.deepEqual(back.limit, { bytes: 1024 });
  assert.equal("retry" in back, false, "a function stays behind");
});

Deno.test("A subclass that keeps the name Error travels its class name beside it", () => {
  class Plain extends Error {}
  const data = toErrorData(new Plain("p"));
  assert.equal(data.name, "Error");
  assert.equal(data.className, "Plain");
  const back = roundTrip(new Plain("p"));
  assert.equal(back.constructor, Error);
  assert.equal(back.name, "Error");
});

Deno.test("A subclass of TypeError named after itself comes back as an Error with that name", () => {
  class StrictTypeError extends TypeError {
    override name = "StrictTypeError";
  }
  const back = roundTrip(new StrictTypeError("strict"));
  assert.equal(back.constructor, Error);
  assert.equal(back.name, "StrictTypeError");
  assert.equal(back.message, "strict");
});

Deno.test("A cause chain comes back link by link; a cause that is no Error comes back as its value", () => {
  const original = new Error("top", {
    cause: new TypeError("middle", { cause: { code: 7 } }),
  });
  assert.deepEqual(toErrorData(original).cause, {
    name: "TypeError",
    message: "middle",
    stack: (original.cause as Error).stack,
    cause: { value: { code: 7 } },
  });
  const back = roundTrip(original);
  const middle = back.cause as Error;
  assert.ok(middle instanceof TypeError);
  assert.equal(middle.message, "middle");
  assert.deepEqual(middle.cause, { code: 7 });
});

Deno.test("A cause that does not clone comes back as its rendering", () => {
  const back = roundTrip(new Error("top", { cause: function why() {} }));
  assert.equal(back.cause, "[Function: why]");
});

Deno.test("A cause chain is cut after four causes", () => {
  let error = new Error("e0");
  for (let i = 1; i < 8; i++) error = new Error(`e${i}`, { cause: error });
  const messages: string[] = [];
  for (
    let e: unknown = roundTrip(error);
    e instanceof Error;
    e = e.cause
  ) {
    messages.push(e.message);
  }
  assert.deepEqual(messages, ["e7", "e6", "e5", "e4", "e3"]);
});

Deno.test("A thrown value that is no Error becomes an Error with its rendering", () => {
  assert.deepEqual(toErrorData("a string"), {
    name: "Error",
    message: '"a string"',
    stack: undefined,
  });
  assert.equal(toErrorData(42).message, "42");
  assert.equal(toErrorData(undefined).message, "undefined");
  assert.equal(toErrorData(null).message, "null");
  assert.equal(toErrorData({ reason: "x" }).message, '{ reason: "x" }');
  assert.equal(toErrorData("x".repeat(600)).message.length, 500);
  const back = roundTrip({ reason: "x" });
  assert.equal(back.constructor, Error);
  assert.equal(back.message, '{ reason: "x" }');
  assert.equal(back.stack?.split("\n")[0], 'Error: { reason: "x" }');
});

Deno.test("An own property whose getter throws stays behind", () => {
  const original = new Error("getter");
  Object.defineProperty(original, "boom", {
    enumerable: true,
    get() {
      throw new Error("read");
    },
  });
  Object.assign(original, { kept: 1 });
  assert.deepEqual(toErrorData(original), {
    name: "Error",
    message: "getter",
    stack: original.stack,
    props: { kept: 1 },
  });
});

Deno.test("An error whose message getter throws makes toErrorData throw, for its caller to replace", () => {
  // The worker's bootstrap catches this and reports a placeholder error.
  const original = new Error("unread");
  Object.defineProperty(original, "message", {
    get() {
      throw new Error("read");
    },
  });
  assert.throws(() => toErrorData(original), { message: "read" });
});
