/**
 * The local legs of a Redis edge. An actor's worker never talks to Redis:
 * its process's main thread opens the actor's Redis ends and links them to
 * the actor over port links, with their shared-memory credits, as between
 * any two threads of one process.
 *
 * - Receiving: the main thread reads the edge's entries for the actor and
 *   forwards every message, whichever sender's, on one port link, in the
 *   order delivered, so the actor handles them in that order (and order per
 *   sender holds); each upstream sender's pill comes on a link of its own,
 *   so the actor still counts one per sender. An entry is acknowledged, and
 *   its credit tokens go back to Redis, only once the actor handled every
 *   message of it and of the entries before it (its `recv()` settled, in
 *   delivery order: the `HANDLED` counter of `common/stats.ts`) and
 *   everything the actor sent meanwhile is in Redis (the sending leg's
 *   posts were answered): an entry in this process's hands when it dies is
 *   still pending in Redis, and another process takes it over, so what
 *   the dead process had in hand may be handled twice, and nothing is
 *   lost.
 * - Sending: the actor sends on a port link to the main thread, which
 *   sends each message on to the Redis edge; it waits there for credit, and
 *   the actor waits on its port link meanwhile.
 *
 * @module
 */

import type {
  ErrorData,
  InitMessage,
  ReceiverEndSpec,
  SenderEndSpec,
} from "../../common/protocol.ts";
import { toErrorData } from "../../common/error_data.ts";
import { Outlet } from "../../link/outlet.ts";
import { portTransport } from "../../link/port/transport.ts";
import type {
  Acks,
  RedisSender,
  RedisTransport,
} from "../../link/redis/transport.ts";
import { redisEnd } from "../../link/redis/transport.ts";
import type { EdgeHandle } from "../../link/transport.ts";
import { PILL } from "../../link/transport.ts";
import {
  HANDLED,
  HANDLED_BELL,
  HANDLED_TARGET,
  int32Cell,
  SENT,
  WIDTH,
} from "../../common/stats.ts";

/**
 * How long a receiving leg waits for its actor's bell (see `HANDLED_TARGET`)
 * before it looks anyway (ms): a backstop, the bell or a post's answer
 * comes first.
 */
const CONSUMED_POLL_MS = 50;

/** An actor's init message with its Redis ends bridged. */
export interface Bridged {
  /** The init message, with port ends for the actor's worker. */
  readonly init: InitMessage;
  /** What the init message transfers. */
  readonly transfer: Transferable[];
  /** Messages redelivered to this actor (adopted from a dead member). */
  redelivered(): number;
  /**
   * Messages sent to the dead letters here, never delivered to the actor:
   * those of entries delivered more than `maxDeliveries` times.
   */
  skipped(): number;
  /** Closes both legs: stops reading, wakes a send waiting for credit. */
  close(): void;
}

/** Whether an end is the Redis transport's. */
export function isRedisEnd(end: { transport: string } | undefined): boolean {
  return end !== undefined && end.transport.startsWith("redis");
}

/** A message the bridge sends to the dead letters, as an actor's runner does. */
export interface BridgedDeadLetter {
  readonly kind: "dead";
  readonly message: unknown;
  readonly error: ErrorData;
  readonly attempts: number;
}

/**
 * Posts dead letters to the run (as if the actor had); resolves once they
 * are safe there (in Redis, or in the coordinator's hands).
 */
export type DeadLetterPost = (
  letters: readonly BridgedDeadLetter[],
) => Promise<void>;

/**
 * Bridges the Redis ends of `init` (if any) over port links; `onFailure`
 * hears a leg that fails (fenced, Redis lost, a message it cannot carry).
 * With `deadLetters`, a group whose `onError` is `"skip"` sends the
 * messages of an entry delivered more than `maxDeliveries` times there
 * instead of failing.
 */
