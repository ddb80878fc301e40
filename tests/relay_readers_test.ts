import assert from "node:assert/strict";
import { input, Relay } from "../mod.ts";
import { Count, Double, Upper } from "./fixtures/stages.ts";
import { leakChecked } from "./_harness.ts";

/** Rejects after `ms` with `what`: a guard against hangs, not a synchroniser. */
function guard<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const watchdog = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${what} did not settle within ${ms} ms`)),
      ms,
    );
  });
  return Promise.race([promise, watchdog]).finally(() => clearTimeout(timer));
}

const fed = () => new Relay().connect(input<string>(), new Upper());

Deno.test("Relay.stream() a second time throws a TypeError at once, and the first stream still runs", () =>
  leakChecked(async () => {
    const relay = fed();
    const first = relay.stream<string, string>();
    assert.throws(() => relay.stream(), {
      name: "TypeError",
      message:
        "Cannot make a stream: stream() was already called on this relay, which runs once; write to and read from the pair that call returned, or create a new Relay for another stream",
    });
    const out: string[] = [];
    await guard(
      ReadableStream.from(["a", "b"]).pipeThrough(first).pipeTo(
        new WritableStream({ write: (line) => void out.push(line) }),
      ),
      20_000,
      "the first stream",
    );
    assert.deepEqual(out, ["A", "B"]);
  }));

Deno.test("Relay.stream() after results(), start() or close() throws a TypeError at once", async () => {
  const read = fed();
  read.results();
  assert.throws(() => read.stream(), {
    name: "TypeError",
    message:
      "Cannot make a stream: results() was already called on this relay, and its output is read once; call stream() instead of results(), and read its readable",
  });
  const closed = fed();
  await closed.close();
  assert.throws(() => closed.stream(), {
    name: "TypeError",
    message:
      "Cannot make a stream: the relay was already closed; call stream() instead of start(), on a new Relay",
  });
  await leakChecked(async () => {
    const started = fed();
    const run = started.start({ input: [] });
    assert.throws(() => started.stream(), {
      name: "TypeError",
      message:
        "Cannot make a stream: the relay was already started; call stream() instead of start(), on a new Relay",
    });
    await guard(run, 20_000, "the run");
  });
});

Deno.test("Relay.results() a second time, or after stream(), throws a TypeError at once", () => {
  const twice = new Relay().connect(new Count(), new Double());
  twice.results();
  assert.throws(() => twice.results(), {
    name: "TypeError",
    message:
      "Cannot read results: results() was already called on this relay, and its output is read once; iterate the iterator that call returned (one loop reads everything)",
  });
  const streamed = fed();
  const { writable, readable } = streamed.stream();
  assert.throws(() => streamed.results(), {
    name: "TypeError",
    message:
      "Cannot read results: this relay's output goes to the readable of the pair stream() returned; read that instead",
  });
  // Nothing written: the stream ends at once and the relay with it.
  return leakChecked(() =>
    guard(
      Promise.all([writable.close(), readable.pipeTo(new WritableStream())]),
      20_000,
      "the empty stream",
    ).then(() => {})
  );
});
