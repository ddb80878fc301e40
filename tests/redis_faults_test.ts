/**
 * Faults of runs across processes on Redis, with worker processes this
 * test starts, kills (SIGKILL), pauses (SIGSTOP) and resumes, and a real
 * redis-server (`BATON_REDIS_URL`).
 *
 * @module
 */

import assert from "node:assert/strict";
import { group, Relay, RelayError } from "../mod.ts";
import { redis } from "../redis.ts";
import { RedisLink } from "../src/link/redis/link.ts";
import {
  Keys,
  KillAt,
  Mark,
  type Marked,
  Numbers,
  Overlap,
  Sift,
} from "./fixtures/redis_actors.ts";
import { ownRedis, redisTest, uniqueRun } from "./_redis.ts";
import { startWorkers, stopAll } from "./_redis_workers.ts";
import { until } from "./_harness.ts";

interface Seen {
  keys: string[];
  pids: number[];
  via: number[];
  /** `this.attempt` in the middle, negative where it was redelivered. */
  marks: number[];
  pid: number;
}

/**
 * How the middle marked what it handled after `killed` died holding
 * entries: each key's copy that came again is flagged redelivered, with
 * `this.attempt` 2 (its second delivery), and came through another
 * process; nothing else is flagged, and attempts are 1 elsewhere. Returns
 * the flagged copies.
 */
function flagged(seen: Seen, killed: number): number {
  const times = new Map<string, number>();
  let flags = 0;
  seen.keys.forEach((key, i) => {
    const n = (times.get(key) ?? 0) + 1;
    times.set(key, n);
    const mark = seen.marks[i];
    if (mark < 0) {
      flags++;
      assert.equal(-mark, 2, `${key} redelivered with this.attempt ${-mark}`);
      assert.notEqual(seen.via[i], killed, `${key} redelivered to the dead`);
    } else {
      assert.equal(mark, 1, `${key} delivered once, this.attempt ${mark}`);
      assert.equal(n, 1, `${key} came again without this.redelivered`);
    }
  });
  return flags;
}

/**
 * The keys received twice whose copies did not both come after one through
 * the killed process: a message handled twice must be one the dead process
 * had in hand, forwarded once before it died and again by its successor.
 */
function strangers(seen: Seen, killed: number): string[] {
  const first = new Map<string, number>();
  const odd: string[] = [];
  seen.keys.forEach((key, i) => {
    const earlier = first.get(key);
    if (earlier === undefined) first.set(key, seen.via[i]);
    else if (earlier !== killed) odd.push(key);
  });
  return odd;
}

/** Lost and doubled keys of `count` messages from one source. */
function tally(keys: readonly string[], count: number) {
  const times = new Map<string, number>();
  for (const k of keys) times.set(k, (times.get(k) ?? 0) + 1);
  let lost = 0;
  for (let seq = 0; seq < count; seq++) {
    if (!times.has(`Numbers-src:${seq}`)) lost++;
  }
  const doubled = keys.length - times.size;
  return { lost, doubled };
}

/**
 * Asserts that none of `count` messages was lost and that only what the
 * `what` process `dead` had in hand came twice (at most the edge's bound);
 * returns how many came twice.
 */
function onlyHeldCameTwice(
  seen: Seen,
  count: number,
  dead: number,
  what: string,
): number {
  const { lost, doubled } = tally(seen.keys, count);
  assert.equal(lost, 0, "nothing lost");
  // Only what the dead member had in hand, unacknowledged: at most the
  // bound of the edge into it.
  assert.ok(doubled <= 256, `${doubled} doubled`);
  assert.deepEqual(
    strangers(seen, dead),
    [],
    `only what the ${what} process had in hand came twice`,
  );
  return doubled;
}

const HEARTBEAT_MS = 1500;

/** Sends a signal with kill(1): Deno.kill() needs --allow-run for all. */
async function signal(pid: number, name: "STOP" | "CONT"): Promise<void> {
  const { success } = await new Deno.Command("kill", {
    args: [`-${name}`, String(pid)],
  }).output();
  assert.ok(success, `kill -${name} ${pid}`);
}

