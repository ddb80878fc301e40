/**
 * What the main thread finds out about an actor before it spawns its worker
 * (`src/host/describe.ts`): the module of its class, read off synthetic
 * construction stacks, and the `#private` members that cannot be copied.
 * No worker runs here.
 *
 * @module
 */

import assert from "node:assert/strict";
import { Actor } from "../../mod.ts";
import { type ActorMeta, META } from "../../src/actor.ts";
import { classModule, describe } from "../../src/host/describe.ts";

export class Producer extends Actor<never, number> {
  override loop(): void {}
}

/** A `Producer` whose construction stack is `frames`, below `Error`. */
function withStack(frames: string[]): Producer {
  const actor = Object.create(Producer.prototype) as Producer;
  const meta: ActorMeta = {
    name: "Producer-1",
    stack: ["Error", ...frames].join("\n"),
    owner: undefined,
  };
  Object.defineProperty(actor, META, { value: meta });
  return actor;
}

const ACTOR_FRAME = "    at new Actor (file:///lib/src/actor.ts:78:19)";
const NOT_FOUND =
  "Cannot start relay: cannot find the module that defines class Producer; define it at the top level of a module and export it, or say where it is with static readonly module = import.meta.url";

Deno.test("classModule() takes the module from the class's constructor frame", () => {
  const actor = withStack([
    ACTOR_FRAME,
    "    at new Producer (file:///app/actors.ts:3:5)",
    "    at file:///app/main.ts:10:1",
  ]);
  assert.equal(classModule(actor), "file:///app/actors.ts");
});

Deno.test("classModule() passes over the constructors of base classes", () => {
  const actor = withStack([
    ACTOR_FRAME,
    "    at new Base (file:///app/base.ts:2:3)",
    "    at new Middle (file:///app/middle.ts:4:3)",
    "    at new Producer (file:///app/producer.ts:6:3)",
    "    at main (file:///app/main.ts:1:1)",
  ]);
  assert.equal(classModule(actor), "file:///app/producer.ts");
});

Deno.test("classModule() takes the most derived of two classes of the same name", () => {
  const actor = withStack([
    ACTOR_FRAME,
    "    at new Producer (file:///lib/producer.ts:2:3)",
    "    at new Producer (file:///app/producer.ts:4:3)",
  ]);
  assert.equal(classModule(actor), "file:///app/producer.ts");
});

Deno.test("classModule() keeps URLs with spaces, parentheses and other schemes whole", () => {
  assert.equal(
    classModule(withStack([
      ACTOR_FRAME,
      "    at new Producer (file:///my%20work/(v2)/actors.ts:12:34)",
    ])),
    "file:///my%20work/(v2)/actors.ts",
  );
  assert.equal(
    classModule(withStack([
      ACTOR_FRAME,
      "    at new Producer (https://example.com/actors.ts:1:1)",
    ])),
    "https://example.com/actors.ts",
  );
});

Deno.test("classModule() takes the frame V8 writes without new once the call site is optimized", () => {
  const actor = withStack([
    ACTOR_FRAME,
    "    at Producer (file:///app/actors.ts:16:8)",
    "    at run (file:///app/main.ts:36:23)",
  ]);
  assert.equal(classModule(actor), "file:///app/actors.ts");
  // A function of another name ends the constructors, as before.
  assert.throws(() =>
    classModule(withStack([
      ACTOR_FRAME,
      "    at Other (file:///app/other.ts:1:1)",
      "    at Producer (file:///app/late.ts:1:1)",
    ])), { name: "TypeError", message: NOT_FOUND });
});

Deno.test("classModule() reads only the constructor frames at the top of the stack", () => {
  // A frame that constructs nothing ends them: what follows is the caller's.
  const actor = withStack([
    ACTOR_FRAME,
    "    at make (file:///app/factory.ts:1:1)",
    "    at new Producer (file:///app/late.ts:1:1)",
  ]);
  assert.throws(() => classModule(actor), {
    name: "TypeError",
    message: NOT_FOUND,
  });
});

Deno.test("classModule() refuses a class it cannot place", async (t) => {
  const cases: [string, string[]][] = [
    ["an empty stack", []],
    ["no frame of the class", [ACTOR_FRAME, "    at file:///app/main.ts:1:1"]],
    ["a frame without a location", [
      ACTOR_FRAME,
      "    at new Producer (<anonymous>)",
    ]],
    ["a class of Deno's own", [
      ACTOR_FRAME,
      "    at new Producer (ext:deno/x.js:1:1)",
    ]],
  ];
  for (const [name, frames] of cases) {
    await t.step(name, () => {
      assert.throws(() => classModule(withStack(frames)), {
        name: "TypeError",
        message: NOT_FOUND,
      });
    });
  }
});

Deno.test("classModule() finds this module for a class constructed here", () => {
  assert.equal(classModule(new Producer()), import.meta.url);
});

export class WithField extends Actor<never, number> {
  #count = 0;
  override loop(): void {
    this.#count++;
  }
}

export class WithMethods extends Actor<never, number> {
  static #instances = 0;
  #tick(): void {}
  get #now(): number {
    return 0;
  }
  override loop(): void {
    WithMethods.#instances++;
    this.#tick();
    if (#tick in this) this.#now;
  }
}

class PrivateBase extends Actor<never, number> {
  #base = 1;
  get base(): number {
    return this.#base;
  }
}

export class Inherits extends PrivateBase {
  override loop(): void {}
}

export class OnlyInText extends Actor<never, string> {
  // a #comment is no member
  /* nor is a #block comment */
  label = "#notPrivate";
  other = "#single";
  template = `#templated`;
  override async loop(): Promise<void> {
    await this.send("#sent");
  }
}

Deno.test("describe() names every #private member a class or its ancestors declare", async (t) => {
  const cases: [string, () => Actor<never, unknown>, string, string][] = [
    ["a private field", () => new WithField(), "WithField", "#count"],
    [
      "private methods and accessors (a static one works, and is not named)",
      () => new WithMethods(),
      "WithMethods",
      "#tick, #now",
    ],
    [
      "a private field of a base class",
      () => new Inherits(),
      "Inherits",
      "#base",
    ],
  ];
  for (const [name, make, className, members] of cases) {
    await t.step(name, async () => {
      const first = members.split(", ")[0].slice(1);
      await assert.rejects(describe(make()), {
        name: "TypeError",
        message:
          `Cannot start relay: class ${className} declares ${members}; #private members cannot be copied into an actor's worker, use ordinary fields (for example _${first}) instead`,
      });
    });
  }
});

Deno.test("describe() ignores # in comments and strings, and copies the fields", async () => {
  const actor = new OnlyInText();
  assert.deepEqual(await describe(actor), {
    module: import.meta.url,
    className: "OnlyInText",
    state: {
      label: "#notPrivate",
      other: "#single",
      template: "#templated",
    },
  });
});