export function bridge(
  init: InitMessage,
  transport: RedisTransport,
  onFailure: (error: Error, phase: "recv" | "send") => void,
  deadLetters?: DeadLetterPost,
): Bridged {
  const closers: (() => void)[] = [];
  const transfer: Transferable[] = [];
  let inlet = init.inlet;
  let outlet = init.outlet;
  let redelivered = () => 0;
  let skipped = () => 0;
  // The envelope of a message delivered again: a key no message has.
  const mark = `baton.redelivered.${crypto.randomUUID()}`;
  // Without a Redis sending leg, what the actor sends stays in this
  // process, which the run cannot outlive: nothing to wait for.
  let sender: RedisSender | undefined;
  if (isRedisEnd(outlet)) {
    const leg = sending(outlet!, transport, (e) => onFailure(e, "send"));
    outlet = leg.end;
    closers.push(leg.close);
    transfer.push(...portTransport.transferables(leg.end));
    sender = leg.side;
  }
  if (isRedisEnd(inlet)) {
    const cells = new Float64Array(init.stats.buffer);
    const base = init.stats.index * WIDTH;
    // An actor restarted in the coordinator's process counts on in its
    // slot of the run's counters: this incarnation's start from there.
    const handled0 = cells[base + HANDLED];
    const sent0 = cells[base + SENT];
    // (handled, sent) as read together: once what was sent by then is in
    // Redis, what was handled by then may be acknowledged.
    const marks: [number, number][] = [];
    let safe = 0;
    /**
     * What was handled and may be acknowledged once `posted` of what the
     * actor sent are in Redis (by default: those Redis answered).
     */
    const ackable = (posted = sender?.confirmed) => {
      const handled = cells[base + HANDLED] - handled0;
      if (posted === undefined) return handled;
      if (handled > (marks[marks.length - 1]?.[0] ?? safe)) {
        // Read after HANDLED: it counts at least what those messages sent.
        marks.push([handled, cells[base + SENT] - sent0]);
      }
      while (marks.length > 0 && marks[0][1] <= posted) {
        safe = marks.shift()![0];
      }
      return safe;
    };
    // Rings once the actor handled `target` messages (see HANDLED_TARGET).
    const bells = new Int32Array(init.stats.buffer);
    const bell = int32Cell(base + HANDLED_BELL);
    const handledBy = (target: number) => {
      cells[base + HANDLED_TARGET] = handled0 + target;
      const rung = Atomics.load(bells, bell);
      if (cells[base + HANDLED] >= handled0 + target) return undefined;
      const wait = Atomics.waitAsync(bells, bell, rung, CONSUMED_POLL_MS);
      return wait.async ? wait.value.then(() => {}) : undefined;
    };
    const leg = receiving(
      inlet!,
      transport,
      ackable,
      handledBy,
      (e) => onFailure(e, "recv"),
      mark,
      init.policy.onError === "skip" ? deadLetters : undefined,
    );
    if (sender !== undefined) {
      // Each post acknowledges what it completes, in the same script; what
      // a post's answer completes is acknowledged at once.
      sender.piggyback(leg.settle);
      sender.onConfirmed(leg.look);
    }
    inlet = leg.end;
    closers.push(leg.close);
    transfer.push(...portTransport.transferables(leg.end));
    redelivered = leg.redelivered;
    skipped = leg.skipped;
  }
  return {
    // The ends' acknowledgements wait for the actor's count of handled ones.
    init: {
      ...init,
      inlet,
      outlet,
      countHandled: true,
      ...(isRedisEnd(init.inlet) ? { redelivery: mark } : {}),
    },
    transfer,
    redelivered: () => redelivered(),
    skipped: () => skipped(),
    close: () => {
      for (const close of closers.splice(0)) close();
    },
  };
}

