/**
 * A worker process of a run across processes (`cli.ts worker`): it joins
 * the run by name, proves it is alive with a heartbeat, and runs the
 * members the coordinator sends it, each actor in a Web Worker of its own,
 * their Redis ends bridged in this main thread (`bridge.ts`). What its
 * members say goes to the coordinator as it arrives; their counters go
 * with it.
 *
 * It leaves when the coordinator ends the run, when the coordinator's
 * heartbeat lapses (it died: its members would wait forever), when it
 * finds itself fenced (declared dead while it was paused), or when Redis
 * is lost for good.
 *
 * @module
 */

import type { InitMessage } from "../../common/protocol.ts";
import { createStats, readStats } from "../../common/stats.ts";
import { RedisLink, type Reply, safeUrl } from "../../link/redis/link.ts";
import { RedisTransport } from "../../link/redis/transport.ts";
import { KEY_TTL_MS } from "../../link/redis/scripts.ts";
import type { Member } from "../member.ts";
import { RecvWatch } from "../restart.ts";
import { workerHost } from "../worker_member.ts";
import { bridge, type Bridged, type BridgedDeadLetter } from "./bridge.ts";
import {
  codeHash,
  type DownMessage,
  encode,
  entriesOf,
  memberProcess,
  moduleHash,
  runKeys,
  type UpMessage,
} from "./protocol.ts";

/** What a worker process is started with. */
export interface WorkerProcessOptions {
  /** The Redis the run is on (`redis://host:port`). */
  readonly url: string;
  /** The name of the run to join (the coordinator's `redis({ run })`). */
  readonly run: string;
  /** Most members at once. */
  readonly slots: number;
  /** Heartbeat TTL (ms): the coordinator's and this process's. */
  readonly heartbeatMs?: number;
  /** Redis unreachable for longer than this (ms) makes the process leave. */
  readonly unreachableMs?: number;
  /** Where to say what happens (standard error by default). */
  readonly say?: (line: string) => void;
}

interface Running {
  readonly attempt: number;
  /** The member's own transport: its ends are fenced apart. */
  readonly transport: RedisTransport;
  readonly member: Member;
  readonly bridged: Bridged;
  readonly stats: SharedArrayBuffer;
  last: string;
  /**
   * Dead letters its bridge posted (not its actor) that the run has not
   * acknowledged yet: their acknowledgements are not the actor's.
   */
  bridgeLetters: number;
  /** The watch on a stuck `recv()` (a group restarting on a timeout). */
  watch?: RecvWatch<{ state: "running"; groupIndex: number }>;
}

