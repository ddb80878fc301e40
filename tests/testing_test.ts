import assert from "node:assert/strict";
import { Actor, RelayError } from "../mod.ts";
import { testActor } from "../src/testing.ts";
import { threads } from "./_harness.ts";
import { Flaky, type Numbered, Numbers } from "./fixtures/supervision.ts";

class Square extends Actor<number, number> {
  calls = 0;
  override async recv(x: number): Promise<void> {
    this.calls++;
    this.log.info("squaring {x}", { x });
    await this.send(x * x);
  }
  override shutdown(): void {
    this.report({ calls: this.calls });
  }
}

class Count extends Actor<never, number> {
  upTo = 3;
  override async loop(): Promise<void> {
    for (let i = 1; i <= this.upTo; i++) await this.send(i);
    this.log.info`counted to ${this.upTo}`;
  }
}

class Picky extends Actor<number> {
  override recv(x: number): void {
    if (x === 2) throw new RangeError(`no ${x}`);
  }
}

Deno.test("testActor() runs a receiver's hooks on the input and returns what it sent, reported and logged", async () => {
  const before = await threads();
  const square = new Square();
  const trace = await testActor(square, { input: [1, 2, 3] });
  assert.deepEqual(trace.sent, [1, 4, 9]);
  assert.deepEqual(trace.reports, [{ calls: 3 }]);
  const messages = trace.logs.map((r) => r.message);
  assert.deepEqual(
    messages.filter((m) => m.startsWith("squaring")),
    ["squaring 1", "squaring 2", "squaring 3"],
  );
  assert.ok(messages.includes("received 1/1 poison pills"), messages.join());
  assert.equal(trace.logs[0].properties.actor, square.name);
  assert.equal(square.calls, 0, "the instance passed in is not changed");
  assert.equal(await threads(), before, "no worker was started");
});

Deno.test("testActor() runs a source's loop() and takes no input", async () => {
  const trace = await testActor(Object.assign(new Count(), { upTo: 4 }));
  assert.deepEqual(trace.sent, [1, 2, 3, 4]);
  assert.ok(trace.logs.some((r) => r.message === "counted to 4"));
  await assert.rejects(
    testActor(new Count(), { input: [1] as never[] }),
    /is a source \(it has loop\(\)\), which takes no input/,
  );
});

Deno.test("testActor() rejects with the RelayError of the phase that failed, the message in hand named", async () => {
  const picky = new Picky();
  await assert.rejects(testActor(picky, { input: [1, 2, 3] }), (e) => {
    assert.ok(e instanceof RelayError);
    assert.equal(e.phase, "recv");
    assert.equal(e.actor, picky.name);
    assert.equal(e.summary, "2");
    assert.equal((e.cause as Error).name, "RangeError");
    return true;
  });
  await assert.rejects(
    testActor(picky),
    /already belongs to a relay or a test/,
  );
});

Deno.test("testActor() runs the actor under a failure policy: retried messages sent, skipped ones in deadLetters", async () => {
  const trace = await testActor(
    Object.assign(new Flaky(), { failures: { 1: 1, 2: 5 } }),
    {
      input: [0, 1, 2, 3].map((seq) => ({ from: "test", seq })),
      policy: { retries: 1, onError: "skip" },
    },
  );
  assert.deepEqual(trace.sent.map((m) => m.seq), [0, 1, 3]);
  assert.deepEqual(
    trace.deadLetters.map((d) => [(d.message as Numbered).seq, d.attempts]),
    [[2, 2]],
  );
  assert.ok(trace.deadLetters[0].error instanceof RangeError);
  assert.deepEqual(
    trace.logs.filter((r) => r.level === "warning").map((r) => r.message),
    [
      'recv() attempt 1 of 2 failed on message { from: "test", seq: 1 }: RangeError: attempt 1 at 1 failed; trying again',
      'recv() attempt 1 of 2 failed on message { from: "test", seq: 2 }: RangeError: attempt 1 at 2 failed; trying again',
      'recv() attempt 2 of 2 failed on message { from: "test", seq: 2 }: RangeError: attempt 2 at 2 failed; sending it to the dead letters',
    ],
  );
  await assert.rejects(
    testActor(new Numbers(), { policy: { retries: 1 } }),
    {
      name: "TypeError",
      message:
        /^Cannot test actor: Numbers-\d+ is a source, which runs loop\(\) and receives no message, so retries/,
    },
  );
});
