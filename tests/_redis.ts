/**
 * The Redis the Redis tests run against: the URL in `BATON_REDIS_URL`
 * (`.ci/run` starts a redis-server of its own and sets it). Without it, the
 * Redis tests are ignored, saying so once on standard error; under
 * `CI=true` its absence fails a test instead.
 *
 * @module
 */

/** The URL of the Redis to test against, if one was given. */
export const REDIS_URL: string | undefined = Deno.env.get("BATON_REDIS_URL") ||
  undefined;

const IN_CI = Deno.env.get("CI") === "true";

let said = false;

/**
 * Registers a Redis test: ignored (visibly) without `BATON_REDIS_URL`, a
 * failing test instead under `CI=true`.
 */
export function redisTest(
  name: string,
  fn: (url: string, t: Deno.TestContext) => Promise<void>,
  options: { sanitizeOps?: boolean; sanitizeResources?: boolean } = {},
): void {
  if (REDIS_URL === undefined) {
    if (IN_CI) {
      Deno.test(name, () => {
        throw new Error(
          "BATON_REDIS_URL is not set, and CI must run the Redis tests (.ci/run starts a redis-server and sets it)",
        );
      });
      return;
    }
    if (!said) {
      said = true;
      console.error(
        "Redis tests ignored: BATON_REDIS_URL is not set (apt-get install redis-server, start it, and set BATON_REDIS_URL=redis://127.0.0.1:<port>; .ci/run does)",
      );
    }
    Deno.test({ name, ignore: true, fn: () => {} });
    return;
  }
  const url = REDIS_URL;
  Deno.test({ name, ...options, fn: (t) => fn(url, t) });
}

/**
 * The keys of run `run` left on the Redis at `url` (a run deletes them all
 * when it settles). The Redis client loads only when this is called.
 */
export async function keysOf(url: string, run: string): Promise<string[]> {
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

/** A run name no other test (or test process) uses. */
export function uniqueRun(prefix: string): string {
  return `${prefix}-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
}

/**
 * A TCP proxy in front of the Redis at `url`, on a free port of 127.0.0.1:
 * `cut()` closes it and every connection through it, so that Redis is
 * unreachable for whoever used `proxy.url`.
 */
export function redisProxy(url: string): { url: string; cut: () => void } {
  const target = new URL(url);
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const open = new Set<Deno.Conn>();
  let cut = false;
  (async () => {
    for await (const conn of listener) {
      if (cut) {
        conn.close();
        continue;
      }
      open.add(conn);
      (async () => {
        let upstream: Deno.Conn | undefined;
        try {
          upstream = await Deno.connect({
            hostname: target.hostname,
            port: Number(target.port || 6379),
          });
          open.add(upstream);
          await Promise.all([
            conn.readable.pipeTo(upstream.writable),
            upstream.readable.pipeTo(conn.writable),
          ]);
        } catch {
          // cut, or closed by either side
        } finally {
          for (const c of [conn, upstream]) {
            if (c === undefined) continue;
            open.delete(c);
            try {
              c.close();
            } catch {
              // closed already
            }
          }
        }
      })();
    }
  })().catch(() => {});
  const port = (listener.addr as Deno.NetAddr).port;
  return {
    url: `redis://127.0.0.1:${port}`,
    cut: () => {
      cut = true;
      listener.close();
      for (const c of open) {
        try {
          c.close();
        } catch {
          // closed already
        }
      }
      open.clear();
    },
  };
}

/** A redis-server a test started itself (to kill it), on a free port. */
export interface OwnRedis {
  readonly url: string;
  readonly port: number;
  /** Kills it (SIGKILL): what it held is gone (`--save ''`). */
  kill(): Promise<void>;
  /** Starts it again on the same port, empty; resolves once it answers. */
  restart(): Promise<void>;
}

/**
 * Starts a redis-server of the test's own (`redis-server` on the PATH, as
 * where `BATON_REDIS_URL` is set) on a free port of 127.0.0.1, without
 * persistence; resolves once it accepts connections.
 */
export async function ownRedis(): Promise<OwnRedis & AsyncDisposable> {
  const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (probe.addr as Deno.NetAddr).port;
  probe.close();
  let child: Deno.ChildProcess | undefined;
  const start = async () => {
    child = new Deno.Command("redis-server", {
      args: [
        "--bind",
        "127.0.0.1",
        "--port",
        String(port),
        "--save",
        "",
        "--appendonly",
        "no",
      ],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    const deadline = performance.now() + 10_000;
    for (;;) {
      try {
        (await Deno.connect({ hostname: "127.0.0.1", port })).close();
        return;
      } catch {
        if (performance.now() > deadline) {
          throw new Error(`redis-server did not listen on port ${port}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }
  };
  const kill = async () => {
    const c = child;
    child = undefined;
    if (c === undefined) return;
    try {
      c.kill("SIGKILL");
    } catch {
      // exited
    }
    await c.status;
  };
  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    kill,
    restart: start,
    [Symbol.asyncDispose]: kill,
  };
}
