/**
 * The pure parts of restarts: the budget per group, and the layout of a
 * restartable edge's shared cells.
 *
 * @module
 */

import assert from "node:assert/strict";
import { RestartLog, restarts } from "../../src/host/restart.ts";
import { ReplayLayout } from "../../src/link/port/replay_cells.ts";
import type { Policy } from "../../src/common/protocol.ts";

const policy = (onError: Policy["onError"]): Policy => ({
  retries: 0,
  backoffMs: 0,
  onError,
  restarts: { max: 3, withinMs: 60_000 },
  recvTimeoutMs: undefined,
  concurrency: 1,
});

Deno.test("RestartLog counts a group's restarts within its window only", () => {
  const log = new RestartLog();
  assert.equal(log.record("a", 1000, 0), 1);
  assert.equal(log.record("a", 1000, 500), 2);
  assert.equal(log.record("b", 1000, 600), 1, "per group");
  assert.equal(log.record("a", 1000, 999), 3);
  // The first one fell out of the window.
  assert.equal(log.record("a", 1000, 1000), 3);
  assert.equal(log.record("a", 1000, 5000), 1);
});

Deno.test("Only onError restart restarts, and never a module that did not load", () => {
  assert.equal(restarts(policy("restart"), "recv"), true);
  assert.equal(restarts(policy("restart"), "exit"), true);
  assert.equal(restarts(policy("restart"), "startup"), true);
  assert.equal(restarts(policy("restart"), "load"), false);
  assert.equal(restarts(policy("fail"), "recv"), false);
  assert.equal(restarts(policy("skip"), "exit"), false);
});

Deno.test("ReplayLayout gives every counter of every edge shape a cell of its own", () => {
  for (let senders = 1; senders <= 20; senders++) {
    for (let receivers = 1; receivers <= 20; receivers++) {
      const l = new ReplayLayout(senders, receivers);
      const cells: number[] = [];
      for (let s = 0; s < senders; s++) cells.push(l.epochS(s), l.held(s));
      for (let r = 0; r < receivers; r++) cells.push(l.epochR(r));
      for (let s = 0; s < senders; s++) {
        for (let r = 0; r < receivers; r++) {
          cells.push(
            l.relinked(s, r),
            l.posted(s, r),
            l.handled(s, r),
            l.touched(s, r),
          );
        }
      }
      assert.equal(
        new Set(cells).size,
        cells.length,
        `${senders}×${receivers}`,
      );
      assert.ok(cells.every((c) => c >= 0 && c < l.size));
      // Each sender's held credits on a cache line of its own.
      for (let s = 1; s < senders; s++) {
        assert.ok(l.held(s) - l.held(s - 1) >= 16);
      }
    }
  }
});