function receiving(
  spec: ReceiverEndSpec,
  transport: RedisTransport,
  ackable: (posted?: number) => number,
  handledBy: (target: number) => Promise<void> | undefined,
  onFailure: (error: Error) => void,
  mark: string,
  deadLetters: DeadLetterPost | undefined,
): {
  end: ReceiverEndSpec;
  close: () => void;
  redelivered: () => number;
  skipped: () => number;
  settle: (posted: number) => Acks | undefined;
  look: () => void;
} {
  const end = redisEnd(spec);
  const local: EdgeHandle = portTransport.createEdge({
    from: "redis",
    to: end.group,
    senders: end.senders,
    receivers: 1,
    maxsize: end.maxsize,
  });
  const outlets = local.senders.map((s) =>
    portTransport.openSender(s, (error) => fail(error))
  );
  const side = transport.receiver(spec);
  let closed = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let counted = 0;
  let ringing = false;
  const fail = (error: unknown) => {
    if (closed) return;
    close();
    onFailure(error instanceof Error ? error : new Error(String(error)));
  };
  side.onFailure(fail);
  let skipped = 0;
  if (deadLetters !== undefined) {
    side.onOverDelivered((batch, error, deliveries) => {
      skipped += batch.length;
      const data = toErrorData(error);
      return deadLetters(batch.map((message) => ({
        kind: "dead",
        message,
        error: data,
        attempts: deliveries,
      })));
    });
  }
  /**
   * Acknowledges what the actor handled since the last look, then waits for
   * the actor to handle the oldest entry held (its bell rings), or for at
   * most CONSUMED_POLL_MS. An entry handled whose messages' sends are not
   * in Redis yet waits for the answer of the post (`onConfirmed` looks),
   * or goes with the next post (`settle`).
   */
  const look = () => {
    clearTimeout(timer);
    timer = undefined;
    for (;;) {
      if (closed) return;
      const safe = ackable();
      if (safe > counted) {
        side.consume(safe - counted);
        counted = safe;
      }
      if (side.held === 0 || ringing) return;
      const bell = handledBy(counted + side.toNext);
      if (bell === undefined) {
        // Handled already: acknowledge it now, or once it is in Redis.
        if (ackable() > counted) continue;
        timer = setTimeout(look, CONSUMED_POLL_MS);
        return;
      }
      ringing = true;
      bell.then(() => {
        ringing = false;
        look();
      });
      return;
    }
  };
  /** What a post that puts `posted` messages in Redis may acknowledge. */
  const settle = (posted: number): Acks | undefined => {
    if (closed) return undefined;
    const safe = ackable(posted);
    if (safe <= counted) return undefined;
    const acks = side.settle(safe - counted);
    counted = safe;
    return acks;
  };
  // One queue for every wire, in arrival order, forwarded one at a time,
  // with the times each batch was delivered. Every message goes on the
  // first port link, so the actor handles them in the order they were
  // delivered here: its count of handled messages then says which entries
  // are done (on a link per sender, the actor could take a later entry's
  // messages first, and an entry would be acknowledged with some of its
  // messages unhandled). Each sender's pill goes on a link of its own, the
  // first one's once every sender ended, after all the messages.
  const queue: [number, unknown, number][] = [];
  const ended = new Set<number>();
  const link = outlets[0];
  let pumping = false;
  const pump = async () => {
    if (pumping) return;
    pumping = true;
    try {
      while (queue.length > 0 && !closed) {
        const [s, item, deliveries] = queue.shift()!;
        if (item === PILL) {
          ended.add(s);
          if (s !== 0) outlets[s].close().catch(() => {});
          if (ended.size === outlets.length) link.close().catch(() => {});
          continue;
        }
        for (const message of item as unknown[]) {
          // Delivered before: the actor's runner unwraps it, and its
          // this.redelivered and this.attempt say so.
          const sent = link.send(
            deliveries > 1 ? { [mark]: deliveries, m: message } : message,
          );
          // A send with room resolves at once; only a full edge waits.
          await sent;
        }
        link.flush();
        if (!ringing && timer === undefined) look();
      }
    } catch (error) {
      fail(error);
    } finally {
      pumping = false;
    }
  };
  side.wires.forEach((wire, s) =>
    wire.listen((item) => {
      queue.push([s, item, side.deliveries]);
      pump();
    })
  );
  const close = () => {
    if (closed) return;
    closed = true;
    clearTimeout(timer);
    side.close();
    const reason = new DOMException("The bridge closed", "AbortError");
    for (const o of outlets) o.abort(reason);
    local.close();
  };
  return {
    end: local.receivers[0],
    close,
    redelivered: () => side.redelivered,
    skipped: () => skipped,
    settle,
    look,
  };
}

function sending(
  spec: SenderEndSpec,
  transport: RedisTransport,
  onFailure: (error: Error) => void,
): { end: SenderEndSpec; close: () => void; side: RedisSender } {
  const end = redisEnd(spec);
  const local: EdgeHandle = portTransport.createEdge({
    from: "actor",
    to: "redis",
    senders: 1,
    receivers: 1,
    maxsize: end.maxsize,
  });
  const inlet = portTransport.openReceiver(local.receivers[0]);
  const side = transport.sender(spec);
  let closed = false;
  const fail = (error: unknown) => {
    if (closed) return;
    close();
    onFailure(error instanceof Error ? error : new Error(String(error)));
  };
  const out = new Outlet([side.wire], side.credit, (error) => fail(error));
  side.onFailure((error) => {
    out.abort(error);
    fail(error);
  });
  inlet.run((message) => out.send(message), () => {}).then(
    () => out.close(),
  ).catch(fail);
  const close = () => {
    if (closed) return;
    closed = true;
    out.abort(new DOMException("The bridge closed", "AbortError"));
    side.wire.close();
    side.credit.wakeAll();
    inlet.close();
    local.close();
  };
  return { end: local.senders[0], close, side };
}
