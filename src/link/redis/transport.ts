/**
 * The Redis transport: an edge is one Redis stream whose consumer group
 * (named after the receiving group) its receivers compete in; each entry
 * carries a batch of at most {@linkcode ENTRY} messages, v8-serialised.
 * Credits are a count of tokens, changed only by Lua scripts (`scripts.ts`),
 * so the bound holds across hosts: a sender takes tokens in bulk (ahead,
 * while it still has some), a token per message moves into the entry it
 * posts, and comes back when a receiver acknowledges the entry: to the
 * senders waiting for tokens first (granted in that script, see GRANT), the
 * rest to the free count. A post is one script for all the entries of its
 * batch, which also acknowledges the entries upstream whose messages the
 * batch completes (`bridge.ts`: a middle process forwards and acknowledges
 * in one step). A sender is done when
 * it is in the edge's set of senders done; a receiver sees a sender's end
 * once that sender is done and none of its entries is left in the stream
 * (none in another receiver's hands either): there is no pill in the
 * shared stream, which a competing receiver could swallow.
 *
 * It runs in a process's main thread only (`link.ts`): actors' workers
 * reach it over port links through their process's main thread
 * (`src/host/redis/bridge.ts`).
 *
 * @module
 */

import { Buffer } from "node:buffer";
import v8 from "node:v8";
import { Inlet } from "../inlet.ts";
import { grabSize, Outlet, type PostFailure } from "../outlet.ts";
import {
  type EdgeEnd,
  type EdgeHandle,
  type EdgeShape,
  type EdgeState,
  PILL,
  type ReceiverCredit,
  type ReceiverEndSpec,
  type SenderCredit,
  type SenderEndSpec,
  type Transport,
  type Wire,
  type WireItem,
} from "../transport.ts";
import type { Blocking, RedisLink, Reply } from "./link.ts";
import {
  ACK,
  ADOPT,
  CREATE,
  DONE,
  FENCE_EDGE,
  GIVE,
  POST,
  READ,
  TAKE,
} from "./scripts.ts";

/** The Redis transport's name, in every end spec it makes. */
export const REDIS = "redis";

/** Most messages in one stream entry. */
export const ENTRY = 256;

/**
 * Entries a receiver reads at most at once. It reads more only while it
 * holds fewer unacknowledged messages than half the edge's bound (and
 * always up to two entries): the others compete for the rest.
 */
const READ_COUNT = 64;

/** How long a closed inlet reads on for its senders' ends (ms). */
const GRACE_MS = 10_000;

/** A sender that took no credit for this long gives its reserve back (ms). */
const IDLE_MS = 5;

/** How long one blocking read waits before it looks again (ms). */
const BLOCK_MS = 2000;

/** What the Redis transport adds to an end spec (plain data only). */
export interface RedisEnd extends EdgeEnd {
  /** `redis:<run>`. */
  readonly transport: string;
  /** The run's key prefix, `baton:<run>:`. */
  readonly prefix: string;
  /** The edge's id within the run. */
  readonly edge: string;
  /** The consumer group: the receiving group's name. */
  readonly group: string;
  /** A sender's first credits, taken for it when the edge was made. */
  readonly grant: number;
  /** How many times this end was opened before (a restarted member). */
  readonly attempt: number;
  /**
   * Consumers of earlier attempts whose pending entries this receiver
   * takes over before it reads new ones.
   */
  readonly adopt: readonly string[];
  /** Entries delivered more often than this fail the receiver (0: no limit). */
  readonly maxDeliveries: number;
  /** Most messages in one stream entry. */
  readonly entry: number;
}

/** The keys of one edge. */
export interface EdgeKeys {
  readonly fenced: string;
  readonly s: string;
  readonly t: string;
  readonly h: string;
  readonly n: string;
  readonly d: string;
  readonly w: string;
  readonly k: string;
}

/** The keys of edge `edge` of the run with key prefix `prefix`. */
export function edgeKeys(prefix: string, edge: string): EdgeKeys {
  const e = `${prefix}e:${edge}:`;
  return {
    fenced: `${prefix}fenced`,
    s: `${e}s`,
    t: `${e}t`,
    h: `${e}h`,
    n: `${e}n`,
    d: `${e}d`,
    w: `${e}w`,
    k: `${e}k`,
  };
}

