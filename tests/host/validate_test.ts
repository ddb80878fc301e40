import assert from "node:assert/strict";
// Named here, not in deno.json: the import map is the package's, and this
// one is for tests and benchmarks only.
// deno-lint-ignore no-import-prefix
import fc from "npm:fast-check@^4.10.2";
import { Actor } from "../../mod.ts";
import { findExport } from "../../src/common/exports.ts";
import { findActorClass } from "../../src/config/actor_class.ts";
import { deniedRead, readAccessHint } from "../../src/common/read_access.ts";
import {
  checkDelay,
  checkGroupKey,
  checkLogger,
  closest,
  unknownKey,
} from "../../src/host/validate.ts";

Deno.test("closest() names the known word a typo away, case aside, and none for a word far from all", () => {
  const top = ["maxsize", "logger", "shutdownTimeout", "logging", "groups"];
  assert.equal(closest("maxSize", top), "maxsize");
  assert.equal(closest("loger", top), "logger");
  assert.equal(closest("shutdownTimout", top), "shutdownTimeout");
  assert.equal(closest("cuont", ["actor", "count", "with"]), "count");
  assert.equal(closest("colour", top), undefined);
  assert.equal(closest("x", top), undefined);
  assert.equal(
    unknownKey("grups", top, "option"),
    'unknown option "grups"; did you mean "groups"? use one of maxsize, logger, shutdownTimeout, logging, groups',
  );
});

Deno.test("checkGroupKey() refuses exactly the keys JavaScript moves to the front of an object", () => {
  const key = fc.oneof(
    fc.string({ maxLength: 12 }),
    fc.nat({ max: 2 ** 32 + 2 }).map(String),
    fc.constantFrom("0", "4294967294", "4294967295", "01", "-1", "1.5", "1e3"),
  );
  fc.assert(
    fc.property(key, (k) => {
      fc.pre(k !== "first");
      const moved = Object.keys({ first: 1, [k]: 2 })[0] === k;
      let refused = false;
      try {
        checkGroupKey(k, "here");
      } catch (error) {
        assert.ok(error instanceof TypeError);
        assert.match(
          error.message,
          /^here: a group key must not be an integer/,
        );
        refused = true;
      }
      assert.equal(refused, moved, `key ${JSON.stringify(k)}`);
    }),
    { numRuns: 500 },
  );
});

Deno.test("checkDelay() takes the longest delay Deno's timers run and refuses one millisecond more", () => {
  assert.equal(checkDelay(2 ** 31 - 1, "here", "timeout"), 2 ** 31 - 1);
  assert.equal(checkDelay(0, "here", "timeout"), 0);
  assert.throws(() => checkDelay(2 ** 31, "here", "timeout"), {
    name: "RangeError",
    message:
      "here: timeout must be a number of milliseconds from 0 to 2147483647, received 2147483648; Deno runs a timer set for longer at once, give at most 2147483647 (about 24.8 days)",
  });
  assert.throws(() => checkDelay(0, "", "intervalMs", true), {
    name: "RangeError",
    message:
      "intervalMs must be a number of milliseconds above 0, at most 2147483647, received 0; give a positive number, such as 1000",
  });
});

Deno.test("checkLogger() splits a dotted name only where the YAML layer asks it to", () => {
  assert.deepEqual(checkLogger("app.relay", "here"), ["app.relay"]);
  assert.deepEqual(checkLogger("app.relay", "", true), ["app", "relay"]);
  assert.deepEqual(checkLogger(["app", "relay"], "", true), ["app", "relay"]);
  assert.throws(() => checkLogger("app..relay", "", true), TypeError);
});

Deno.test("findActorClass() finds a class by its export or its own name, as findExport() does, and says what else it found", () => {
  class Renamed extends Actor<never, number> {}
  class Plain {}
  const exports = { Alias: Renamed, Plain, answer: 42, nothing: null };
  assert.equal(findActorClass(exports, "Alias", "m.ts"), Renamed);
  assert.equal(findActorClass(exports, "Renamed", "m.ts"), Renamed);
  assert.equal(findExport(exports, "Renamed", "m.ts"), Renamed);
  assert.throws(() => findActorClass(exports, "Missing", "m.ts"), {
    name: "TypeError",
    message: 'm.ts has no export "Missing"; its actor classes are Alias',
  });
  assert.throws(() => findActorClass({ Plain }, "Missing", "m.ts"), {
    message: 'm.ts has no export "Missing"; it exports no actor class',
  });
  assert.throws(() => findActorClass(exports, "Plain", "m.ts"), {
    message: "Plain exported by m.ts does not extend Actor",
  });
  assert.throws(() => findActorClass(exports, "answer", "m.ts"), {
    message:
      "answer exported by m.ts is a number, not a class that extends Actor",
  });
  assert.throws(() => findActorClass(exports, "nothing", "m.ts"), {
    message: "nothing exported by m.ts is null, not a class that extends Actor",
  });
});

Deno.test("deniedRead() finds the path a denied read names; readAccessHint() says how to grant it", () => {
  const quoted = new Error(
    'Requires read access to "/srv/app/actors.ts", run again with the --allow-read flag',
  );
  assert.equal(deniedRead(quoted), "/srv/app/actors.ts");
  assert.equal(deniedRead("Requires read access to <CWD>"), "<CWD>");
  assert.equal(deniedRead(new Error("Module not found")), undefined);
  assert.equal(
    readAccessHint("/srv/app/actors.ts"),
    "run with --allow-read (-R), or at least --allow-read=/srv/app/actors.ts",
  );
  assert.equal(readAccessHint(""), "run with --allow-read (-R)");
});