async function guarded<T>(relay: Relay, run: Promise<T>, ms = 90_000) {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      run,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          const state = JSON.stringify(relay.snapshot());
          relay.close({ timeout: 0 });
          reject(new Error(`the run did not settle in ${ms} ms: ${state}`));
        }, ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** A source here, `middle` on workers, the sink here. */
function pipeline(
  url: string,
  run: string,
  count: number,
  delayMs: number,
  concurrency = 1,
) {
  const relay = new Relay({
    maxsize: 256,
    transport: redis({ url, run, heartbeatMs: HEARTBEAT_MS }),
  });
  const source = Object.assign(new Numbers(), { count });
  Object.defineProperty(source, "name", { value: "Numbers-src" });
  relay.connect(
    source,
    group([
      ...[0, 1].map(() =>
        concurrency > 1
          // Calls that end out of order: one in 40 waits 60 ms more.
          ? Object.assign(new Overlap(), {
            delayMs,
            slowEvery: 40,
            slowMs: 60,
          })
          : Object.assign(new Mark(), { delayMs })
      ),
    ], { name: "mark", place: "workers", concurrency }),
    new Keys(),
  );
  return relay;
}

/**
 * SIGKILL of a middle worker process once the sink received `after`
 * messages, its actors running `concurrency` calls at once: nothing is
 * lost, only what the killed process had in hand comes again (at most the
 * edge's bound, flagged redelivered at the member that took it over), and
 * the live process carried the rest. Returns what the actors reported
 * besides the sink's keys.
 */
async function killMiddle(
  url: string,
  name: string,
  count: number,
  after: number,
  concurrency: number,
): Promise<unknown[]> {
  const run = uniqueRun(name);
  const workers = startWorkers(url, run, 2, { slots: 2 });
  try {
    const relay = pipeline(url, run, count, 1, concurrency);
    const reports = Array.fromAsync(relay.reports());
    const done = relay.start({ workers: { wait: 2 } });
    done.catch(() => {});
    await until(
      () => (relay.metrics()?.groups[2].received ?? 0) >= after,
      `the sink to receive ${after} messages`,
    );
    workers[0].child.kill("SIGKILL");
    await guarded(relay, done);
    const values = (await reports).map((r) => r.value);
    const seen = values.find((v): v is Seen =>
      typeof v === "object" && v !== null && "keys" in v
    );
    assert.ok(seen !== undefined, "the sink reported its keys");
    const doubled = onlyHeldCameTwice(seen, count, workers[0].pid, "killed");
    assert.ok(
      seen.pids.includes(workers[1].pid),
      "the live process carried the rest",
    );
    // What it had in hand came again, flagged at the member that took it
    // over: at least the copies that came twice, at most the edge's bound.
    // Each call read its own message's past: this.attempt 2 and
    // this.redelivered for what came again, 1 for the rest, never changed
    // by another call in flight (the middle checks it after its await).
    const flags = flagged(seen, workers[0].pid);
    assert.ok(
      flags >= doubled && flags > 0 && flags <= 256,
      `${flags} flagged redelivered, ${doubled} doubled`,
    );
    return values.filter((v) => v !== seen);
  } finally {
    await stopAll(workers);
  }
}

redisTest(
  "D3: across processes, SIGKILL of a middle worker process loses nothing; its members start again on a live one",
  async (url) => {
    await killMiddle(url, "kill-middle", 4000, 500, 1);
  },
);

redisTest(
  "D23: across processes, SIGKILL of a middle worker process whose actors have 8 calls in flight loses nothing; only what it had in hand comes again, flagged",
  async (url) => {
    const others = await killMiddle(url, "kill-concurrent", 6000, 1000, 8);
    const peaks = others.filter((v) =>
      typeof v === "object" && v !== null && "peak" in v
    ) as { peak: number }[];
    assert.ok(
      peaks.some((p) => p.peak > 1),
      `calls in flight at once: ${peaks.map((p) => p.peak)}`,
    );
  },
);

