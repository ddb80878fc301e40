import assert from "node:assert/strict";
import { lineOf, lineSplitter, printLines } from "../../src/config/lines.ts";

async function split(chunks: string[]): Promise<string[]> {
  return await Array.fromAsync(
    ReadableStream.from(chunks).pipeThrough(lineSplitter()),
  );
}

Deno.test("lineSplitter() yields each line without its newline, across chunks", async () => {
  assert.deepEqual(await split(["a\nb", "c\r", "\nd\n"]), ["a", "bc", "d"]);
  assert.deepEqual(await split(["one", " line", " only"]), ["one line only"]);
  assert.deepEqual(await split(["\n\n", "x"]), ["", "", "x"]);
  assert.deepEqual(await split([]), []);
});

Deno.test("lineOf() prints strings as they are and other values as JSON", () => {
  assert.equal(lineOf("text"), "text");
  assert.equal(lineOf({ a: [1, null] }), '{"a":[1,null]}');
  assert.equal(lineOf(undefined), "undefined");
  assert.equal(lineOf(10n), "10n");
});

Deno.test("printLines() stops at a broken pipe and leaves the messages early", async () => {
  const written: string[] = [];
  let left = false;
  const messages = {
    n: 0,
    [Symbol.asyncIterator]() {
      return this;
    },
    next() {
      return Promise.resolve({ value: `m${this.n++}`, done: false });
    },
    return() {
      left = true;
      return Promise.resolve({ value: undefined, done: true as const });
    },
  };
  const out = {
    write(bytes: Uint8Array): Promise<number> {
      if (written.length === 2) {
        return Promise.reject(new Deno.errors.BrokenPipe("Broken pipe"));
      }
      written.push(new TextDecoder().decode(bytes));
      return Promise.resolve(bytes.length);
    },
  };
  assert.equal(await printLines(messages, out), false);
  assert.deepEqual(written, ["m0\n", "m1\n"]);
  assert.ok(left, "the messages were left early");
  // Any other error is the caller's.
  const failing = { write: () => Promise.reject(new Error("disk full")) };
  await assert.rejects(printLines(["x"], failing), /disk full/);
  // A short write is finished.
  const parts: number[] = [];
  const short = {
    write: (bytes: Uint8Array) => {
      parts.push(Math.min(bytes.length, 2));
      return Promise.resolve(Math.min(bytes.length, 2));
    },
  };
  assert.equal(await printLines(["abcde"], short), true);
  assert.deepEqual(parts, [2, 2, 2]);
});
