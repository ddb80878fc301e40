/**
 * A pipeline file's `transport: { redis: … }`, `workers:` and `place:`,
 * checked at their keys with the rules of `redis()`, `start({ workers })`
 * and `group()`, without Redis (the runs are in `tests/redis_cli_test.ts`).
 *
 * @module
 */

import assert from "node:assert/strict";
import { ConfigFileError, loadPipeline } from "../../config.ts";
import { describePipeline } from "../../src/config/pipeline.ts";
import { redis } from "../../redis.ts";

const fixtures = new URL("../fixtures/pipeline/", import.meta.url);
const fixture = (name: string) =>
  new URL(name, fixtures).pathname.replace(`${Deno.cwd()}/`, "");

/** The problems of a rejected `loadPipeline()` as `line:column path: message`. */
async function problems(name: string): Promise<string[]> {
  const error = await loadPipeline(fixture(name)).then(
    () => assert.fail(`${name} loaded without error`),
    (e) => e,
  );
  assert.ok(error instanceof ConfigFileError, String(error));
  return error.problems.map((p) =>
    `${p.line}:${p.column} ${p.path}: ${p.message}`
  );
}

/** What `f()` throws, without its "Cannot use Redis: " and the like. */
function message(f: () => unknown): string {
  try {
    f();
  } catch (error) {
    return (error as Error).message.replace(/^[^:]+: /, "");
  }
  return assert.fail("no error");
}

Deno.test("A pipeline file's transport: { redis } is refused at its keys with redis()'s own words", async () => {
  const found = await problems("bad_redis.yaml");
  assert.deepEqual(found, [
    '4:10 transport.redis.url: url must be a redis:// URL with a host, such as redis://10.0.0.5:6379, received "http://10.0.0.5:6379"',
    '5:10 transport.redis.run: run must be 1 to 100 letters, digits, ".", "_" or "-", received "nightly 1201"',
    "6:18 transport.redis.heartbeatMs: heartbeatMs must be a whole number from 1, received 0",
    '7:5 transport.redis: unknown key "colour"; use one of url, run, unreachableMs, heartbeatMs, joinTimeoutMs, maxDeliveries, slots, batch',
    "8:10 workers: workers must be { wait: n } or { spawn: n } with n a whole number of processes from 1, received { spawn: 0 }",
    '10:67 groups.numbers.onError: group numbers is a group of sources placed on workers with onError "restart", which cannot restart across processes for now; use onError "fail", or place it here',
    '11:47 groups.double.place: place must be "workers" or "here", received "there"',
  ]);
  const text = (line: string) => line.replace(/^\S+ \S+: /, "");
  assert.equal(
    message(() => redis({ url: "http://10.0.0.5:6379", run: "r" })),
    text(found[0]),
  );
  assert.equal(
    message(() => redis({ url: "redis://x", run: "nightly 1201" })),
    text(found[1]),
  );
  assert.equal(
    message(() => redis({ url: "redis://x", run: "r", heartbeatMs: 0 })),
    text(found[2]),
  );
  assert.match(
    message(() => redis({ url: "redis://", run: "r" })),
    /url must be a redis:\/\/ URL with a host/,
  );
});

Deno.test("A pipeline file places groups on workers only with a transport, and says which worker processes", async () => {
  assert.deepEqual(await problems("bad_place.yaml"), [
    "2:1 workers: workers are the worker processes of a run across processes, which needs transport: { redis: { url: redis://10.0.0.5:6379, run: nightly-1201 } }; or leave workers out",
    "5:47 groups.double.place: group double is placed on workers, which needs transport: { redis: { url: redis://10.0.0.5:6379, run: nightly-1201 } } at the top of the file; or leave place out, to run it in this process",
  ]);
  assert.deepEqual(await problems("no_workers.yaml"), [
    "2:1 transport: group double is placed on workers; say which worker processes run it with workers: { spawn: n } (started here) or workers: { wait: n } (started with cli.ts worker)",
  ]);
  assert.deepEqual(await problems("restart_near_workers.yaml"), [
    '8:47 groups.total.onError: group total has onError "restart" next to group double, which is placed on workers: an actor here cannot restart on an edge across processes for now; use onError "fail" or "skip", or place it on workers too',
  ]);
  assert.deepEqual(await problems("bad_transport.yaml"), [
    '2:14 transport: unknown key "kafka"; use one of redis',
  ]);
});

Deno.test("A pipeline file with transport: { redis } builds the relay redis() builds, connecting to nothing", async () => {
  const pipeline = await loadPipeline(fixture("redis.yaml"));
  assert.deepEqual(pipeline.redis, {
    url: "redis://:secret@127.0.0.1:1",
    run: "nightly-1201",
    heartbeatMs: 1500,
    maxDeliveries: 2,
  });
  assert.deepEqual(pipeline.workers, { spawn: 2 });
  assert.equal(pipeline.options.transport?.kind, "redis");
  assert.deepEqual(pipeline.groups.map((g) => g.place), [
    undefined,
    "workers",
    undefined,
  ]);
  const described = describePipeline(pipeline);
  assert.match(described, /double +2 × Double .* on workers$/m);
  assert.match(
    described,
    /^transport: redis redis:\/\/:\*\*\*@127\.0\.0\.1:1, run nightly-1201, 2 worker processes started here$/m,
  );
  assert.doesNotMatch(described, /secret/);
});