redisTest(
  "D26: across processes, SIGKILL of a worker process in an ordered run: results({ ordered: true }) still come once each, in order",
  async (url) => {
    const run = uniqueRun("kill-ordered");
    const workers = startWorkers(url, run, 2, { slots: 4 });
    try {
      const count = 4000;
      const relay = new Relay({
        maxsize: 128,
        transport: redis({ url, run, heartbeatMs: HEARTBEAT_MS }),
      });
      relay.connect(
        Object.assign(new Numbers(), { count }),
        group([
          Object.assign(new Sift(), { every: 4 }),
          Object.assign(new Sift(), { every: 4 }),
        ], { name: "sift", place: "workers" }),
        group([
          Object.assign(new Mark(), { delayMs: 1 }),
          Object.assign(new Mark(), { delayMs: 1 }),
        ], { name: "mark", place: "workers" }),
      );
      const results = relay.results<Marked>({ ordered: true });
      const done = relay.start({ workers: { wait: 2 } });
      done.catch(() => {});
      const seqs: number[] = [];
      let flagged = 0;
      await guarded(
        relay,
        (async () => {
          for await (const m of results) {
            seqs.push(m.seq);
            if (m.redelivered) flagged++;
            if (seqs.length === 500) workers[0].child.kill("SIGKILL");
          }
          return await done;
        })(),
      );
      const expected = Array.from({ length: count }, (_, i) => i).filter((
        i,
      ) => i % 4 !== 0);
      // A copy that came again is dropped by the reorder buffer: each once.
      assert.deepEqual(seqs, expected, "each once, in the source's order");
      assert.ok(flagged > 0, "what the killed process had in hand came again");
      const order = relay.metrics()?.order;
      assert.ok(order !== undefined, "ordered metrics");
      assert.equal(order.released, count, "every number released in turn");
      assert.ok(order.peakHeld <= order.window, "the buffer within its window");
    } finally {
      await stopAll(workers);
    }
  },
);

redisTest(
  "D4: across processes, SIGKILL of a last-group worker process loses nothing read by results()",
  async (url) => {
    const run = uniqueRun("kill-last");
    const workers = startWorkers(url, run, 2, { slots: 2 });
    try {
      const count = 4000;
      const relay = new Relay({
        maxsize: 128,
        transport: redis({ url, run, heartbeatMs: HEARTBEAT_MS }),
      });
      const source = Object.assign(new Numbers(), { count });
      Object.defineProperty(source, "name", { value: "Numbers-src" });
      relay.connect(
        source,
        group([
          Object.assign(new Mark(), { delayMs: 1 }),
          Object.assign(new Mark(), { delayMs: 1 }),
        ], { name: "last", place: "workers" }),
      );
      const keys: string[] = [];
      const results = relay.results<{ from: string; seq: number }>();
      const done = relay.start({ workers: { wait: 2 } });
      done.catch(() => {});
      const reading = (async () => {
        for await (const m of results) keys.push(`${m.from}:${m.seq}`);
      })();
      reading.catch(() => {});
      await until(() => keys.length >= 500, "500 results");
      workers[1].child.kill("SIGKILL");
      await guarded(relay, done);
      await reading;
      const { lost, doubled } = tally(keys, count);
      assert.equal(lost, 0, "nothing lost");
      assert.ok(doubled <= 128, `${doubled} doubled`);
    } finally {
      await stopAll(workers);
    }
  },
);

redisTest(
  "D5: across processes, a worker process paused past its heartbeat is fenced, and leaves when resumed",
  async (url) => {
    const run = uniqueRun("stop");
    const workers = startWorkers(url, run, 2, { slots: 2 });
    try {
      const count = 4000;
      const relay = pipeline(url, run, count, 1);
      const reports = Array.fromAsync(relay.reports<Seen>());
      const done = relay.start({ workers: { wait: 2 } });
      done.catch(() => {});
      await until(
        () => (relay.metrics()?.groups[2].received ?? 0) >= 500,
        "the sink to receive 500 messages",
      );
      await signal(workers[0].pid, "STOP");
      // Resumed once the coordinator declared it dead (fenced it).
      const link = await RedisLink.connect({ url });
      try {
        let fenced = 0;
        const poll = setInterval(() => {
          link.command(["SCARD", `baton:${run}:fenced`]).then((n) =>
            fenced = Number(n)
          );
        }, 50);
        try {
          // The set holds a placeholder ("-") from the start.
          await until(() => fenced > 1, "the paused process to be fenced");
        } finally {
          clearInterval(poll);
        }
      } finally {
        await signal(workers[0].pid, "CONT");
        await link.quit();
      }
      await guarded(relay, done);
      const status = await workers[0].status;
      const said = await workers[0].stderr;
      assert.equal(status.code, 1, said);
      assert.match(said, /fenced|declared dead/);
      const [seen] = (await reports).map((r) => r.value);
      const doubled = onlyHeldCameTwice(
        seen,
        count,
        workers[0].pid,
        "paused",
      );
      const flags = flagged(seen, workers[0].pid);
      assert.ok(flags >= doubled, `${flags} flagged, ${doubled} doubled`);
    } finally {
      await stopAll(workers);
    }
  },
);

