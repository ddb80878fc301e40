/**
 * The coordinator of a run across processes: the process that called
 * `relay.start()`. Its run is the usual one (`host/run.ts`): it hears
 * every member, decides every failure and settles once. What changes is
 * where members run and what carries the edges:
 *
 * - a member of a group placed on `"workers"` is a {@linkcode RemoteMember}:
 *   its init message goes to a worker process's inbox, its control
 *   messages come back on the run's `up` stream;
 * - an edge with a side on workers is a Redis edge; the others (and the
 *   input and results edges of groups that stay here) stay port edges;
 * - a member here with a Redis end gets it bridged over port links
 *   (`bridge.ts`), as worker processes do.
 *
 * Worker processes prove they are alive with heartbeats (a key with a
 * TTL); one whose heartbeat lapses is fenced (every script refuses it from
 * then on), its members' credit reserves are given back, and its members
 * are started again on live processes, where they take over its
 * unacknowledged entries (at least once for those). A dead member of the
 * first group fails the run: its source would start over. An actor on
 * workers that fails under `onError: "restart"` is fenced alone (each
 * member's ends have a process id of their own) and started again the same
 * way. Every key of the run expires unless the coordinator keeps
 * refreshing it, and is deleted when the run settles.
 *
 * @module
 */

import type { Buffer } from "node:buffer";
import type { InitMessage, ToWorker } from "../../common/protocol.ts";
import { WIDTH } from "../../common/stats.ts";
import { registerTransport } from "../../link/ends.ts";
import { portTransport } from "../../link/port/transport.ts";
import {
  type Blocking,
  RedisLink,
  type Reply,
  safeUrl,
} from "../../link/redis/link.ts";
import { KEY_TTL_MS } from "../../link/redis/scripts.ts";
import {
  consumerOf,
  type RedisEnd,
  RedisTransport,
} from "../../link/redis/transport.ts";
import type {
  EdgeEnd,
  EdgeHandle,
  EdgeShape,
  ReceiverEndSpec,
  RelinkSpec,
  Restarted,
  SenderEndSpec,
  Transport,
} from "../../link/transport.ts";
import type {
  OpenedRun,
  PlacedRun,
  RelayTransport,
  WorkersOption,
} from "../../options.ts";
import type {
  Member,
  MemberEvents,
  MemberHost,
  MemberSpec,
} from "../member.ts";
import { workerHost } from "../worker_member.ts";
import { bridge, type Bridged, isRedisEnd } from "./bridge.ts";
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
import { checkRedisOptions, type RedisOptions } from "./options.ts";

export type { RedisOptions };

/** Makes the `transport` of a relay across processes, on Redis. */
export function redisPlacement(options: RedisOptions): RelayTransport {
  checkRedisOptions(options);
  return {
    kind: "redis",
    open: (run) => new Coordinator(options, run).opened,
  };
}

/** A worker process that joined, as the coordinator knows it. */
interface Joined {
  readonly id: string;
  readonly slots: number;
  readonly host: string;
  readonly pid: number;
  /** Members it runs now, by name. */
  readonly members: Set<string>;
  dead: boolean;
  left: boolean;
}

/** A member placed on a worker process. */
interface Remote {
  spec: MemberSpec;
  events: MemberEvents;
  worker: Joined;
  attempt: number;
  /** The member ended (done, stopped, failed) or was terminated. */
  over: boolean;
  handle: RemoteMember;
  /** Consumers of the earlier attempts, for a restarted receiver. */
  readonly consumers: string[];
  /**
   * Each attempt's counters as last heard (cells from RECEIVED on): the
   * member's are their sums, so an actor started again counts on.
   */
  readonly counts: Map<number, readonly number[]>;
}

/** A member of a group here whose ends are Redis ends (bridged). */
interface Local {
  readonly init: InitMessage;
  readonly bridged: Bridged;
  readonly events: MemberEvents;
  /**
   * Its incarnation's own process id, in a restarting group (its Redis
   * ends are fenced apart, as a worker process's members are), else none:
   * the coordinator's transport.
   */
  readonly own: string | undefined;
  readonly transport: RedisTransport;
  readonly attempt: number;
  /** Consumers of the earlier attempts, for a restarted receiver. */
  readonly consumers: readonly string[];
}

