/**
 * The actor's own entry (`actor.ts`, `@baton/relay/actor`): its class is the
 * relay's, and actors whose module imports only it run in workers.
 *
 * @module
 */

import assert from "node:assert/strict";
import { Actor as Lean } from "../actor.ts";
import { Actor, Relay } from "../mod.ts";
import { Count, Double, Sum } from "./fixtures/lean_actors.ts";

Deno.test("@baton/relay/actor gives the same Actor class as @baton/relay", () => {
  assert.equal(Lean, Actor);
});

Deno.test("actors whose module imports only @baton/relay/actor run in their workers", async () => {
  const relay = new Relay({ maxsize: 8 });
  relay.connect(
    Object.assign(new Count(), { count: 100 }),
    [new Double(), new Double()],
    new Sum(),
  );
  const reports = Array.fromAsync(relay.reports<number>());
  const summary = await relay.start();
  assert.deepEqual((await reports).map((r) => r.value), [2 * 4950]);
  assert.deepEqual(summary.groups.map((g) => g.received), [0, 100, 100]);
});