redisTest(
  "D6: across processes, an entry delivered more than maxDeliveries times fails the run",
  async (url) => {
    const run = uniqueRun("deliveries");
    const workers = startWorkers(url, run, 3, { slots: 1, allowRun: true });
    try {
      const relay = new Relay({
        maxsize: 16,
        transport: redis({
          url,
          run,
          heartbeatMs: HEARTBEAT_MS,
          maxDeliveries: 2,
        }),
      });
      relay.connect(
        Object.assign(new Numbers(), { count: 100 }),
        group([Object.assign(new KillAt(), { at: 50 })], {
          name: "killer",
          place: "workers",
        }),
        new Keys(),
      );
      const error = await guarded(
        relay,
        relay.start({ workers: { wait: 3 } }).then(
          () => assert.fail("the run succeeded"),
          (e) => e,
        ),
      );
      assert.ok(error instanceof RelayError, String(error));
      assert.equal(error.group, "killer");
      assert.match(
        error.message,
        /delivered 3 times, more than maxDeliveries \(2\)/,
      );
    } finally {
      await stopAll(workers);
    }
  },
);

redisTest(
  'D18: across processes, with onError "skip" an entry delivered more than maxDeliveries times goes to the dead letters; delivered and dead letters make what was sent',
  async (url) => {
    const run = uniqueRun("deliveries-skip");
    const workers = startWorkers(url, run, 3, { slots: 1, allowRun: true });
    try {
      const count = 100;
      const relay = new Relay({
        maxsize: 16,
        transport: redis({
          url,
          run,
          heartbeatMs: HEARTBEAT_MS,
          maxDeliveries: 2,
        }),
      });
      relay.connect(
        Object.assign(new Numbers(), { count }),
        group([Object.assign(new KillAt(), { at: 50 })], {
          name: "killer",
          place: "workers",
          onError: "skip",
        }),
        new Keys(),
      );
      const dead = Array.fromAsync(
        relay.deadLetters<{ from: string; seq: number }>(),
      );
      const reports = Array.fromAsync(relay.reports<Seen>());
      const summary = await guarded(
        relay,
        relay.start({ workers: { wait: 3 } }),
      );
      const letters = await dead;
      const [seen] = (await reports).map((r) => r.value);
      assert.ok(letters.length > 0, "dead letters");
      for (const letter of letters) {
        assert.match(letter.actor, /^KillAt-\d+$/);
        assert.equal(letter.group, "killer");
        assert.equal(letter.attempts, 3, "delivered 3 times");
        assert.match(
          letter.error.message,
          /was delivered 3 times, more than maxDeliveries \(2\)/,
        );
      }
      const skipped = letters.map((l) => l.message.seq);
      assert.ok(skipped.includes(50), "the entry that kills is skipped");
      const delivered = seen.keys.map((k) => Number(k.split(":")[1]));
      assert.ok(!delivered.includes(50), "and never handled");
      // Delivered ∪ dead letters = sent: count and checksum.
      const all = new Set([...delivered, ...skipped]);
      assert.equal(all.size, count, "every message delivered or dead");
      assert.equal(
        [...all].reduce((a, b) => a + b, 0),
        count * (count - 1) / 2,
        "checksum",
      );
      assert.equal(new Set(skipped).size, skipped.length, "each dead once");
      assert.equal(summary.groups[1].skipped, letters.length);
    } finally {
      await stopAll(workers);
    }
  },
);

