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
import {
  Chatty,
  FailAt,
  FailOnce,
  Keys,
  Ledger,
  Mark,
  Numbers,
  Overlap,
  Picky,
  Sift,
  SpinAt,
} from "./fixtures/redis_actors.ts";
import type { Marked } from "./fixtures/redis_actors.ts";
import { captureLogs, until } from "./_harness.ts";
import { keysOf, redisProxy, redisTest, uniqueRun } from "./_redis.ts";

interface Seen {
  keys: string[];
  pids: number[];
  marks: number[];
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

/**
 * What `relay.start(options)` rejects with, within `ms`; the test fails if
 * the run succeeds.
 */
function rejection(
  relay: Relay,
  options: Parameters<Relay["start"]>[0],
  ms = 60_000,
): Promise<unknown> {
  return within(
    relay,
    ms,
    relay.start(options).then(
      () => assert.fail("the run succeeded"),
      (e) => e,
    ),
  );
}

/** Copies a file or a folder (Deno.symlink needs unscoped permissions). */
async function copy(from: string, to: string): Promise<void> {
  if ((await Deno.stat(from)).isFile) return await Deno.copyFile(from, to);
  await Deno.mkdir(to, { recursive: true });
  for await (const entry of Deno.readDir(from)) {
    await copy(`${from}/${entry.name}`, `${to}/${entry.name}`);
  }
}

/**
 * A copy of this checkout (baton and the tests' actors) in a folder of its
 * own, with one line added to `changed`: a worker process started in it
 * runs other code than this process there.
 */
async function checkout(changed: string): Promise<string> {
  const root = new URL("../", import.meta.url).pathname;
  await Deno.mkdir("/tmp/baton-tests", { recursive: true });
  const dir = await Deno.makeTempDir({
    dir: "/tmp/baton-tests",
    prefix: "skew-",
  });
  // baton's entries (every .ts file at the root), src/, the configuration.
  const entries: string[] = [];
  for await (const entry of Deno.readDir(root)) {
    if (entry.isFile && entry.name.endsWith(".ts")) entries.push(entry.name);
  }
  for (
    const name of [
      ...entries,
      "src",
      "deno.json",
      "deno.lock",
      "tests/fixtures/redis_actors.ts",
      "tests/fixtures/redis_helper.ts",
    ]
  ) {
    if (name.includes("/")) {
      await Deno.mkdir(`${dir}/${name.slice(0, name.lastIndexOf("/"))}`, {
        recursive: true,
      });
    }
    await copy(`${root}${name}`, `${dir}/${name}`);
  }
  const text = await Deno.readTextFile(`${dir}/${changed}`);
  await Deno.writeTextFile(
    `${dir}/${changed}`,
    `${text}\n// another version\n`,
  );
  return dir;
}

/** The source `Numbers-src` of `count` messages (see `accountedFor`). */
function numbersSrc(count: number): Numbers {
  const source = Object.assign(new Numbers(), { count });
  Object.defineProperty(source, "name", { value: "Numbers-src" });
  return source;
}

/**
 * Asserts that each of the `count` messages of the source `Numbers-src`
 * arrived, at most `bound` of them twice, and that message `again` came
 * again, flagged, on attempt 2 or more; returns how many came twice.
 */
function accountedFor(
  seen: Seen,
  count: number,
  bound: number,
  again: number,
): number {
  const times = new Map<string, number>();
  for (const k of seen.keys) times.set(k, (times.get(k) ?? 0) + 1);
  for (let seq = 0; seq < count; seq++) {
    assert.ok(times.has(`Numbers-src:${seq}`), `${seq} lost`);
  }
  const doubled = seen.keys.length - times.size;
  assert.ok(doubled <= bound, `${doubled} doubled, more than the bound`);
  const at = seen.keys.indexOf(`Numbers-src:${again}`);
  assert.ok(
    seen.marks[at] <= -2,
    `${again} came again, on attempt 2 or more`,
  );
  return doubled;
}

redisTest(
  "D1: across processes, 1 → 2 → 1 with the middle group on 2 spawned worker processes delivers every message once",
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
  "D22: across processes, a group on workers with concurrency 8 has several calls in flight in each actor and delivers every message once",
  async (url) => {
    const run = uniqueRun("concurrent");
    const relay = new Relay({ maxsize: 64, transport: redis({ url, run }) });
    const count = 3000;
    relay.connect(
      Object.assign(new Numbers(), { count }),
      group([
        Object.assign(new Overlap(), { delayMs: 2 }),
        Object.assign(new Overlap(), { delayMs: 2 }),
      ], { name: "mark", place: "workers", concurrency: 8 }),
      new Keys(),
    );
    const reports = Array.fromAsync(
      relay.reports<Seen | { peak: number; pid: number }>(),
    );
    const metrics = await within(
      relay,
      60_000,
      relay.start({ workers: { spawn: 2 } }),
    );
    const values = (await reports).map((r) => r.value);
    const peaks = values.filter((v) => "peak" in v);
    const [seen] = values.filter((v): v is Seen => "keys" in v);
    assert.equal(peaks.length, 2, "both middle actors reported");
    for (const p of peaks) {
      assert.ok(p.peak > 1, `calls in flight at once: ${p.peak}`);
      assert.ok(p.peak <= 8, `at most concurrency: ${p.peak}`);
      assert.notEqual(p.pid, Deno.pid, "in a worker process");
    }
    assert.equal(seen.keys.length, count);
    assert.equal(new Set(seen.keys).size, count, "nothing twice");
    assert.ok(
      seen.marks.every((m) => m === 1),
      "none redelivered, this.attempt 1 in every call",
    );
    assert.deepEqual(metrics.groups.map((g) => g.received), [
      0,
      count,
      count,
    ]);
    assert.deepEqual(
      await keysOf(url, run),
      [],
      "every key of the run deleted",
    );
  },
);

redisTest(
  "D2: across processes, an error in a worker process fails the run with the same RelayError",
  async (url) => {
    const run = uniqueRun("fail");
    const relay = new Relay({ maxsize: 16, transport: redis({ url, run }) });
    relay.connect(
      Object.assign(new Numbers(), { count: 100_000 }),
      group([new FailAt()], { name: "fail", place: "workers" }),
      new Keys(),
    );
    const error = await rejection(relay, { workers: { spawn: 1 } });
    assert.ok(error instanceof RelayError, String(error));
    assert.equal(error.group, "fail");
    assert.equal(error.phase, "recv");
    assert.match(error.message, /failed on 10/);
    assert.match(error.message, /it ran in the worker process on .*, pid \d+/);
    assert.deepEqual(
      await keysOf(url, run),
      [],
      "every key of the run deleted",
    );
  },
);

redisTest(
  "D8: across processes, two runs at once on one Redis do not meet",
  async (url) => {
    const one = async (count: number) => {
      const run = uniqueRun("two");
      const relay = new Relay({ maxsize: 32, transport: redis({ url, run }) });
      relay.connect(
        Object.assign(new Numbers(), { count }),
        group([new Mark()], { name: "mark", place: "workers" }),
        new Keys(),
      );
      const reports = Array.fromAsync(relay.reports<Seen>());
      await within(relay, 60_000, relay.start({ workers: { spawn: 1 } }));
      const [seen] = (await reports).map((r) => r.value);
      return { run, seen };
    };
    const [a, b] = await Promise.all([one(3000), one(2000)]);
    assert.equal(a.seen.keys.length, 3000);
    assert.equal(b.seen.keys.length, 2000);
    assert.notDeepEqual(a.seen.pids, b.seen.pids, "each its own process");
    assert.deepEqual(await keysOf(url, a.run), []);
    assert.deepEqual(await keysOf(url, b.run), []);
  },
);

/**
 * A run whose worker process runs in a checkout where `changed` differs by
 * one line: the actor on it fails in phase `load` with `message`.
 */
async function refusedAtLoad(
  url: string,
  changed: string,
  message: RegExp,
): Promise<void> {
  const dir = await checkout(changed);
  try {
    const run = uniqueRun("skew");
    const { startWorkers, stopAll } = await import("./_redis_workers.ts");
    const workers = startWorkers(url, run, 1, { cwd: dir });
    try {
      const relay = new Relay({
        maxsize: 16,
        transport: redis({ url, run }),
      });
      relay.connect(
        new Numbers(),
        group([new Mark()], { name: "mark", place: "workers" }),
        new Keys(),
      );
      const error = await rejection(relay, { workers: { wait: 1 } });
      assert.ok(error instanceof RelayError, String(error));
      assert.equal(error.group, "mark");
      assert.equal(error.phase, "load");
      assert.match(error.message, message);
    } finally {
      await stopAll(workers);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

redisTest(
  "D9: across processes, a worker process whose actor module differs from the coordinator's is refused",
  // A checkout of the same code but for the actors' module: the worker
  // process runs in it, the coordinator here.
  (url) =>
    refusedAtLoad(
      url,
      "tests/fixtures/redis_actors.ts",
      /differs from the coordinator's/,
    ),
);

redisTest(
  "D30: across processes, a worker process whose copy of a module the actors' module imports differs is refused",
  // The actors' module is the same; a module it imports is not.
  (url) =>
    refusedAtLoad(
      url,
      "tests/fixtures/redis_helper.ts",
      /its module .*redis_actors\.ts \(or a module it imports\) differs from the coordinator's/,
    ),
);

/**
 * D27: a worker process whose checkout of baton differs in `changed` is
 * refused at join, and exits 1 saying why.
 */
async function refusedForCode(url: string, changed: string): Promise<void> {
  const dir = await checkout(changed);
  try {
    const run = uniqueRun("skew-code");
    const { startWorkers, stopAll } = await import("./_redis_workers.ts");
    const workers = startWorkers(url, run, 1, { cwd: dir });
    try {
      const relay = new Relay({
        maxsize: 16,
        transport: redis({ url, run, joinTimeoutMs: 5000 }),
      });
      relay.connect(
        new Numbers(),
        group([new Mark()], { name: "mark", place: "workers" }),
        new Keys(),
      );
      const error = await rejection(relay, { workers: { wait: 1 } });
      assert.match(
        String(error),
        /0 of 1 worker processes joined .*; refused .* pid \d+, which runs different baton code/,
      );
      const status = await workers[0].status;
      assert.equal(status.code, 1, "the refused process exits 1");
      assert.match(
        await workers[0].stderr,
        /refused by run .*: this worker process runs different baton code than the coordinator/,
      );
    } finally {
      await stopAll(workers);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

redisTest(
  "D27: across processes, a worker process whose checkout of baton differs anywhere (here the worker runtime's sources) is refused",
  // Not a file of the Redis transport: the actors' runtime in a worker.
  (url) => refusedForCode(url, "src/worker/runner.ts"),
);

redisTest(
  "D27: across processes, a worker process whose bundle of the worker runtime differs is refused",
  // What actors' workers run: the same sources, another bundle.
  (url) => refusedForCode(url, "src/worker/bundle/bootstrap.js"),
);

redisTest(
  "D10: across processes, a Redis nobody listens on fails start() cleanly, naming it",
  async () => {
    const relay = new Relay({
      transport: redis({
        url: "redis://127.0.0.1:1",
        run: uniqueRun("down"),
        unreachableMs: 500,
      }),
    });
    relay.connect(
      new Numbers(),
      group([new Mark()], { place: "workers" }),
      new Keys(),
    );
    const error = await rejection(relay, { workers: { spawn: 1 } }, 20_000);
    assert.match(
      String(error),
      /Cannot connect to Redis at redis:\/\/127\.0\.0\.1:1/,
    );
  },
);

redisTest(
  "D11: across processes, when the coordinator dies, its worker processes leave and the run's keys expire",
  async (url) => {
    const run = uniqueRun("orphan");
    const { startWorkers, stopAll } = await import("./_redis_workers.ts");
    const workers = startWorkers(url, run, 1, { heartbeatMs: 1500 });
    const coordinator = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--no-check",
        "-R",
        "--allow-net=127.0.0.1",
        "--allow-env=REDIS_DEBUG_MAINTENANCE",
        new URL("./fixtures/redis_coordinator.ts", import.meta.url).pathname,
        url,
        run,
      ],
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    try {
      const reader = coordinator.stdout.pipeThrough(new TextDecoderStream())
        .getReader();
      let out = "";
      while (!out.includes("started")) {
        const { value, done } = await reader.read();
        assert.ok(!done, "the coordinator ended before it started");
        out += value;
      }
      reader.releaseLock();
      coordinator.kill("SIGKILL");
      await coordinator.status;
      const status = await workers[0].status;
      assert.equal(status.code, 1);
      assert.match(
        await workers[0].stderr,
        /coordinator .* stopped sending heartbeats/,
      );
      const { RedisLink } = await import("../src/link/redis/link.ts");
      const link = await RedisLink.connect({ url });
      try {
        const keys = await keysOf(url, run);
        assert.ok(keys.length > 0, "the run's keys are still there");
        for (const key of keys) {
          const ttl = Number(await link.command(["PTTL", key]));
          assert.ok(ttl > 0 && ttl <= 60_000, `${key} expires (PTTL ${ttl})`);
        }
      } finally {
        await link.quit();
      }
      void until;
    } finally {
      try {
        coordinator.kill("SIGKILL");
      } catch {
        // gone
      }
      await coordinator.status;
      await coordinator.stdout.cancel().catch(() => {});
      await stopAll(workers);
    }
  },
);

Deno.test("A group placed on workers needs a relay across processes, and start({ workers })", async () => {
  const relay = new Relay();
  relay.connect(
    new Numbers(),
    group([new Mark()], { place: "workers" }),
    new Keys(),
  );
  await assert.rejects(relay.start(), /needs a relay across processes/);
  const across = new Relay({
    transport: redis({ url: "redis://127.0.0.1:1", run: "x" }),
  });
  across.connect(
    new Numbers(),
    group([new Mark()], { place: "workers" }),
    new Keys(),
  );
  await assert.rejects(across.start(), /say which with start\(\{ workers/);
  const source = new Relay({
    transport: redis({ url: "redis://127.0.0.1:1", run: "x" }),
  });
  source.connect(
    group([new Numbers()], { place: "workers", onError: "restart" }),
    new Keys(),
  );
  await assert.rejects(
    source.start({ workers: { spawn: 1 } }),
    /group group-0 is a group of sources placed on "workers" with onError "restart", which cannot restart across processes for now/,
  );
  const here = new Relay({
    transport: redis({ url: "redis://127.0.0.1:1", run: "x" }),
  });
  here.connect(
    new Numbers(),
    group([new Mark()], { onError: "restart" }),
    group([new Keys()], { place: "workers" }),
  );
  await assert.rejects(
    here.start({ workers: { spawn: 1 } }),
    /group group-1 has onError "restart" here, next to a group placed on "workers"; an actor here restarts across processes only when every edge it has runs across processes/,
  );
  const ordered = new Relay({
    transport: redis({ url: "redis://127.0.0.1:1", run: "x" }),
  });
  ordered.connect(
    group([new Numbers()], { place: "workers" }),
    group([new Mark()], { place: "workers" }),
  );
  await assert.rejects(
    async () => {
      for await (const _ of ordered.results({ ordered: true })) {
        // Never reached: the relay refuses to start.
      }
    },
    /ordered results come in the order in which group group-0 sends, and it is placed on "workers"/,
  );
  assert.throws(
    () => group([new Mark()], { place: "there" as "here" }),
    /place must be/,
  );
  assert.throws(() => redis({ url: "http://x", run: "r" }), /redis:\/\/ URL/);
  assert.throws(() => redis({ url: "redis://x", run: "a b" }), /run must be/);
});

redisTest(
  "D12: across processes, Redis unreachable past unreachableMs fails the run cleanly, and the worker processes leave",
  async (url) => {
    const proxy = redisProxy(url);
    const run = uniqueRun("cut");
    const relay = new Relay({
      maxsize: 16,
      transport: redis({ url: proxy.url, run, unreachableMs: 1000 }),
    });
    relay.connect(
      Object.assign(new Numbers(), { count: 1e9 }),
      group([Object.assign(new Mark(), { delayMs: 2 })], {
        name: "mark",
        place: "workers",
      }),
      new Keys(),
    );
    const done = relay.start({ workers: { spawn: 1 } }).then(
      () => assert.fail("the run succeeded"),
      (e) => e,
    );
    await until(
      () => (relay.metrics()?.groups[2].received ?? 0) >= 20,
      "the sink to receive 20 messages",
    );
    proxy.cut();
    const error = await within(relay, 30_000, done);
    assert.ok(error instanceof RelayError, String(error));
    assert.match(
      error.message,
      /Redis at redis:\/\/127\.0\.0\.1:\d+\/? was unreachable for more than 1000 ms/,
    );
  },
);

redisTest(
  "D13: across processes, the log records of an actor in a worker process arrive at the coordinator, in order, before start() settles",
  async (url) => {
    await using logs = await captureLogs(["test"], "info");
    const run = uniqueRun("logs");
    const relay = new Relay({
      maxsize: 32,
      logger: "test",
      transport: redis({ url, run }),
    });
    relay.connect(
      Object.assign(new Numbers(), { count: 500 }),
      group([new Chatty()], { name: "chatty", place: "workers" }),
      new Keys(),
    );
    await within(relay, 60_000, relay.start({ workers: { spawn: 1 } }));
    const lines = logs.lines("test").filter((l) => l.includes("line "));
    assert.deepEqual(
      lines.map((l) => l.replace(/^\[chatty\] \(Chatty-\d+\) /, "")),
      Array.from({ length: 500 }, (_, i) => `line ${i}`),
      "every record, once, in order, with its group and actor",
    );
  },
);

redisTest(
  'D17: across processes, retries and onError "skip" of a group on workers work as in one process: this.attempt, dead letters at the coordinator, retries and skipped counted',
  async (url) => {
    const run = uniqueRun("skip");
    const count = 400;
    const relay = new Relay({ maxsize: 32, transport: redis({ url, run }) });
    relay.connect(
      Object.assign(new Numbers(), { count }),
      group([new Picky(), new Picky()], {
        name: "picky",
        place: "workers",
        retries: 1,
        onError: "skip",
      }),
      new Keys(),
    );
    const dead = Array.fromAsync(
      relay.deadLetters<{ from: string; seq: number }>(),
    );
    const reports = Array.fromAsync(relay.reports<Seen>());
    const summary = await within(
      relay,
      60_000,
      relay.start({ workers: { spawn: 2 } }),
    );
    const letters = await dead;
    const [seen] = (await reports).map((r) => r.value);
    // Every seq ending in 3 fails twice: more than 16 per actor, the dead
    // letters each may post before the coordinator took one.
    const threes = Array.from({ length: count / 10 }, (_, i) => i * 10 + 3);
    assert.deepEqual(
      letters.map((l) => l.message.seq).sort((a, b) => a - b),
      threes,
    );
    for (const letter of letters) {
      assert.match(letter.actor, /^Picky-\d+$/);
      assert.equal(letter.group, "picky");
      assert.equal(letter.attempts, 2);
      assert.ok(letter.error instanceof RangeError, String(letter.error));
      assert.equal(letter.error.message, `no ${letter.message.seq}`);
      assert.match(String(letter.error.stack), /redis_actors\.ts/);
    }
    assert.equal(seen.keys.length, count - threes.length);
    seen.keys.forEach((key, i) => {
      const seq = Number(key.split(":")[1]);
      assert.notEqual(seq % 10, 3);
      // The seqs ending in 5 were handled on their second attempt.
      assert.equal(seen.marks[i], seq % 10 === 5 ? 2 : 1, key);
    });
    const g = summary.groups[1];
    assert.equal(g.received, count);
    assert.equal(g.retries, 2 * threes.length, "retries");
    assert.equal(g.skipped, threes.length, "skipped");
    assert.equal(g.attempts, count + g.retries);
    assert.deepEqual(await keysOf(url, run), [], "every key deleted");
  },
);

redisTest(
  'D21: across processes, onError "restart" on workers restarts a failed actor on a worker process: it takes over what it had in hand, flagged, nothing lost, the restart counted',
  async (url) => {
    const run = uniqueRun("restart");
    const count = 3000;
    const relay = new Relay({ maxsize: 64, transport: redis({ url, run }) });
    const source = numbersSrc(count);
    relay.connect(
      source,
      group([
        Object.assign(new FailOnce(), { at: 700, delayMs: 1 }),
        Object.assign(new FailOnce(), { at: 700, delayMs: 1 }),
      ], { name: "flaky", place: "workers", onError: "restart" }),
      new Keys(),
    );
    const reports = Array.fromAsync(relay.reports<Seen>());
    const summary = await within(
      relay,
      60_000,
      relay.start({ workers: { spawn: 2 } }),
    );
    const [seen] = (await reports).map((r) => r.value);
    const doubled = accountedFor(seen, count, 64, 700);
    // What the failed incarnation had in hand came again, flagged.
    const flagged = seen.marks.filter((m) => m < 0).length;
    assert.ok(flagged >= 1 && flagged >= doubled, `${flagged} flagged`);
    assert.equal(summary.groups[1].restarts, 1);
    assert.ok(summary.groups[1].received >= count);
    assert.deepEqual(await keysOf(url, run), [], "every key deleted");
  },
);

redisTest(
  'D24: across processes, a synchronous recv() stuck past recvTimeoutMs on workers under onError "restart" is ended: its worker terminated, the actor restarted, nothing lost',
  async (url) => {
    const run = uniqueRun("stuck");
    const count = 600;
    const relay = new Relay({ maxsize: 32, transport: redis({ url, run }) });
    const source = numbersSrc(count);
    relay.connect(
      source,
      group([Object.assign(new SpinAt(), { at: 200, spinMs: 4000 })], {
        name: "spin",
        place: "workers",
        onError: "restart",
        recvTimeoutMs: 400,
      }),
      new Keys(),
    );
    const reports = Array.fromAsync(relay.reports<Seen>());
    await using logs = await captureLogs();
    const summary = await within(
      relay,
      60_000,
      relay.start({ workers: { spawn: 1 } }),
    );
    const [seen] = (await reports).map((r) => r.value);
    accountedFor(seen, count, 32, 200);
    assert.equal(summary.groups[1].restarts, 1);
    const warning = logs.records.find((r) =>
      /recv\(\) ran for \d+ ms, longer than recvTimeoutMs \(400 ms\)/.test(
        r.message.join(""),
      )
    );
    assert.ok(warning !== undefined, "the stuck call is named in the logs");
    assert.deepEqual(await keysOf(url, run), [], "every key deleted");
  },
);

redisTest(
  "D25: across processes, results({ ordered: true }) come in the source's order through a filter of 2 on workers and a group of 2 on workers after it",
  async (url) => {
    const run = uniqueRun("ordered");
    const count = 3000;
    const relay = new Relay({ maxsize: 64, transport: redis({ url, run }) });
    // The filter's markers ("nothing for #n") travel through Redis to the
    // next group, which counts them as handled without a call.
    relay.connect(
      Object.assign(new Numbers(), { count }),
      group([
        Object.assign(new Sift(), { every: 3 }),
        Object.assign(new Sift(), { every: 3 }),
      ], { name: "sift", place: "workers" }),
      group([new Mark(), new Mark()], { name: "mark", place: "workers" }),
    );
    const results = relay.results<Marked>({ ordered: true });
    const done = relay.start({ workers: { spawn: 2 } });
    const seqs: number[] = [];
    const pids = new Set<number>();
    await within(
      relay,
      60_000,
      (async () => {
        for await (const m of results) {
          seqs.push(m.seq);
          pids.add(m.pid);
        }
        return await done;
      })(),
    );
    const expected = Array.from({ length: count }, (_, i) => i).filter((i) =>
      i % 3 !== 0
    );
    assert.equal(
      seqs.length,
      expected.length,
      "every message the filter let through",
    );
    assert.deepEqual(seqs, expected, "in the order the source sent");
    assert.equal(pids.size, 2, "through both worker processes");
    assert.ok(!pids.has(Deno.pid), "not through this process");
    assert.deepEqual(
      await keysOf(url, run),
      [],
      "every key of the run deleted",
    );
  },
);

redisTest(
  'D28: across processes, a sink here with onError "restart" after a group on workers restarts in the coordinator, twice: each time it takes over what it had in hand from Redis, flagged, nothing lost',
  async (url) => {
    const run = uniqueRun("restart-here");
    const count = 3000;
    const maxsize = 64;
    const seen = new SharedArrayBuffer(count * 4);
    const flags = new SharedArrayBuffer(24);
    const relay = new Relay({ maxsize, transport: redis({ url, run }) });
    relay.connect(
      Object.assign(new Numbers(), { count }),
      group([new Mark(), new Mark()], { name: "mark", place: "workers" }),
      // The second failure comes soon after the first, among what the
      // first one had in hand, from two senders: acknowledged only once
      // handled in the order delivered, it all comes again.
      group([
        Object.assign(new Ledger(), { seen, flags, failAt: [1200, 1203] }),
      ], { name: "ledger", onError: "restart" }),
    );
    const summary = await within(
      relay,
      60_000,
      relay.start({ workers: { spawn: 2 } }),
    );
    const counts = new Int32Array(seen);
    const lost = counts.filter((n) => n === 0).length;
    assert.equal(lost, 0, "nothing lost");
    const doubled = counts.reduce((a, n) => a + n, 0) - count;
    assert.ok(
      doubled <= 2 * maxsize,
      `${doubled} doubled, more than the bound`,
    );
    const [redelivered, first, second, , , attemptAgain] = new Int32Array(
      flags,
    );
    assert.deepEqual([first, second], [1, 1], "the sink failed twice");
    assert.ok(
      redelivered >= 2 && redelivered >= doubled,
      `${redelivered} flagged redelivered, ${doubled} doubled`,
    );
    assert.ok(attemptAgain >= 2, "1200 came again, on attempt 2 or more");
    assert.equal(summary.groups[2].restarts, 2);
    assert.deepEqual(await keysOf(url, run), [], "every key deleted");
  },
);

redisTest(
  'D29: across processes, a middle here with onError "restart" between two groups on workers restarts in the coordinator: its credits go back, what it had in hand comes again, flagged, nothing lost',
  async (url) => {
    const run = uniqueRun("restart-middle-here");
    const count = 3000;
    const relay = new Relay({ maxsize: 64, transport: redis({ url, run }) });
    const source = numbersSrc(count);
    relay.connect(
      source,
      group([new Mark()], { name: "mark", place: "workers" }),
      group([Object.assign(new FailOnce(), { at: 700 })], {
        name: "flaky",
        onError: "restart",
      }),
      group([new Keys()], { name: "keys", place: "workers" }),
    );
    const reports = Array.fromAsync(relay.reports<Seen>());
    const summary = await within(
      relay,
      60_000,
      relay.start({ workers: { spawn: 2 } }),
    );
    const [seen] = (await reports).map((r) => r.value);
    accountedFor(seen, count, 64, 700);
    assert.notEqual(seen.pid, Deno.pid, "the sink ran on workers");
    assert.equal(summary.groups[2].restarts, 1);
    assert.deepEqual(await keysOf(url, run), [], "every key deleted");
  },
);