/** Runs a worker process until its run ends; resolves to its exit code. */
export async function runWorkerProcess(
  o: WorkerProcessOptions,
): Promise<number> {
  const say = o.say ?? ((line: string) => console.error(line));
  const keys = runKeys(o.run);
  const heartbeatMs = o.heartbeatMs ?? 3000;
  let link: RedisLink;
  try {
    link = await RedisLink.connect({
      url: o.url,
      unreachableMs: o.unreachableMs,
    });
  } catch (error) {
    say(`baton worker: ${(error as Error).message}`);
    return 1;
  }
  const host = Deno.permissions.querySync({ name: "sys", kind: "hostname" })
      .state === "granted"
    ? Deno.hostname()
    : "worker";
  const id = `${host}-${Deno.pid}-${crypto.randomUUID().slice(0, 6)}`;
  const members = new Map<string, Running>();
  const ended = Promise.withResolvers<number>();
  let over = false;

  // What goes up, batched per task: one entry for many log records.
  // Its goodbye is its last write: the coordinator deletes the run's keys
  // once every worker process said it.
  let queue: UpMessage[] = [];
  let flushing: Promise<unknown> = Promise.resolve();
  let gone = false;
  const send = (batch: UpMessage[]) => {
    flushing = Promise.all([
      link.command(["XADD", keys.up, "*", "m", encode(batch)]),
      link.command(["PEXPIRE", keys.up, String(KEY_TTL_MS)]),
    ]).catch(() => {});
  };
  const up = (message: UpMessage) => {
    if (gone) return;
    if (message.kind === "bye") gone = true;
    queue.push(message);
    if (queue.length === 1) {
      setTimeout(() => {
        const batch = queue;
        queue = [];
        if (batch.length > 0) send(batch);
      }, 0);
    }
  };
  const flushUp = async () => {
    if (queue.length > 0) {
      const batch = queue;
      queue = [];
      send(batch);
    }
    await flushing;
  };

  const stats = (name: string, running: Running, force = false) => {
    const s = readStats(running.stats, 0);
    // In the order of the cells (RECEIVED, SENT, WAITED_MS, RETRIES,
    // SKIPPED): the coordinator copies them so.
    const values = [
      s.received,
      s.sent,
      s.waitedMs,
      s.retries,
      s.skipped + running.bridged.skipped(),
    ];
    const text = values.join(",");
    if (!force && text === running.last) return;
    running.last = text;
    up({ kind: "stats", member: name, attempt: running.attempt, values });
  };

  const finish = async (code: number, reason: string) => {
    if (over) return;
    over = true;
    clearInterval(timer);
    // A process that was paused past its heartbeat may hear the run end
    // before it hears that it was fenced: it says so, and fails.
    const fenced = await link.command(["SISMEMBER", `${keys.prefix}fenced`, id])
      .then(Number, () => 0);
    if (fenced === 1 && reason !== "fenced") {
      say(
        `baton worker: this process was declared dead (its heartbeat lapsed) and is fenced: leaving`,
      );
      code = 1;
      reason = "fenced";
    }
    for (const [name, running] of members) {
      running.watch?.stop();
      running.member.terminate();
      running.bridged.close();
      running.transport.closeAll();
      stats(name, running, true);
    }
    members.clear();
    up({ kind: "bye", worker: id, reason });
    await flushUp();
    await link.quit();
    ended.resolve(code);
  };

  link.onFailure((error) => {
    say(`baton worker: ${error.message}`);
    over = true;
    for (const running of members.values()) {
      running.watch?.stop();
      running.member.terminate();
      running.bridged.close();
      running.transport.closeAll();
    }
    link.close();
    ended.resolve(1);
  });

  const spawn = async (m: Extract<DownMessage, { kind: "spawn" }>) => {
    const module = m.relative === undefined
      ? m.init.module
      : new URL(m.relative, `file://${Deno.cwd()}/`).href;
    let hash: string;
    try {
      hash = await moduleHash(module);
    } catch (error) {
      up({
        kind: "failure",
        member: m.member,
        attempt: m.attempt,
        message: `cannot read its module ${module}: ${
          (error as Error).message
        }`,
        exited: false,
      });
      return;
    }
    if (hash !== m.moduleHash) {
      up({
        kind: "failure",
        member: m.member,
        attempt: m.attempt,
        message:
          `was refused: its module ${module} (or a module it imports) differs from the coordinator's (SHA-256 ${
            hash.slice(0, 12)
          }… here, ${
            m.moduleHash.slice(0, 12)
          }… there); every process of a run must run the same code`,
        exited: false,
      });
      return;
    }
    const buffer = createStats(1);
    const init: InitMessage = {
      ...m.init,
      module,
      stats: { buffer, index: 0 },
    };
    // Set below, before any entry is read.
    // deno-lint-ignore prefer-const
    let running: Running;
    const deadLetters = async (letters: readonly BridgedDeadLetter[]) => {
      running.bridgeLetters += letters.length;
      // In Redis before the entry is acknowledged (a failure fails it).
      const batch: UpMessage[] = letters.map((data) => ({
        kind: "member",
        member: m.member,
        attempt: m.attempt,
        data,
      }));
      await link.command(["XADD", keys.up, "*", "m", encode(batch)]);
    };
    /** Reports a failure of the member's own (not of its worker's exit). */
    const failed = (error: Error) =>
      up({
        kind: "failure",
        member: m.member,
        attempt: m.attempt,
        message: error.message,
        exited: false,
      });
    const own = memberProcess(id, m.member, m.attempt);
    const transport = new RedisTransport(link, { run: o.run, process: own });
    const bridged = bridge(init, transport, (error) => {
      // This member alone was fenced: it is restarting, and this
      // incarnation is being terminated.
      if (/FENCED/.test(error.message) && error.message.includes(own)) return;
      if (/FENCED/.test(error.message)) {
        say(
          `baton worker: this process was declared dead (its heartbeat lapsed) and is fenced: leaving`,
        );
        finish(1, "fenced");
        return;
      }
      failed(error);
    }, deadLetters);
    running = {
      attempt: m.attempt,
      transport,
      member: undefined!,
      bridged,
      stats: buffer,
      last: "",
      bridgeLetters: 0,
    };
    const member = workerHost.spawn({
      name: m.member,
      actor: undefined!,
      init: bridged.init,
      transfer: bridged.transfer,
      permissions: m.permissions,
    }, {
      message: (data) => {
        const kind = (data as { kind?: unknown })?.kind;
        if (kind === "done" || kind === "stopped" || kind === "exit") {
          running.watch?.stop();
          stats(m.member, running, true);
        }
        // An error says where it happened: the RelayError names the host.
        if (kind === "error") {
          const error = data as { hint?: unknown };
          const where =
            `it ran in the worker process on ${host}, pid ${Deno.pid}`;
          data = {
            ...error,
            hint: typeof error.hint === "string"
              ? `${error.hint}; ${where}`
              : where,
          };
        }
        up({ kind: "member", member: m.member, attempt: m.attempt, data });
      },
      failure: (error, exited) =>
        up({
          kind: "failure",
          member: m.member,
          attempt: m.attempt,
          message: error.message,
          exited: exited === true,
        }),
    });
    (running as { member: Member }).member = member;
    members.set(m.member, running);
    // A synchronous recv() stuck past the group's limit, under "restart":
    // its thread cannot be interrupted, so its worker is terminated here and
    // the coordinator restarts the actor (as a relay does in one process).
    running.watch = new RecvWatch(
      [{ state: "running", groupIndex: 0 }],
      [init.policy],
      buffer,
      (_, error) => {
        running.watch?.stop();
        if (members.get(m.member) !== running) return;
        say(`baton worker: ${m.member}: ${error.message}`);
        failed(error);
        running.member.terminate();
      },
    );
  };

  const hear = (m: DownMessage) => {
    switch (m.kind) {
      case "spawn":
        spawn(m);
        return;
      case "post": {
        const running = members.get(m.member);
        if (running === undefined) return;
        if (m.message.kind === "deadAck" && running.bridgeLetters > 0) {
          running.bridgeLetters--;
          return;
        }
        running.member.post(m.message);
        return;
      }
      case "terminate": {
        const running = members.get(m.member);
        if (running === undefined) return;
        members.delete(m.member);
        stats(m.member, running, true);
        running.watch?.stop();
        running.member.terminate();
        running.bridged.close();
        running.transport.closeAll();
        return;
      }
      case "end":
        finish(0, m.reason);
        return;
      case "refuse":
        say(`baton worker: refused by run ${o.run}: ${m.reason}`);
        finish(1, m.reason);
        return;
    }
  };

  // Heartbeats, counters, and the coordinator's heartbeat.
  let seenCoordinator = false;
  // Set once the first beat is done; finish() above may run before.
  // deno-lint-ignore prefer-const
  let timer: ReturnType<typeof setInterval> | undefined;
  const beat = async () => {
    if (over) return;
    try {
      await link.command([
        "SET",
        keys.heartbeat(id),
        "1",
        "PX",
        String(heartbeatMs),
      ]);
      for (const [name, running] of members) stats(name, running);
      const coordinator = Number(
        await link.command(["EXISTS", keys.coordinator]),
      );
      if (coordinator === 1) seenCoordinator = true;
      else if (seenCoordinator && !over) {
        say(
          `baton worker: the coordinator of run ${o.run} stopped sending heartbeats: leaving`,
        );
        finish(1, "the coordinator is gone");
      }
      const fenced = Number(
        await link.command(["SISMEMBER", `${keys.prefix}fenced`, id]),
      );
      if (fenced === 1 && !over) {
        say(
          `baton worker: this process was declared dead (its heartbeat lapsed) and is fenced: leaving`,
        );
        finish(1, "fenced");
      }
    } catch {
      // A lost link ends the process through onFailure.
    }
  };
  await beat();
  timer = setInterval(beat, heartbeatMs / 3);

  up({
    kind: "hello",
    worker: id,
    slots: o.slots,
    host,
    pid: Deno.pid,
    code: await codeHash(),
  });
  say(
    `baton worker: ${id} joined run ${o.run} on ${
      safeUrl(o.url)
    } with ${o.slots} slots`,
  );

  // The inbox.
  (async () => {
    let last = "0-0";
    const b = await link.borrow();
    try {
      while (!over) {
        const reply = await link.read(b, [
          "XREAD",
          "BLOCK",
          "1000",
          "STREAMS",
          keys.inbox(id),
          last,
        ]) as Reply;
        for (const [entry, messages] of entriesOf(reply)) {
          last = entry;
          for (const m of messages as DownMessage[]) hear(m);
        }
      }
    } catch (error) {
      if (!over) {
        say(`baton worker: ${(error as Error).message}`);
        finish(1, "its inbox failed");
      }
    } finally {
      link.giveBack(b);
    }
  })();

  const code = await ended.promise;
  clearInterval(timer);
  return code;
}