redisTest(
  "D7: across processes, a dead source fails the run",
  async (url) => {
    const run = uniqueRun("source");
    const workers = startWorkers(url, run, 2, { slots: 1 });
    try {
      const relay = new Relay({
        maxsize: 16,
        transport: redis({ url, run, heartbeatMs: HEARTBEAT_MS }),
      });
      relay.connect(
        group([Object.assign(new Numbers(), { count: 1e9 })], {
          name: "source",
          place: "workers",
        }),
        Object.assign(new Keys(), { delayMs: 1 }),
      );
      const done = relay.start({ workers: { wait: 2 } }).then(
        () => assert.fail("the run succeeded"),
        (e) => e,
      );
      await until(
        () => (relay.metrics()?.groups[1].received ?? 0) >= 20,
        "the sink to receive 20 messages",
      );
      for (const w of workers) w.child.kill("SIGKILL");
      const error = await guarded(relay, done);
      assert.ok(error instanceof RelayError, String(error));
      assert.equal(error.group, "source");
      assert.match(error.message, /a source cannot start again/);
    } finally {
      await stopAll(workers);
    }
  },
);

redisTest(
  "D19: across processes, a Redis that restarts mid-run (its data gone) fails the run cleanly, naming it, and every worker process leaves",
  async () => {
    // A server of this test's own: it kills it.
    await using own = await ownRedis();
    const url = own.url;
    const run = uniqueRun("restart");
    const workers = startWorkers(url, run, 2, { slots: 1 });
    try {
      const relay = new Relay({
        maxsize: 64,
        transport: redis({
          url,
          run,
          heartbeatMs: HEARTBEAT_MS,
          // Back long before this: it is the restart that fails the run.
          unreachableMs: 20_000,
        }),
      });
      relay.connect(
        Object.assign(new Numbers(), { count: 1e9 }),
        group([
          Object.assign(new Mark(), { delayMs: 1 }),
          Object.assign(new Mark(), { delayMs: 1 }),
        ], { name: "mark", place: "workers" }),
        new Keys(),
      );
      const done = relay.start({ workers: { wait: 2 } }).then(
        () => assert.fail("the run succeeded"),
        (e) => e,
      );
      await until(
        () => (relay.metrics()?.groups[2].received ?? 0) >= 300,
        "the sink to receive 300 messages",
      );
      await own.kill();
      await own.restart();
      const error = await guarded(relay, done, 30_000);
      assert.ok(error instanceof RelayError, String(error));
      assert.match(
        error.message,
        new RegExp(
          `Redis at redis://127\\.0\\.0\\.1:${own.port}/? restarted during the run`,
        ),
      );
      for (const w of workers) {
        const status = await w.status;
        const said = await w.stderr;
        assert.equal(status.code, 1, said);
        assert.match(said, /restarted during the run|coordinator .* stopped/);
      }
    } finally {
      await stopAll(workers);
    }
  },
);

redisTest(
  "D20: across processes, a Redis killed mid-run that stays down fails the run after unreachableMs, naming it, and every worker process leaves",
  async () => {
    await using own = await ownRedis();
    const url = own.url;
    const run = uniqueRun("down");
    const workers = startWorkers(url, run, 1, {
      slots: 1,
      unreachableMs: 1500,
    });
    try {
      const relay = new Relay({
        maxsize: 64,
        transport: redis({
          url,
          run,
          heartbeatMs: HEARTBEAT_MS,
          unreachableMs: 1500,
        }),
      });
      relay.connect(
        Object.assign(new Numbers(), { count: 1e9 }),
        group([Object.assign(new Mark(), { delayMs: 1 })], {
          name: "mark",
          place: "workers",
        }),
        new Keys(),
      );
      const done = relay.start({ workers: { wait: 1 } }).then(
        () => assert.fail("the run succeeded"),
        (e) => e,
      );
      await until(
        () => (relay.metrics()?.groups[2].received ?? 0) >= 300,
        "the sink to receive 300 messages",
      );
      await own.kill();
      const error = await guarded(relay, done, 30_000);
      assert.ok(error instanceof RelayError, String(error));
      assert.match(
        error.message,
        new RegExp(
          `Redis at redis://127\\.0\\.0\\.1:${own.port}/? was unreachable for more than 1500 ms`,
        ),
      );
      const status = await workers[0].status;
      const said = await workers[0].stderr;
      assert.equal(status.code, 1, said);
      assert.match(said, /unreachable for more than/);
    } finally {
      await stopAll(workers);
    }
  },
);
