/**
 * Runs across processes on Redis: worker processes really spawned (`cli.ts
 * worker`), a real redis-server (`BATON_REDIS_URL`), each actor in a Web
 * Worker of its process.
 *
 * @module
 */

import assert from "node:assert/strict";
import { group, Relay, RelayError } from "../mod.ts";
import { redis } from "../redis.ts";
import { FailAt, Keys, Mark, Numbers } from "./fixtures/redis_actors.ts";
import { redisTest, uniqueRun } from "./_redis.ts";

interface Seen {
  keys: string[];
  pids: number[];
  pid: number;
}

/** Runs `relay` under a guard that fails with its snapshot. */
async function within<T>(
  relay: Relay,
  ms: number,
  run: Promise<T>,
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const guard = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const state = JSON.stringify(relay.snapshot());
      relay.close({ timeout: 0 });
      reject(new Error(`the run did not settle in ${ms} ms: ${state}`));
    }, ms);
  });
  try {
    return await Promise.race([run, guard]);
  } finally {
    clearTimeout(timer);
  }
}

async function keysOf(url: string, run: string): Promise<string[]> {
  const { RedisLink } = await import("../src/link/redis/link.ts");
  const link = await RedisLink.connect({ url });
  try {
    const [, keys] = await link.command([
      "SCAN",
      "0",
      "MATCH",
      `baton:${run}:*`,
      "COUNT",
      "10000",
    ]) as [unknown, unknown[]];
    return keys.map(String);
  } finally {
    await link.quit();
  }
}

redisTest(
  "Across processes: 1 → 2 → 1 with the middle group on 2 spawned worker processes delivers every message once",
  async (url) => {
    const run = uniqueRun("e2e");
    const relay = new Relay({ maxsize: 64, transport: redis({ url, run }) });
    const source = Object.assign(new Numbers(), { count: 5000 });
    relay.connect(
      source,
      group([new Mark(), new Mark()], { name: "mark", place: "workers" }),
      new Keys(),
    );
    const reports = Array.fromAsync(relay.reports<Seen>());
    const metrics = await within(
      relay,
      60_000,
      relay.start({ workers: { spawn: 2 } }),
    );
    const [seen] = (await reports).map((r) => r.value);
    assert.equal(seen.keys.length, 5000);
    assert.equal(new Set(seen.keys).size, 5000, "nothing twice");
    assert.equal(seen.pid, Deno.pid, "the sink ran here");
    assert.equal(seen.pids.length, 2, "through both worker processes");
    assert.ok(!seen.pids.includes(Deno.pid), "not through this process");
    const order = seen.keys.map((k) => Number(k.split(":")[1]));
    // One sender: FIFO per sender→receiver, through any middle member,
    // so each middle member's part is in order; the whole need not be.
    assert.deepEqual([...order].sort((a, b) => a - b), order.map((_, i) => i));
    assert.deepEqual(metrics.groups.map((g) => g.received), [0, 5000, 5000]);
    assert.deepEqual(
      await keysOf(url, run),
      [],
      "every key of the run deleted",
    );
  },
);

redisTest(
  "Across processes: an error in a worker process fails the run with the same RelayError",
  async (url) => {
    const run = uniqueRun("fail");
    const relay = new Relay({ maxsize: 16, transport: redis({ url, run }) });
    relay.connect(
      Object.assign(new Numbers(), { count: 100_000 }),
      group([new FailAt()], { name: "fail", place: "workers" }),
      new Keys(),
    );
    const error = await within(
      relay,
      60_000,
      relay.start({ workers: { spawn: 1 } }).then(
        () => assert.fail("the run succeeded"),
        (e) => e,
      ),
    );
    assert.ok(error instanceof RelayError, String(error));
    assert.equal(error.group, "fail");
    assert.equal(error.phase, "recv");
    assert.match(error.message, /failed on 10/);
    assert.deepEqual(
      await keysOf(url, run),
      [],
      "every key of the run deleted",
    );
  },
);
