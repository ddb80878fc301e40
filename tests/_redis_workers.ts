/**
 * Worker processes that a Redis test starts itself (`cli.ts worker`), so it
 * can kill, pause and resume them, and what they said.
 *
 * @module
 */

const CLI = new URL("../cli.ts", import.meta.url).pathname;

/** A worker process a test started. */
export interface WorkerProcess {
  readonly child: Deno.ChildProcess;
  readonly pid: number;
  /** Its standard error, once it exited. */
  readonly stderr: Promise<string>;
  readonly status: Promise<Deno.CommandStatus>;
}

/** Starts `n` worker processes joining `run`. */
export function startWorkers(
  url: string,
  run: string,
  n: number,
  o: {
    slots?: number;
    heartbeatMs?: number;
    unreachableMs?: number;
    allowRun?: boolean;
    cwd?: string;
  } = {},
): WorkerProcess[] {
  return Array.from({ length: n }, () => {
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--no-check",
        "-R",
        "--allow-net=127.0.0.1",
        "--allow-env=REDIS_DEBUG_MAINTENANCE",
        ...(o.allowRun ? ["--allow-run"] : []),
        o.cwd === undefined ? CLI : "cli.ts",
        "worker",
        "--redis",
        url,
        "--run",
        run,
        "--slots",
        String(o.slots ?? 1),
        "--heartbeat-ms",
        String(o.heartbeatMs ?? 1500),
        ...(o.unreachableMs === undefined
          ? []
          : ["--unreachable-ms", String(o.unreachableMs)]),
      ],
      cwd: o.cwd,
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const stderr = new Response(child.stderr).text();
    return { child, pid: child.pid, stderr, status: child.status };
  });
}

/** Kills every process of `workers` still running, and waits for them. */
export async function stopAll(
  workers: readonly WorkerProcess[],
): Promise<void> {
  for (const w of workers) {
    try {
      w.child.kill("SIGKILL");
    } catch {
      // exited already
    }
  }
  await Promise.all(workers.map((w) => w.status));
  await Promise.all(workers.map((w) => w.stderr));
}