/** Every key of an edge, to delete or expire them. */
export function allKeys(keys: EdgeKeys): string[] {
  return [keys.s, keys.t, keys.h, keys.n, keys.d, keys.w, keys.k];
}

/** The holder of sender `index`'s tokens (in the edge's `h` hash). */
export const holderOf = (index: number): string => `s:${index}`;

/** The consumer name of receiver `index`'s attempt `attempt`. */
export const consumerOf = (index: number, attempt: number): string =>
  `r:${index}:${attempt}`;

/** `spec` as a Redis end; throws if another transport made it. */
export function redisEnd(spec: EdgeEnd): RedisEnd {
  const end = spec as RedisEnd;
  if (
    typeof end.transport !== "string" || !end.transport.startsWith(REDIS) ||
    typeof end.edge !== "string"
  ) {
    throw new TypeError(
      `Not an end of the Redis transport: ${String(end.transport)}`,
    );
  }
  return end;
}

const text = (r: Reply): string =>
  r === null ? "" : Buffer.isBuffer(r) ? r.toString() : String(r);

/** The entries of an XREAD reply (of one stream), as id and fields. */
function streamEntries(reply: Reply): [string, Reply[]][] {
  if (reply === null) return [];
  const streams: Reply[] = Array.isArray(reply)
    ? reply.map((r) => (r as Reply[])[1])
    : Object.values(reply as Record<string, Reply>);
  const out: [string, Reply[]][] = [];
  for (const entries of streams) {
    for (const entry of entries as Reply[]) {
      const [id, fields] = entry as [Reply, Reply[]];
      out.push([text(id), fields]);
    }
  }
  return out;
}

/**
 * A batch as bytes. Throws what structured clone would (a function, a
 * symbol), as a `DataCloneError` with the same words as in-process.
 */
export function serialize(batch: readonly unknown[]): Buffer {
  try {
    return v8.serialize(batch);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new DOMException(
      /could not be cloned/.test(message)
        ? message
        : `${message} (could not be cloned)`,
      "DataCloneError",
    );
  }
}

/**
 * A batch from bytes. node:v8 gives typed arrays that view the whole reply
 * buffer: each is copied into a buffer of its own.
 */
export function deserialize(bytes: Uint8Array): unknown[] {
  return detach(v8.deserialize(bytes), new Set()) as unknown[];
}

function detach(value: unknown, seen: Set<object>): unknown {
  if (typeof value !== "object" || value === null) return value;
  if (ArrayBuffer.isView(value)) {
    if (value instanceof DataView) {
      return new DataView(
        value.buffer.slice(
          value.byteOffset,
          value.byteOffset + value.byteLength,
        ),
      );
    }
    const view = value as unknown as { slice(): unknown; constructor: unknown };
    // A node Buffer comes back as a Buffer: keep it a plain Uint8Array copy.
    if (Buffer.isBuffer(value)) return new Uint8Array(value);
    return view.slice();
  }
  if (seen.has(value)) return value;
  seen.add(value);
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = detach(value[i], seen);
  } else if (value instanceof Map) {
    for (const [k, v] of value) value.set(k, detach(v, seen));
  } else if (value instanceof Set) {
    const items = [...value];
    if (items.some((v) => typeof v === "object" && v !== null)) {
      value.clear();
      for (const v of items) value.add(detach(v, seen));
    }
  } else if (Object.getPrototypeOf(value) === Object.prototype) {
    const o = value as Record<string, unknown>;
    for (const k of Object.keys(o)) o[k] = detach(o[k], seen);
  }
  return value;
}

/** What a transport instance keeps of the ends it opened, per edge. */
interface Opened {
  readonly closers: Set<() => void>;
  /** Receivers closed by their inlet, reading on for their pills. */
  readonly softened: Set<Promise<void>>;
  waiting: number;
  /** Free tokens, as the last reply (in reply order) said. */
  free: number | undefined;
}

/** Options of {@linkcode RedisTransport}. */
export interface RedisTransportOptions {
  /** The run: every key starts with `baton:<run>:`. */
  readonly run: string;
  /** This process's id, which a fence names. Default: a random one. */
  readonly process?: string;
  /** Entries delivered more than this often fail their receiver. */
  readonly maxDeliveries?: number;
  /** Most messages in one stream entry (default {@linkcode ENTRY}). */
  readonly entry?: number;
}