/** One run's coordinator. */
class Coordinator {
  readonly opened: OpenedRun;
  readonly #options: RedisOptions;
  readonly #run: PlacedRun;
  readonly #keys: ReturnType<typeof runKeys>;
  readonly #heartbeatMs: number;
  readonly #remoteGroups: Set<string>;
  #link: RedisLink | undefined;
  #transport: RedisTransport | undefined;
  #unregister: (() => void) | undefined;
  readonly #workers = new Map<string, Joined>();
  readonly #refused: string[] = [];
  readonly #remotes = new Map<string, Remote>();
  readonly #local = new Map<string, Local>();
  readonly #children: Deno.ChildProcess[] = [];
  readonly #edges: { edge: string; shape: EdgeShape }[] = [];
  #upId = "0-0";
  #timer: ReturnType<typeof setInterval> | undefined;
  #closing: Promise<void> | undefined;
  /** The heartbeat in progress, if one is. */
  #beating: Promise<void> | undefined;
  #closed = false;
  #stats: SharedArrayBuffer | undefined;
  /** Why a spawned worker process is gone, if one is. */
  #exited: string | undefined;

  constructor(options: RedisOptions, run: PlacedRun) {
    this.#options = options;
    this.#run = run;
    this.#keys = runKeys(options.run);
    this.#heartbeatMs = options.heartbeatMs ?? 3000;
    this.#remoteGroups = new Set(
      run.groups.filter((g) => g.place === "workers").map((g) => g.name),
    );
    const host: MemberHost = {
      kind: "worker",
      preflight: () => workerHost.preflight?.(),
      prepare: () => this.#prepare(),
      spawn: (spec, events) => this.#spawn(spec, events),
      close: () => {
        this.#closing ??= this.#close();
      },
    };
    const transport: Transport = {
      name: "redis-or-port",
      createEdge: (shape) => this.#createEdge(shape),
      openSender: (spec, onFailure) =>
        this.#transportOf(spec).openSender(spec, onFailure),
      openReceiver: (spec) => this.#transportOf(spec).openReceiver(spec),
      transferables: (spec) => this.#transportOf(spec).transferables(spec),
      discard: (spec) => this.#transportOf(spec).discard(spec),
    };
    this.opened = {
      host,
      transport,
      settled: async () => {
        this.#closing ??= this.#close();
        await this.#closing;
      },
    };
  }

  #transportOf(spec: EdgeEnd | RelinkSpec): Transport {
    return isRedisEnd(spec) ? this.#transport! : portTransport;
  }

  #createEdge(shape: EdgeShape): EdgeHandle {
    const remote = this.#remoteGroups.has(shape.from) ||
      this.#remoteGroups.has(shape.to);
    if (!remote) return portTransport.createEdge(shape);
    const edge = this.#transport!.createEdge(shape);
    const id = (edge.senders[0] as SenderEndSpec & RedisEnd).edge;
    this.#edges.push({ edge: id, shape });
    return {
      ...edge,
      state: () => edge.state(),
      close: () => edge.close(),
      restartReceiver: (index) =>
        this.#restartEnd(id, shape.to, "inlet", edge.receivers[index]),
      restartSender: (index) =>
        this.#restartEnd(id, shape.from, "outlet", edge.senders[index]),
    };
  }

  /**
   * An actor on workers restarts (`onError: "restart"`): its incarnation's
   * own process id is fenced (nothing it does afterwards counts) and, for a
   * sender, the credits it held go back to the edge. Its new incarnation
   * takes over what its receiving end had in hand (`#spawn` adopts it), and
   * needs no relink: a Redis edge's peers do not know who is at the end.
   */
  #restartEnd<E extends ReceiverEndSpec | SenderEndSpec>(
    edge: string,
    group: string,
    side: "inlet" | "outlet",
    spec: E,
  ): Restarted<E> {
    const local = [...this.#local.values()].find((l) =>
      l.own !== undefined && l.init.group === group &&
      l.init[side]?.index === spec.index
    );
    if (local !== undefined) {
      this.#transport!.fence(
        edge,
        local.own!,
        side === "outlet" ? [spec.index] : [],
      ).catch(() => {});
      return { end: spec, peers: [], lost: 0 };
    }
    const r = [...this.#remotes.values()].find((r) =>
      r.spec.init.group === group && r.spec.init[side]?.index === spec.index
    );
    if (r === undefined) {
      throw new Error(
        `an actor of group ${group} cannot restart here: its edge runs across processes`,
      );
    }
    this.#transport!.fence(
      edge,
      memberProcess(r.worker.id, r.spec.name, r.attempt),
      side === "outlet" ? [spec.index] : [],
    ).catch(() => {});
    return { end: spec, peers: [], lost: 0 };
  }

  /** Connects, joins the worker processes, and assigns the members. */
  async #prepare(): Promise<void> {
    const o = this.#options;
    const link = this.#link = await RedisLink.connect({
      url: o.url,
      unreachableMs: o.unreachableMs,
    });
    link.onFailure((error) => this.#lost(error));
    const claimed = await link.command([
      "SET",
      this.#keys.coordinator,
      String(Deno.pid),
      "NX",
      "PX",
      String(this.#heartbeatMs),
    ]);
    if (claimed === null) {
      link.close();
      this.#closed = true;
      throw new Error(
        `Cannot start relay: a run named ${o.run} is already running on Redis at ${
          safeUrl(o.url)
        }; give each run a name of its own`,
      );
    }
    this.#transport = new RedisTransport(link, {
      run: o.run,
      process: "coordinator",
      maxDeliveries: o.maxDeliveries ?? 3,
      entry: o.batch,
    });
    this.#unregister = registerTransport(this.#transport);
    this.#timer = setInterval(() => {
      this.#beating ??= this.#beat().finally(() => (this.#beating = undefined));
    }, this.#heartbeatMs / 3);
    const remote = this.#run.groups.filter((g) => g.place === "workers");
    if (remote.length === 0) return;
    const needed = remote.reduce((n, g) => n + g.size, 0);
    const workers = this.#run.workers!;
    if ("spawn" in workers) this.#spawnWorkers(workers.spawn, needed);
    await this.#join(workers, needed);
    this.#read();
  }

  /** Starts `n` worker processes on this machine. */
  #spawnWorkers(n: number, needed: number): void {
    const o = this.#options;
    const slots = o.slots ?? Math.ceil(needed / n);
    const url = new URL(o.url);
    const cli = new URL("../../../cli.ts", import.meta.url);
    const sandboxed = this.#run.groups.some((g) =>
      g.place === "workers" && g.permissions !== undefined
    );
    for (let i = 0; i < n; i++) {
      const child = new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "--no-check",
          "-R",
          `--allow-net=${url.hostname}:${url.port || "6379"}`,
          "--allow-env=REDIS_DEBUG_MAINTENANCE",
          ...(sandboxed ? ["--unstable-worker-options"] : []),
          cli.pathname,
          "worker",
          "--redis",
          o.url,
          "--run",
          o.run,
          "--slots",
          String(slots),
          "--heartbeat-ms",
          String(this.#heartbeatMs),
          ...(o.unreachableMs === undefined
            ? []
            : ["--unreachable-ms", String(o.unreachableMs)]),
        ],
        stdin: "null",
        stdout: "null",
        stderr: "inherit",
      }).spawn();
      this.#children.push(child);
      child.status.then((status) => {
        this.#exited ??=
          `a worker process it started exited with code ${status.code} before the run ended`;
      });
    }
  }

  /**
   * The messages of the worker processes past those read, waiting up to
   * `ms` for some on the blocking connection `b`.
   */
  async #readUp(b: Blocking, ms: number): Promise<UpMessage[]> {
    const reply = await this.#link!.read(b, [
      "XREAD",
      "BLOCK",
      String(ms),
      "STREAMS",
      this.#keys.up,
      this.#upId,
    ]) as Reply;
    const messages: UpMessage[] = [];
    for (const [id, batch] of entriesOf(reply)) {
      this.#upId = id;
      messages.push(...batch as UpMessage[]);
    }
    return messages;
  }

  /** Reads hellos until enough worker processes joined. */
  async #join(workers: WorkersOption, needed: number): Promise<void> {
    const link = this.#link!;
    const want = "wait" in workers ? workers.wait : workers.spawn;
    const timeout = this.#options.joinTimeoutMs ?? 30_000;
    const deadline = Date.now() + timeout;
    const code = await codeHash();
    const b = await link.borrow();
    try {
      while (this.#workers.size < want) {
        if (this.#exited !== undefined) {
          throw new Error(`Cannot start relay: ${this.#exited}`);
        }
        const left = deadline - Date.now();
        if (left <= 0) {
          const refused = this.#refused.length > 0
            ? `; refused ${this.#refused.join(", ")}`
            : "";
          throw new Error(
            `Cannot start relay: ${this.#workers.size} of ${want} worker processes joined run ${this.#options.run} within ${timeout} ms${refused}; start them with: deno run -R --allow-net --allow-env=REDIS_DEBUG_MAINTENANCE cli.ts worker --redis ${
              safeUrl(this.#options.url)
            } --run ${this.#options.run}`,
          );
        }
        for (const m of await this.#readUp(b, Math.min(left, 1000))) {
          if (m.kind !== "hello") continue;
          if (m.code !== code) {
            this.#refused.push(
              `${m.host} pid ${m.pid}, which runs different baton code`,
            );
            this.#down(m.worker, {
              kind: "refuse",
              reason:
                "this worker process runs different baton code than the coordinator",
            });
            continue;
          }
          if (this.#workers.size >= want) {
            this.#down(m.worker, {
              kind: "refuse",
              reason:
                `run ${this.#options.run} has its ${want} worker processes`,
            });
            continue;
          }
          this.#workers.set(m.worker, {
            id: m.worker,
            slots: m.slots,
            host: m.host,
            pid: m.pid,
            members: new Set(),
            dead: false,
            left: false,
          });
        }
      }
    } finally {
      link.giveBack(b);
    }
    const slots = [...this.#workers.values()].reduce((n, w) => n + w.slots, 0);
    if (slots < needed) {
      throw new Error(
        `Cannot start relay: the groups placed on workers have ${needed} actors, and the ${this.#workers.size} worker processes of run ${this.#options.run} have ${slots} slots; start them with more (--slots)`,
      );
    }
  }

  /** The live worker process with the most free slots. */
  #pick(): Joined | undefined {
    let best: Joined | undefined;
    for (const w of this.#workers.values()) {
      if (w.dead || w.left || w.members.size >= w.slots) continue;
      if (best === undefined || w.members.size < best.members.size) best = w;
    }
    return best;
  }

  #spawn(spec: MemberSpec, events: MemberEvents): Member {
    if (!this.#remoteGroups.has(spec.init.group)) {
      return this.#spawnHere(spec, events);
    }
    const again = this.#remotes.get(spec.name);
    if (again !== undefined) return this.#respawn(again, spec, events);
    const worker = this.#pick()!;
    const remote: Remote = {
      spec,
      events,
      worker,
      attempt: 0,
      over: false,
      handle: undefined!,
      consumers: [],
      counts: new Map(),
    };
    remote.handle = new RemoteMember(this, remote);
    this.#stats ??= spec.init.stats.buffer;
    this.#remotes.set(spec.name, remote);
    this.#place(remote, worker);
    return remote.handle;
  }

  /**
   * An actor on workers restarted (`onError: "restart"`; its old
   * incarnation is terminated and fenced): its new one starts on a live
   * worker process with a free slot and adopts what the old one's
   * receiving end had in hand.
   */
  #respawn(remote: Remote, spec: MemberSpec, events: MemberEvents): Member {
    this.#next(remote);
    remote.spec = spec;
    remote.events = events;
    remote.over = false;
    remote.handle = new RemoteMember(this, remote);
    const to = this.#pick();
    if (to === undefined) {
      remote.over = true;
      queueMicrotask(() =>
        events.failure(
          new Error(
            "it restarted, and no live worker process has a free slot to start it again",
          ),
          true,
        )
      );
    } else this.#place(remote, to);
    return remote.handle;
  }

  /** Makes a remote member's next attempt: its counters and consumers go on. */
  #next(r: Remote): void {
    const inlet = r.spec.init.inlet as ReceiverEndSpec | undefined;
    if (inlet !== undefined) {
      r.consumers.push(consumerOf(inlet.index, r.attempt));
    }
    r.attempt++;
    r.worker.members.delete(r.spec.name);
  }

  /**
   * A member of a group here: a Web Worker, its Redis ends bridged. In a
   * group that restarts, each incarnation has a process id of its own, so
   * that the one it replaces is fenced alone, and it takes over what that
   * one's receiving end had in hand.
   */
  #spawnHere(spec: MemberSpec, events: MemberEvents): Member {
    if (!isRedisEnd(spec.init.inlet) && !isRedisEnd(spec.init.outlet)) {
      return workerHost.spawn(spec, events);
    }
    const before = this.#local.get(spec.name);
    const attempt = before === undefined ? 0 : before.attempt + 1;
    const consumers = before === undefined ? [] : [
      ...before.consumers,
      ...(before.init.inlet === undefined
        ? []
        : [consumerOf(before.init.inlet.index, before.attempt)]),
    ];
    const own = spec.init.policy.onError === "restart"
      ? memberProcess("coordinator", spec.name, attempt)
      : undefined;
    const transport = own === undefined
      ? this.#transport!
      : new RedisTransport(this.#link!, {
        run: this.#options.run,
        process: own,
      });
    const init = {
      ...spec.init,
      ...this.#ends(spec.init, attempt, consumers),
    } as InitMessage;
    // Dead letters of entries delivered too often (to a member here, only
    // what a restarted one adopted), acknowledged by the run as its
    // actor's would be.
    let letters = 0;
    const bridged = bridge(init, transport, (error) => {
      // Its incarnation alone was fenced: it is being replaced.
      if (
        own !== undefined && /FENCED/.test(error.message) &&
        error.message.includes(own)
      ) return;
      events.failure(error);
    }, (dead) => {
      letters += dead.length;
      for (const letter of dead) events.message(letter);
      return Promise.resolve();
    });
    const local: Local = {
      init,
      bridged,
      events,
      own,
      transport,
      attempt,
      consumers,
    };
    this.#local.set(spec.name, local);
    const member = workerHost.spawn({
      ...spec,
      init: bridged.init,
      transfer: bridged.transfer,
    }, events);
    return {
      post: (message) => {
        if (message.kind === "deadAck" && letters > 0) letters--;
        else member.post(message);
      },
      terminate: () => {
        member.terminate();
        this.#endLocal(local);
      },
    };
  }

  /** Closes a local member's bridge, and its own transport if it has one. */
  #endLocal(local: Local): void {
    local.bridged.close();
    if (local.own !== undefined) local.transport.closeAll();
  }

  /** Sends a member's init to `worker`. */
  #place(remote: Remote, worker: Joined): void {
    remote.worker = worker;
    worker.members.add(remote.spec.name);
    const { stats: _, ...init } = remote.spec.init;
    const ends = this.#ends(init, remote.attempt, remote.consumers);
    const relative = this.#relative(init.module);
    moduleHash(init.module).then((hash) =>
      this.#down(worker.id, {
        kind: "spawn",
        member: remote.spec.name,
        init: ends,
        relative,
        moduleHash: hash,
        permissions: remote.spec.permissions,
        attempt: remote.attempt,
      })
    ).catch((error) =>
      remote.events.failure(
        error instanceof Error ? error : new Error(String(error)),
      )
    );
  }

  /** A member's ends for its attempt: a restarted receiver adopts. */
  #ends<I extends Omit<InitMessage, "stats">>(
    init: I,
    attempt: number,
    consumers: readonly string[],
  ): I {
    if (attempt === 0) return init;
    const inlet = init.inlet as (ReceiverEndSpec & RedisEnd) | undefined;
    const outlet = init.outlet as (SenderEndSpec & RedisEnd) | undefined;
    return {
      ...init,
      inlet: inlet === undefined ? undefined : {
        ...inlet,
        attempt,
        adopt: [...consumers],
      } as ReceiverEndSpec,
      outlet: outlet === undefined
        ? undefined
        : { ...outlet, attempt } as SenderEndSpec,
    };
  }

  #relative(module: string): string | undefined {
    if (!module.startsWith("file:")) return undefined;
    const cwd = `file://${Deno.cwd()}/`;
    return module.startsWith(cwd) ? module.slice(cwd.length) : undefined;
  }

  /** Sends a message to a worker process's inbox. */
  #down(worker: string, message: DownMessage): void {
    const inbox = this.#keys.inbox(worker);
    this.#link?.command(["XADD", inbox, "*", "m", encode([message])])
      .catch(() => {});
    this.#link?.command(["PEXPIRE", inbox, String(KEY_TTL_MS)])
      .catch(() => {});
  }

  /** Posts to a remote member (`RemoteMember`). */
  post(remote: Remote, message: ToWorker): void {
    if (remote.over) return;
    this.#down(remote.worker.id, {
      kind: "post",
      member: remote.spec.name,
      message,
    });
  }

  /** Terminates a remote member. */
  terminate(remote: Remote): void {
    if (remote.over) return;
    remote.over = true;
    remote.worker.members.delete(remote.spec.name);
    this.#down(remote.worker.id, {
      kind: "terminate",
      member: remote.spec.name,
    });
  }

  /** Reads the `up` stream: every worker process's news. */
  async #read(): Promise<void> {
    const link = this.#link!;
    const b = await link.borrow();
    try {
      while (!this.#closed) {
        for (const m of await this.#readUp(b, 1000)) this.#hear(m);
      }
    } catch (error) {
      if (!this.#closed) {
        this.#lost(error instanceof Error ? error : new Error(String(error)));
      }
    } finally {
      link.giveBack(b);
    }
  }

  #hear(m: UpMessage): void {
    switch (m.kind) {
      case "hello":
        if (!this.#workers.has(m.worker)) {
          this.#down(m.worker, {
            kind: "refuse",
            reason: `run ${this.#options.run} has started without it`,
          });
        }
        return;
      case "bye": {
        const w = this.#workers.get(m.worker);
        if (w !== undefined) w.left = true;
        this.#byes?.();
        return;
      }
      case "stats": {
        const remote = this.#remotes.get(m.member);
        if (
          remote === undefined || this.#stats === undefined ||
          m.attempt > remote.attempt
        ) return;
        const cells = new Float64Array(this.#stats);
        const base = remote.spec.init.stats.index * WIDTH;
        // An actor started again counts on from its earlier attempts (a
        // terminated one's last report may come after its successor's).
        remote.counts.set(m.attempt, m.values);
        m.values.forEach((_, i) => {
          let sum = 0;
          for (const values of remote.counts.values()) sum += values[i] ?? 0;
          cells[base + i] = sum;
        });
        return;
      }
      case "member": {
        const remote = this.#remotes.get(m.member);
        if (remote === undefined || remote.over) return;
        // A fenced process that woke up speaks for an earlier attempt.
        if (m.attempt !== remote.attempt) return;
        const kind = (m.data as { kind?: unknown })?.kind;
        if (kind === "done" || kind === "stopped" || kind === "exit") {
          remote.over = true;
          remote.worker.members.delete(m.member);
        }
        remote.events.message(m.data);
        return;
      }
      case "failure": {
        const remote = this.#remotes.get(m.member);
        if (remote === undefined || remote.over) return;
        if (m.attempt !== remote.attempt) return;
        const where = `${remote.worker.host} pid ${remote.worker.pid}`;
        remote.events.failure(
          new Error(`${m.message} (in the worker process on ${where})`),
          m.exited,
        );
        return;
      }
    }
  }

  /** Heartbeat: ours, the keys' expiry, and the worker processes'. */
  async #beat(): Promise<void> {
    const link = this.#link;
    if (link === undefined || this.#closed) return;
    try {
      await link.command([
        "SET",
        this.#keys.coordinator,
        String(Deno.pid),
        "PX",
        String(this.#heartbeatMs),
      ]);
      // Every key but the heartbeats, whose TTL is their point.
      const beats = this.#keys.heartbeat("");
      for (const key of await this.#runKeys()) {
        if (key.startsWith(beats)) continue;
        await link.command(["PEXPIRE", key, String(KEY_TTL_MS)]);
      }
      for (const w of this.#workers.values()) {
        if (w.dead || w.left) continue;
        const alive = await link.command([
          "EXISTS",
          this.#keys.heartbeat(w.id),
        ]);
        if (Number(alive) === 0 && !this.#closed) await this.#dead(w);
      }
    } catch {
      // A lost link fails the run through onFailure.
    }
  }

  async #runKeys(): Promise<string[]> {
    const link = this.#link!;
    const keys: string[] = [];
    let cursor = "0";
    do {
      const [next, found] = await link.command([
        "SCAN",
        cursor,
        "MATCH",
        `${this.#keys.prefix}*`,
        "COUNT",
        "1000",
      ]) as [Buffer, Buffer[]];
      cursor = String(next);
      keys.push(...found.map(String));
    } while (cursor !== "0");
    return keys;
  }

  /**
   * A worker process stopped beating: fence it, give back its members'
   * credit reserves, and start its members again elsewhere. A source
   * cannot start again (it would send everything twice): the run fails.
   */
  async #dead(w: Joined): Promise<void> {
    w.dead = true;
    const gone = [...this.#remotes.values()].filter((r) =>
      r.worker === w && !r.over
    );
    const transport = this.#transport!;
    // The process (which it checks for itself), and each member's ends
    // (which every script checks), with the credits they held.
    if (this.#edges.length > 0) {
      await transport.fence(this.#edges[0].edge, w.id, []);
    }
    for (const { edge, shape } of this.#edges) {
      for (const r of gone) {
        const own = memberProcess(w.id, r.spec.name, r.attempt);
        const senders = r.spec.init.group === shape.from
          ? [(r.spec.init.outlet as SenderEndSpec).index]
          : [];
        await transport.fence(edge, own, senders);
      }
    }
    const why =
      `its worker process on ${w.host} pid ${w.pid} stopped sending heartbeats for ${this.#heartbeatMs} ms`;
    for (const r of gone) {
      const first = this.#run.groups[0]?.name === r.spec.init.group;
      const to = this.#pick();
      if (first || to === undefined) {
        r.over = true;
        r.events.failure(
          new Error(
            first
              ? `${why}; a source cannot start again without sending what it sent twice`
              : `${why}, and no live worker process has a free slot to start it again`,
          ),
          true,
        );
        continue;
      }
      this.#next(r);
      this.#place(r, to);
    }
  }

  /** Redis was lost for good: every member fails with that. */
  #lost(error: Error): void {
    if (this.#closed) return;
    for (const r of this.#remotes.values()) {
      if (!r.over) {
        r.over = true;
        r.events.failure(error, true);
      }
    }
    for (const local of this.#local.values()) local.events.failure(error);
  }

  #byes: (() => void) | undefined;

  /** Ends the run everywhere, then deletes its keys. */
  async #close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#timer);
    for (const local of this.#local.values()) this.#endLocal(local);
    this.#unregister?.();
    const link = this.#link;
    if (link !== undefined && link.failure === undefined) {
      const live = [...this.#workers.values()].filter((w) => !w.dead);
      for (const w of live) {
        this.#down(w.id, { kind: "end", reason: "the run settled" });
      }
      // Waits (briefly) for each worker process's goodbye.
      const deadline = Date.now() + 2000;
      const b = await link.borrow().catch(() => undefined);
      try {
        while (
          b !== undefined && live.some((w) => !w.left) && Date.now() < deadline
        ) {
          for (const m of await this.#readUp(b, 200)) {
            if (m.kind === "bye") {
              const w = this.#workers.get(m.worker);
              if (w !== undefined) w.left = true;
            }
          }
        }
      } catch {
        // gone: the keys expire
      } finally {
        if (b !== undefined) link.giveBack(b);
      }
      // The results' reader may still be reading the last group's ends.
      await this.#transport?.readersDone(2000);
      this.#transport?.closeAll();
      await this.#beating;
      try {
        const keys = await this.#runKeys();
        if (keys.length > 0) await link.command(["DEL", ...keys]);
      } catch {
        // the keys expire
      }
      await link.quit();
    } else link?.close();
    await Promise.all(this.#children.map(async (child) => {
      const timer = setTimeout(() => {
        try {
          child.kill("SIGKILL");
        } catch {
          // exited
        }
      }, 2000);
      await child.status;
      clearTimeout(timer);
    }));
  }
}

/** A member in a worker process, as the run sees it. */
class RemoteMember implements Member {
  readonly #coordinator: Coordinator;
  readonly #remote: Remote;
  /** The attempt it stands for: a restarted member has a new handle. */
  readonly #attempt: number;
  constructor(coordinator: Coordinator, remote: Remote) {
    this.#coordinator = coordinator;
    this.#remote = remote;
    this.#attempt = remote.attempt;
  }
  post(message: ToWorker): void {
    if (this.#remote.attempt !== this.#attempt) return;
    this.#coordinator.post(this.#remote, message);
  }
  terminate(): void {
    if (this.#remote.attempt !== this.#attempt) return;
    this.#coordinator.terminate(this.#remote);
  }
}
