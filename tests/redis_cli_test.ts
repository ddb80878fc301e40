/**
 * A pipeline file across processes, run by `cli.ts` as a user runs it:
 * `transport: { redis: … }`, `workers:` and `place: workers`, a real
 * redis-server (`BATON_REDIS_URL`) and worker processes really spawned.
 *
 * @module
 */

import assert from "node:assert/strict";
import { keysOf, redisTest, uniqueRun } from "./_redis.ts";
import { startWorkers, stopAll } from "./_redis_workers.ts";

const CLI = new URL("../cli.ts", import.meta.url).pathname;
const ACTORS = new URL("./fixtures/redis_actors.ts", import.meta.url).href;

async function scratch(): Promise<string> {
  await Deno.mkdir("/tmp/baton-tests", { recursive: true });
  return await Deno.makeTempDir({ dir: "/tmp/baton-tests", prefix: "yaml-" });
}

/** Runs cli.ts on `file` with `lines` on standard input. */
async function cli(file: string, lines: readonly string[]) {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--no-check",
      "-R",
      "--allow-net=127.0.0.1",
      "--allow-env=REDIS_DEBUG_MAINTENANCE",
      `--allow-run=${Deno.execPath()}`,
      CLI,
      "--no-progress",
      file,
    ],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(lines.join("\n") + "\n"));
  await writer.close();
  const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
  const out = await child.output();
  clearTimeout(timer);
  return {
    pid: child.pid,
    code: out.code,
    stdout: new TextDecoder().decode(out.stdout),
    stderr: new TextDecoder().decode(out.stderr),
  };
}

/** Each input line once, tagged with a process; the processes seen. */
function tagged(stdout: string, count: number): Set<number> {
  const got = stdout.trimEnd().split("\n");
  assert.equal(got.length, count, `${got.length} lines out`);
  const seen = new Map<number, number>();
  const pids = new Set<number>();
  for (const line of got) {
    const [n, pid] = line.split(" ").map(Number);
    seen.set(n, (seen.get(n) ?? 0) + 1);
    pids.add(pid);
  }
  assert.equal(seen.size, count, "each line once");
  for (let i = 0; i < count; i++) assert.equal(seen.get(i), 1, `line ${i}`);
  return pids;
}

redisTest(
  "D14: across processes, cli.ts runs a pipeline file with transport: { redis }, place: workers and workers: { spawn: 2 }",
  async (url) => {
    const dir = await scratch();
    try {
      const run = uniqueRun("yaml");
      const file = `${dir}/across.yaml`;
      await Deno.writeTextFile(
        file,
        `maxsize: 64
input: lines
transport:
  redis: { url: "${url}", run: ${run} }
workers: { spawn: 2 }
groups:
  tag: { actor: "${ACTORS}#Tag", count: 2, place: workers }
`,
      );
      const count = 2000;
      const lines = Array.from({ length: count }, (_, i) => String(i));
      const { pid, code, stdout, stderr } = await cli(file, lines);
      assert.equal(code, 0, stderr);
      const pids = tagged(stdout, count);
      assert.equal(pids.size, 2, "through both worker processes");
      assert.ok(!pids.has(pid), "not through the coordinator");
      assert.match(
        stderr,
        /baton: finished in .* \(received\/sent: .*tag 2000\/2000/,
      );
      assert.deepEqual(await keysOf(url, run), [], "every key deleted");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);

redisTest(
  "D15: across processes, cli.ts runs a pipeline file whose workers: { wait: 1 } joins a worker process started on its own",
  async (url) => {
    const dir = await scratch();
    const run = uniqueRun("yaml-wait");
    const workers = startWorkers(url, run, 1, { slots: 2 });
    try {
      const file = `${dir}/wait.yaml`;
      await Deno.writeTextFile(
        file,
        `input: lines
transport:
  redis: { url: "${url}", run: ${run}, joinTimeoutMs: 30000 }
workers: { wait: 1 }
groups:
  tag: { actor: "${ACTORS}#Tag", count: 2, place: workers }
`,
      );
      const lines = Array.from({ length: 500 }, (_, i) => String(i));
      const { code, stdout, stderr } = await cli(file, lines);
      assert.equal(code, 0, stderr);
      assert.deepEqual([...tagged(stdout, 500)], [workers[0].pid]);
      assert.equal((await workers[0].status).code, 0, await workers[0].stderr);
    } finally {
      await stopAll(workers);
      await Deno.remove(dir, { recursive: true });
    }
  },
);

redisTest(
  "D16: across processes, cli.ts fails cleanly (exit 1, naming Redis) when the file's Redis is not there",
  async () => {
    const dir = await scratch();
    try {
      const file = `${dir}/down.yaml`;
      await Deno.writeTextFile(
        file,
        `input: lines
transport:
  redis: { url: "redis://127.0.0.1:1", run: down, unreachableMs: 500 }
workers: { spawn: 1 }
groups:
  tag: { actor: "${ACTORS}#Tag", place: workers }
`,
      );
      const { code, stderr } = await cli(file, ["a"]);
      assert.equal(code, 1, stderr);
      assert.match(
        stderr,
        /Cannot connect to Redis at redis:\/\/127\.0\.0\.1:1/,
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);