/** A receiver's end failed (fenced, Redis lost, too many deliveries). */
export type ReceiverFailure = (error: Error) => void;

/**
 * Takes the messages of an entry delivered more than `maxDeliveries` times
 * instead of failing the receiver; the entry is acknowledged once the
 * promise it returns resolves (its messages are safe elsewhere).
 */
export type OverDelivered = (
  batch: unknown[],
  error: Error,
  deliveries: number,
) => Promise<void>;

/** The Redis transport, over one process's {@linkcode RedisLink}. */
export class RedisTransport implements Transport {
  /** `redis:<run>`: two runs of one process open each their own ends. */
  readonly name: string;
  readonly link: RedisLink;
  readonly prefix: string;
  readonly process: string;
  readonly #maxDeliveries: number;
  readonly #entry: number;
  readonly #opened = new Map<string, Opened>();
  #edges = 0;

  constructor(link: RedisLink, options: RedisTransportOptions) {
    this.link = link;
    this.prefix = `baton:${options.run}:`;
    this.name = `${REDIS}:${options.run}`;
    this.process = options.process ?? crypto.randomUUID().slice(0, 12);
    this.#maxDeliveries = options.maxDeliveries ?? 0;
    this.#entry = options.entry ?? ENTRY;
  }

  #opening(edge: string): Opened {
    let opened = this.#opened.get(edge);
    if (opened === undefined) {
      opened = {
        closers: new Set(),
        softened: new Set(),
        waiting: 0,
        free: undefined,
      };
      this.#opened.set(edge, opened);
    }
    return opened;
  }

  /** Makes an edge's keys (asynchronously: later commands queue after it). */
  createEdge(shape: EdgeShape, id?: string): EdgeHandle {
    const { from, to, senders, receivers, maxsize } = shape;
    const edge = id ?? `${this.#edges++}-${crypto.randomUUID().slice(0, 8)}`;
    const keys = edgeKeys(this.prefix, edge);
    const grab = Math.max(1, grabSize(maxsize, senders));
    let free = maxsize;
    const grants = Array.from({ length: senders }, () => {
      const n = Math.min(grab, free);
      free -= n;
      return n;
    });
    const group = to;
    const created = this.link.eval(
      CREATE,
      [keys.fenced, ...allKeys(keys)],
      [maxsize, group, ...grants.flatMap((n, j) => [holderOf(j), n])],
    );
    created.catch(() => {});
    const base = {
      transport: this.name,
      prefix: this.prefix,
      edge,
      group,
      senders,
      receivers,
      maxsize,
      attempt: 0,
      adopt: [] as string[],
      maxDeliveries: this.#maxDeliveries,
      entry: this.#entry,
    } as const;
    const cached: EdgeState = {
      from,
      to,
      maxsize,
      inFlight: maxsize - free,
      waitingSenders: 0,
      queued: new Array(receivers).fill(0),
    };
    let asked = 0;
    let closed = false;
    const link = this.link;
    const opened = this.#opening(edge);
    return {
      from,
      to,
      maxsize,
      senders: grants.map((grant, index): SenderEndSpec & RedisEnd => ({
        ...base,
        role: "sender",
        index,
        grant,
      })),
      receivers: Array.from(
        { length: receivers },
        (_, index): ReceiverEndSpec & RedisEnd => ({
          ...base,
          role: "receiver",
          index,
          grant: 0,
        }),
      ),
      state(): EdgeState {
        const now = performance.now();
        if (!closed && now - asked > 2) {
          asked = now;
          link.command(["GET", keys.t]).then((n) => {
            opened.free = Number(n);
          }, () => {});
        }
        const inFlight = opened.free === undefined
          ? cached.inFlight
          : maxsize - opened.free;
        return { ...cached, inFlight, waitingSenders: opened.waiting };
      },
      close: () => {
        if (closed) return;
        closed = true;
        this.closeEdge(edge);
        link.command(["DEL", ...allKeys(keys)]).catch(() => {});
      },
    };
  }

  /** Closes every end of edge `edge` this process opened. */
  closeEdge(edge: string): void {
    const opened = this.#opened.get(edge);
    if (opened === undefined) return;
    this.#opened.delete(edge);
    for (const close of [...opened.closers]) close();
  }

  /**
   * Resolves once every receiver that its inlet closed has read its
   * senders' ends, or after `ms`.
   */
  async readersDone(ms: number): Promise<void> {
    const all = [...this.#opened.values()].flatMap((o) => [...o.softened]);
    if (all.length === 0) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      Promise.all(all),
      new Promise((resolve) => (timer = setTimeout(resolve, ms))),
    ]);
    clearTimeout(timer);
  }

  /** Closes every end this process opened. */
  closeAll(): void {
    for (const edge of [...this.#opened.keys()]) this.closeEdge(edge);
  }

  openSender(spec: SenderEndSpec, onFailure: PostFailure): Outlet {
    const side = this.sender(spec);
    const outlet = new Outlet([side.wire], side.credit, onFailure);
    side.onFailure((error, batch) => {
      outlet.abort(error);
      onFailure(error, batch);
    });
    return outlet;
  }

  /** A sender's wire and credit, for an outlet of the caller's own. */
  sender(spec: SenderEndSpec): RedisSender {
    const end = redisEnd(spec);
    return new RedisSender(this, end, this.#opening(end.edge));
  }

  openReceiver(spec: ReceiverEndSpec): Inlet {
    const side = this.receiver(spec);
    return new Inlet(side.wires, side.credit);
  }

  /** A receiver's wires and its reader, for a consumer of the caller's own. */
  receiver(spec: ReceiverEndSpec): RedisReceiver {
    const end = redisEnd(spec);
    return new RedisReceiver(this, end, this.#opening(end.edge));
  }

  transferables(): Transferable[] {
    return [];
  }

  discard(): void {
    // Nothing is held for an end until it is opened.
  }

  /**
   * Fences process `process` and gives back the tokens that the senders
   * `holders` (by index) held on edge `edge`: a dead member's reserve.
   */
  fence(
    edge: string,
    process: string,
    senders: readonly number[],
  ): Promise<Reply> {
    const keys = edgeKeys(this.prefix, edge);
    return this.link.eval(FENCE_EDGE, [keys.fenced, keys.t, keys.h, keys.k], [
      process,
      ...senders.map(holderOf),
    ]);
  }
}

/** A sender's side of a Redis edge: its one wire and its credit. */
export class RedisSender {
  readonly wire: Wire;
  readonly credit: SenderCredit;
  readonly #failures: ((error: unknown, batch: readonly unknown[]) => void)[] =
    [];
  #failed: unknown;
  #closed = false;
  /** Messages whose posts Redis answered. */
  confirmed = 0;
  /** Messages whose posts were sent to Redis (answered or not). */
  issued = 0;
  #piggyback: ((issued: number) => Acks | undefined) | undefined;
  readonly #confirmedListeners: (() => void)[] = [];

  constructor(t: RedisTransport, end: RedisEnd, opened: Opened) {
    const keys = edgeKeys(end.prefix, end.edge);
    const link = t.link;
    const proc = t.process;
    const holder = holderOf(end.index);
    const sender = String(end.index);
    const fail = (error: unknown, batch: readonly unknown[]) => {
      if (this.#failed !== undefined || this.#closed) return;
      this.#failed = error;
      for (const f of this.#failures) f(error, batch);
    };
    let blocked: Blocking | undefined;
    let woken = false;
    const close = () => {
      this.#closed = true;
      woken = true;
      clearTimeout(idle);
      wakeUp();
      if (blocked !== undefined) link.unblock(blocked);
      opened.closers.delete(close);
    };
    opened.closers.add(close);
    this.wire = {
      post: (item: WireItem) => {
        // After a failed post, none that could acknowledge what it carried.
        if (this.#closed || this.#failed !== undefined) return;
        if (item === PILL) {
          // Its reserve goes back first, any credit granted or taken ahead
          // with it, then the sender is done.
          sealed = true;
          if (blocked !== undefined) link.unblock(blocked);
          (async () => {
            while (fetching !== undefined) await fetching;
            giveNow();
            while (giving !== undefined) await giving;
            await link.eval(DONE, [keys.fenced, keys.d, keys.w], [
              proc,
              sender,
            ]);
          })().catch((e) => fail(e, []));
          return;
        }
        const batch = item as readonly unknown[];
        // Serialised first, all of it: a message that cannot be carried
        // throws here, and nothing of the batch is posted.
        const args: (string | number | Buffer)[] = [proc, holder, sender, 0];
        const size = end.entry ?? ENTRY;
        for (let i = 0; i < batch.length; i += size) {
          const chunk = i === 0 && batch.length <= size
            ? batch
            : batch.slice(i, i + size);
          args.push(chunk.length, serialize(chunk));
          (args[3] as number)++;
        }
        const n = batch.length;
        this.issued += n;
        // One step for every entry of the batch, and the acknowledgement of
        // what it was made from (see POST).
        const ack = this.#piggyback?.(this.issued);
        const scriptKeys = [keys.fenced, keys.s, keys.h, keys.n];
        if (ack !== undefined) {
          scriptKeys.push(...ack.keys);
          args.push(...ack.args);
        }
        link.eval(POST, scriptKeys, args).then((reply) => {
          this.confirmed += n;
          ack?.replied(reply);
          for (const f of this.#confirmedListeners) f();
        }, (e) => {
          ack?.failed(e);
          fail(e, batch);
        });
      },
      listen: () => {
        throw new Error("A sender's wire does not listen");
      },
      close,
    };
    let reserve = end.attempt === 0 ? end.grant : 0;
    const grab = Math.max(1, grabSize(end.maxsize, end.senders));
    const wake = new Set<() => void>();
    const wakeUp = () => {
      for (const w of [...wake]) w();
      wake.clear();
    };
    /** Credits taken so far: an idle sender takes none. */
    let takes = 0;
    /** Credits this sender waits for in Redis, as far as it knows. */
    let owed = 0;
    /** Credits granted to it so far, as far as it knows (see GRANT). */
    let granted = 0;
    /** A take in flight, a give-back in flight. */
    let fetching: Promise<void> | undefined;
    let giving: Promise<void> | undefined;
    let sealed = false;
    /** Give-backs sent so far. */
    let gives = 0;
    let idle: ReturnType<typeof setTimeout> | undefined;
    /** Adds what was granted up to `total` and not counted yet. */
    const grantedUpTo = (total: number) => {
      if (!(total > granted)) return;
      const n = total - granted;
      granted = total;
      reserve += n;
      owed = Math.max(0, owed - n);
      wakeUp();
      if (sealed) giveNow();
      else giveLater();
    };
    const giveNow = () => {
      clearTimeout(idle);
      idle = undefined;
      if ((reserve <= 0 && owed <= 0) || this.#closed) return;
      const n = reserve;
      reserve = 0;
      owed = 0;
      gives++;
      const p: Promise<void> = giving = link.eval(GIVE, [
        keys.fenced,
        keys.t,
        keys.h,
        keys.k,
      ], [proc, holder, n]).then((reply) => {
        const r = reply as Reply[];
        opened.free = Number(r[0]);
        // Granted before the give-back, not counted yet: back it goes too.
        grantedUpTo(Number(r[1]));
      }, (e) => fail(e, [])).finally(() => {
        if (giving === p) giving = undefined;
      });
    };
    /**
     * Gives the reserve back once the sender took none for IDLE_MS: a
     * sender that flushes and keeps sending keeps it, so it does not wait
     * a round trip for credit after each post.
     */
    const giveLater = () => {
      if (idle !== undefined || reserve <= 0 || this.#closed) return;
      let mark = takes;
      const check = () => {
        idle = undefined;
        if (takes === mark || sealed) giveNow();
        else if (reserve > 0 && !this.#closed) {
          mark = takes;
          idle = setTimeout(check, IDLE_MS);
        }
      };
      idle = setTimeout(check, IDLE_MS);
    };
    /** Where the listener for grants reads the doorbell from. */
    let from = "0-0";
    let listening = false;
    /** Takes the grants of this sender off the doorbell while it waits. */
    const listen = async () => {
      if (listening) return;
      listening = true;
      try {
        while (owed > 0 && !this.#closed && !sealed) {
          const b = blocked = await link.borrow();
          let reply: Reply;
          try {
            if (this.#closed || sealed) return;
            reply = await link.read(b, [
              "XREAD",
              "BLOCK",
              String(BLOCK_MS),
              "STREAMS",
              keys.k,
              from,
            ]);
          } finally {
            blocked = undefined;
            link.giveBack(b);
          }
          if (reply === null) {
            // Nothing for a while (or a grant trimmed away): ask again.
            if (
              owed > 0 && fetching === undefined && !this.#closed && !sealed
            ) ask();
            if (fetching !== undefined) await fetching;
            continue;
          }
          for (const [id, fields] of streamEntries(reply)) {
            from = id;
            for (let i = 0; i < fields.length; i += 2) {
              if (text(fields[i]) === holder) {
                grantedUpTo(Number(text(fields[i + 1])));
              }
            }
          }
        }
      } catch (error) {
        fail(error, []);
      } finally {
        listening = false;
        wakeUp();
      }
    };
    /**
     * Takes credit: at once what is free, and what is not is granted to it
     * as other senders give back or receivers acknowledge (see GRANT).
     */
    const ask = () => {
      const want = grab;
      const asked = gives;
      const p: Promise<void> = fetching = link.eval(TAKE, [
        keys.fenced,
        keys.t,
        keys.h,
        keys.k,
      ], [proc, holder, want]).then((reply) => {
        const r = reply as Reply[];
        opened.free = Number(r[2]);
        // Grants before this take ended the wait they were for: the take
        // waits afresh for what it could not take.
        grantedUpTo(Number(r[3]));
        const got = Number(r[0]);
        reserve += got;
        // A give-back sent after this take ended its wait.
        owed = gives === asked ? want - got : 0;
        if (!listening) from = text(r[1]);
        if (owed > 0) listen();
        wakeUp();
        if (sealed) giveNow();
        else if (got > 0) giveLater();
      }, (e) => fail(e, [])).finally(() => {
        if (fetching === p) fetching = undefined;
      });
    };
    this.credit = {
      take: () => {
        if (reserve > 0) {
          reserve--;
          takes++;
          // Credit ahead, while the reserve lasts: no stop-and-wait.
          if (
            reserve < grab && fetching === undefined && owed <= 0 &&
            !this.#closed
          ) ask();
          return true;
        }
        return false;
      },
      giveBack: () => giveLater(),
      queued: () => {},
      queueLength: () => 0,
      wait: async () => {
        if (reserve > 0) return;
        woken = false;
        opened.waiting++;
        try {
          while (reserve <= 0 && !woken && !this.#closed) {
            if (fetching !== undefined) {
              await fetching;
              continue;
            }
            if (owed > 0 && listening) {
              await new Promise<void>((resolve) => wake.add(resolve));
              continue;
            }
            ask();
          }
        } finally {
          opened.waiting--;
        }
      },
      wakeAll: () => {
        woken = true;
        wakeUp();
      },
    };
  }

  /** Calls `listener` when a post fails later (fenced, Redis lost). */
  onFailure(
    listener: (error: unknown, batch: readonly unknown[]) => void,
  ): void {
    this.#failures.push(listener);
  }

  /** Calls `listener` each time Redis answered a post. */
  onConfirmed(listener: () => void): void {
    this.#confirmedListeners.push(listener);
  }

  /**
   * Has each post acknowledge, in the same script, what `acks` returns:
   * it is called with the messages posted once this post is in Redis.
   */
  piggyback(acks: (issued: number) => Acks | undefined): void {
    this.#piggyback = acks;
  }
}

/**
 * Acknowledgements that ride on a post (see POST): the receiving edge's
 * keys and the script's arguments for them, and what to do with the reply.
 */
export interface Acks {
  readonly keys: readonly string[];
  readonly args: readonly (string | number)[];
  replied(reply: Reply): void;
  failed(error: unknown): void;
}

/** One entry a receiver holds: delivered, not acknowledged yet. */
interface Held {
  readonly id: string;
  readonly sender: string;
  readonly n: number;
}

/**
 * A receiver's side of a Redis edge: a wire per sender (by index) fed by
 * one reader, and the credit that acknowledges entries once their
 * messages are consumed.
 */
export class RedisReceiver {
  readonly wires: Wire[];
  readonly credit: ReceiverCredit;
  /** Messages delivered so far. */
  delivered = 0;
  /** Entries that were delivered before (adopted from a dead member). */
  redelivered = 0;
  /**
   * How many times the batch being delivered was (1 the first time): read
   * it while a wire's listener runs.
   */
  deliveries = 1;
  #overDelivered: OverDelivered | undefined;
  readonly #t: RedisTransport;
  readonly #end: RedisEnd;
  readonly #keys: EdgeKeys;
  readonly #opened: Opened;
  readonly #deliver: ((item: WireItem) => void)[] = [];
  readonly #held: Held[] = [];
  /** Messages of the held entries. */
  #heldMessages = 0;
  readonly #limit: number;
  readonly #failures: ReceiverFailure[] = [];
  #consumed = 0;
  #closed = false;
  #started = false;
  #blocked: Blocking | undefined;
  /** Resolved when held entries were consumed (the reader may read more). */
  #demand: PromiseWithResolvers<void> | undefined;
  readonly #pilled = new Set<number>();
  readonly #close = () => this.close();
  #grace: ReturnType<typeof setTimeout> | undefined;

  /** Reads on until every sender's end, for at most GRACE_MS. */
  #soften(): void {
    if (this.#closed || this.#grace !== undefined) return;
    if (!this.#started || this.#pilled.size === this.#end.senders) {
      this.close();
      return;
    }
    this.#grace = setTimeout(() => this.close(), GRACE_MS);
    this.#opened.softened.add(this.#ended.promise);
  }

  /** Resolved once the receiver stopped, for good. */
  readonly #ended = Promise.withResolvers<void>();

  constructor(t: RedisTransport, end: RedisEnd, opened: Opened) {
    this.#t = t;
    this.#end = end;
    this.#keys = edgeKeys(end.prefix, end.edge);
    this.#opened = opened;
    this.#limit = Math.max(1, Math.floor(end.maxsize / 2));
    const close = this.#close;
    opened.closers.add(close);
    this.wires = Array.from({ length: end.senders }, (_, s): Wire => ({
      post: () => {
        throw new Error("A receiver's wire does not post");
      },
      listen: (deliver) => {
        this.#deliver[s] = deliver;
        if (!this.#started) {
          this.#started = true;
          queueMicrotask(() => this.#run());
        }
      },
      // An inlet closed (a run settling closes its results' inlet when its
      // last actor said it was done) may still have its senders' ends to
      // read: the pills that are in Redis by then, which Redis shows only
      // once it is asked. The edge's close (or the transport's) stops it.
      close: () => this.#soften(),
    }));
    this.credit = {
      took: () => this.consume(1),
      flush: () => {},
    };
  }

  /** Calls `listener` if the receiver fails (it then delivers nothing more). */
  onFailure(listener: ReceiverFailure): void {
    this.#failures.push(listener);
  }

  /**
   * Hands entries delivered more than `maxDeliveries` times to `listener`
   * (then acknowledges them) instead of failing.
   */
  onOverDelivered(listener: OverDelivered): void {
    this.#overDelivered = listener;
  }

  /** How many entries to read now. */
  #want(): number {
    if (this.#held.length < 2) return READ_COUNT;
    return this.#heldMessages < this.#limit ? READ_COUNT : 0;
  }

  /** Entries held and not yet acknowledged. */
  get held(): number {
    return this.#held.length;
  }

  /** Messages to consume before the oldest entry held is done (0: none). */
  get toNext(): number {
    return this.#held.length === 0 ? 0 : this.#held[0].n - this.#consumed;
  }

  /**
   * Records that `n` more messages, in delivery order, were consumed:
   * every entry whose messages all were is acknowledged, and its tokens
   * go back.
   */
  consume(n: number): void {
    const acks = this.settle(n);
    if (acks === undefined) return;
    const k = this.#keys;
    this.#t.link.eval(ACK, [k.fenced, ...acks.keys], [
      this.#t.process,
      ...acks.args,
    ]).then(acks.replied, acks.failed);
  }

  /**
   * Records that `n` more messages, in delivery order, were consumed, and
   * returns the acknowledgement of every entry whose messages all were, for
   * the caller to send (with a post of what was made of them: see POST).
   */
  settle(n: number): Acks | undefined {
    this.#consumed += n;
    const done: Held[] = [];
    while (this.#held.length > 0 && this.#consumed >= this.#held[0].n) {
      const h = this.#held.shift()!;
      this.#heldMessages -= h.n;
      this.#consumed -= h.n;
      done.push(h);
    }
    if (done.length === 0 || this.#closed) return undefined;
    const demand = this.#demand;
    this.#demand = undefined;
    demand?.resolve();
    const k = this.#keys;
    return {
      keys: [k.s, k.t, k.n, k.w, k.k, k.h],
      args: [this.#end.group, ...done.flatMap((h) => [h.id, h.sender, h.n])],
      replied: (free) => (this.#opened.free = Number(free)),
      failed: (error) => this.#fail(error),
    };
  }

  #fail(error: unknown): void {
    if (this.#closed) return;
    const e = error instanceof Error ? error : new Error(String(error));
    this.close();
    for (const f of this.#failures) f(e);
  }

  /** Stops reading; what was delivered stays delivered. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#opened.closers.delete(this.#close);
    this.#opened.softened.delete(this.#ended.promise);
    this.#ended.resolve();
    clearTimeout(this.#grace);
    if (this.#blocked !== undefined) this.#t.link.unblock(this.#blocked);
    this.#demand?.resolve();
  }

  #entry(raw: Reply, deliveries = 1): void {
    const [id, fields] = raw as [Reply, Reply[]];
    let sender = "";
    let n = 0;
    let bytes: Buffer | undefined;
    for (let i = 0; i < fields.length; i += 2) {
      const name = text(fields[i]);
      if (name === "s") sender = text(fields[i + 1]);
      else if (name === "n") n = Number(text(fields[i + 1]));
      else if (name === "b") bytes = fields[i + 1] as Buffer;
    }
    const limit = this.#end.maxDeliveries;
    if (limit > 0 && deliveries > limit) {
      const error = new Error(
        `an entry of ${n} messages from sender ${sender} of the edge into ${this.#end.group} was delivered ${deliveries} times, more than maxDeliveries (${limit})`,
      );
      const over = this.#overDelivered;
      if (over === undefined) throw error;
      // Never delivered: acknowledged once its messages are elsewhere.
      const k = this.#keys;
      over(deserialize(bytes!), error, deliveries).then(() =>
        this.#t.link.eval(ACK, [k.fenced, k.s, k.t, k.n, k.w, k.k, k.h], [
          this.#t.process,
          this.#end.group,
          text(id),
          sender,
          n,
        ])
      ).then(
        (free) => (this.#opened.free = Number(free)),
        (e) => this.#fail(e),
      );
      return;
    }
    const batch = deserialize(bytes!);
    this.#held.push({ id: text(id), sender, n });
    this.#heldMessages += n;
    this.delivered += batch.length;
    if (deliveries > 1) this.redelivered += batch.length;
    this.deliveries = deliveries;
    this.#deliver[Number(sender)]?.(batch);
  }

  async #run(): Promise<void> {
    const t = this.#t;
    const k = this.#keys;
    const end = this.#end;
    const consumer = consumerOf(end.index, end.attempt);
    try {
      for (const dead of end.adopt) {
        const [entries, deliveries] = await t.link.eval(ADOPT, [
          k.fenced,
          k.s,
        ], [t.process, end.group, dead, consumer]) as [Reply[], Reply[]];
        entries.forEach((e, i) => this.#entry(e, Number(deliveries[i]) + 1));
      }
      while (!this.#closed) {
        const want = this.#want();
        const [entries, ended, lastS, lastW, free] = await t.link.eval(READ, [
          k.fenced,
          k.s,
          k.d,
          k.n,
          k.w,
          k.t,
        ], [t.process, end.group, consumer, Math.max(0, want)]) as [
          Reply[],
          Reply[],
          Reply,
          Reply,
          number,
        ];
        this.#opened.free = Number(free);
        if (this.#closed) return;
        for (const e of entries) this.#entry(e);
        for (const s of ended) {
          const index = Number(text(s));
          if (this.#pilled.has(index)) continue;
          this.#pilled.add(index);
          this.#deliver[index]?.(PILL);
        }
        if (this.#pilled.size === end.senders) {
          if (this.#grace !== undefined) this.close();
          return;
        }
        // Fewer than asked for: the stream had no more, block from here.
        if (entries.length > 0 && entries.length >= want) continue;
        if (this.#want() <= 0) {
          this.#demand = Promise.withResolvers();
          await this.#demand.promise;
          continue;
        }
        if (want <= 0) continue;
        const b = this.#blocked = await t.link.borrow();
        try {
          if (this.#closed) return;
          await t.link.read(b, [
            "XREAD",
            "BLOCK",
            String(BLOCK_MS),
            "STREAMS",
            k.s,
            k.w,
            text(lastS),
            text(lastW),
          ]);
        } finally {
          this.#blocked = undefined;
          t.link.giveBack(b);
        }
      }
    } catch (error) {
      this.#fail(error);
    }
  }
}
