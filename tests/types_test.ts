/**
 * Compile-time checks of `Relay.connect()`: `deno test` type-checks this
 * file, and every `@ts-expect-error` below fails the check if the error it
 * expects ever goes away.
 *
 * @module
 */

import assert from "node:assert/strict";
import { Actor, group, Relay } from "../mod.ts";

class Numbers extends Actor<never, number> {
  override async loop(): Promise<void> {
    await this.send(1);
    // @ts-expect-error: a source of numbers cannot send a string
    await this.send("one");
  }
}

class Double extends Actor<number, number> {
  override async recv(x: number): Promise<void> {
    await this.send(x * 2);
  }
}

class Show extends Actor<number, string> {
  override async recv(x: number): Promise<void> {
    await this.send(`${x}`);
  }
}

class Print extends Actor<string> {
  override recv(_text: string): void {}
}

class Sum extends Actor<number> {
  override recv(_x: number): void {}
}

Deno.test("Relay.connect() accepts chains whose stages fit, in every form", () => {
  const chains = [
    new Relay().connect(new Numbers(), new Sum()),
    new Relay().connect(new Numbers(), [new Double(), new Double()], new Sum()),
    new Relay().connect(
      [new Numbers(), new Numbers()],
      group([new Double()]),
      new Show(),
      new Print(),
    ),
  ];
  assert.deepEqual(chains.map((r) => r.groups.length), [2, 3, 4]);
});

Deno.test("Relay.connect() rejects at compile time a stage that cannot take the previous stage's output", () => {
  const relay = () => new Relay();
  // Each call throws nothing at run time only because it is never made.
  const calls = [
    // @ts-expect-error: Print takes strings, Numbers sends numbers
    () => relay().connect(new Numbers(), new Print()),
    // @ts-expect-error: the third stage takes numbers, Show sends strings
    () => relay().connect(new Numbers(), new Show(), [new Sum()]),
    // @ts-expect-error: in a group() too
    () => relay().connect(new Numbers(), group([new Print()])),
  ];
  assert.equal(calls.length, 3);
});

class Vector {
  constructor(public x: number, public y: number) {}
  length(): number {
    return Math.hypot(this.x, this.y);
  }
}

class Vectors extends Actor<never, Vector> {
  override async loop(): Promise<void> {
    // @ts-expect-error: a class with methods arrives without them
    await this.send(new Vector(3, 4));
  }
}

class Dated
  extends Actor<never, { at: Date; tags: Set<string>; raw: Uint8Array }> {
  override async loop(): Promise<void> {
    // What structured clone keeps as it is type-checks.
    await this.send({
      at: new Date(),
      tags: new Set(["a"]),
      raw: new Uint8Array(2),
    });
  }
}

Deno.test("results() takes its type from the last group of a chained connect()", () => {
  const relay = new Relay().connect(new Numbers(), new Show());
  const results = relay.results();
  const check: AsyncIterableIterator<string> = results;
  // @ts-expect-error: the results are strings, not numbers
  const wrong: AsyncIterableIterator<number> = results;
  assert.ok(check === wrong);
  assert.ok(new Vectors() && new Dated());
});
