/**
 * A process's connections to Redis, in its main thread only: one for
 * commands and scripts (replies pipelined in order), and a small pool for
 * the blocking reads (a receiver waiting for entries, a sender waiting for
 * credit), each of which can be woken with `CLIENT UNBLOCK`.
 *
 * node-redis retries a lost connection forever and queues commands while
 * it is down; here the offline queue is off, a command issued while the
 * connection is down waits for it to come back for at most
 * `unreachableMs`, and after that long the link fails for good: every
 * listener of {@linkcode RedisLink.onFailure} hears one clear error.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import { createClient, RESP_TYPES } from "redis";
import { type Script, SCRIPTS } from "./scripts.ts";
import { safeUrl } from "../../common/redis_url.ts";

export { safeUrl };

/** How a process connects. */
export interface RedisLinkOptions {
  /** A `redis://` URL. */
  readonly url: string;
  /**
   * How long Redis may be unreachable before the link fails (ms), at the
   * first connection and after. Default 10 000.
   */
  readonly unreachableMs?: number;
}

/** What a reply holds: bulk strings come as Buffers. */
export type Reply = null | number | Buffer | Reply[] | { [k: string]: Reply };

// deno-lint-ignore no-explicit-any
type Client = any;

/** A blocking connection and its id (for `CLIENT UNBLOCK`). */
export interface Blocking {
  readonly client: Client;
  readonly id: number;
}

/** The message of an error a command failed with, without node-redis' class. */
function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** One process's connections to one Redis. */
export class RedisLink {
  readonly url: string;
  readonly #unreachableMs: number;
  readonly #command: Client;
  readonly #shas = new Map<string, string>();
  readonly #idle: Blocking[] = [];
  readonly #blocking = new Set<Blocking>();
  readonly #listeners = new Set<(error: Error) => void>();
  #failure: Error | undefined;
  #closed = false;
  /**
   * Resolves when the command connection is ready again, with the same
   * Redis server; commands wait for it.
   */
  #ready: PromiseWithResolvers<void> | undefined;
  /** The server's `run_id` at the first connection. */
  #server: string | undefined;
  /** Commands sent and not answered, and when the last answer came. */
  #pending = 0;
  #answered = 0;
  #watchdog: ReturnType<typeof setInterval> | undefined;

  private constructor(command: Client, options: RedisLinkOptions) {
    this.url = options.url;
    this.#unreachableMs = options.unreachableMs ?? 10_000;
    this.#command = command;
    // A Redis that keeps the connection but stops answering fails the link
    // too: one timer per link, where node-redis' command timeout cost a
    // timer per command (turned off in #client).
    this.#watchdog = setInterval(() => {
      if (
        this.#pending > 0 &&
        performance.now() - this.#answered > this.#unreachableMs
      ) {
        this.#fail(
          new Error(
            `Redis at ${
              safeUrl(this.url)
            } did not answer for more than ${this.#unreachableMs} ms`,
          ),
        );
      }
    }, Math.max(50, Math.min(1000, this.#unreachableMs / 4)));
    Deno.unrefTimer(this.#watchdog);
  }

  /** Connects, loads the scripts; rejects after `unreachableMs`. */
  static async connect(options: RedisLinkOptions): Promise<RedisLink> {
    const unreachableMs = options.unreachableMs ?? 10_000;
    // The strategy's callback may run before the link exists.
    // deno-lint-ignore prefer-const
    let link: RedisLink | undefined;
    const command = RedisLink.#client(
      options.url,
      unreachableMs,
      (error) => {
        if (link !== undefined) link.#fail(error);
      },
    );
    link = new RedisLink(command, options);
    command.on("error", () => {}); // failures come through the strategy
    command.on("end", () => {
      if (!link.#closed) {
        link.#fail(
          new Error(
            `Redis at ${
              safeUrl(options.url)
            } was unreachable for more than ${unreachableMs} ms`,
          ),
        );
      }
    });
    command.on("reconnecting", () => {
      link.#ready ??= Promise.withResolvers();
    });
    command.on("ready", () => {
      const ready = link.#ready;
      if (ready === undefined) return;
      if (link.#server === undefined) {
        // The first connection, after retries: connect() reads the server.
        link.#ready = undefined;
        ready.resolve();
        return;
      }
      // Back: the same Redis, or one that restarted (and so lost, or
      // rolled back, what the run holds there), which fails the link.
      RedisLink.#serverOf(command).then((server) => {
        if (server !== link.#server) {
          link.#fail(
            new Error(
              `Redis at ${
                safeUrl(options.url)
              } restarted during the run (its run_id changed): the streams, credits and pending entries of the run it held may be lost or older, so the run cannot go on`,
            ),
          );
          return;
        }
        if (link.#ready === ready) link.#ready = undefined;
        ready.resolve();
      }, () => {
        // Dropped again: the next "ready" looks again.
      });
    });
    try {
      await command.connect();
    } catch (error) {
      link.#closed = true;
      clearInterval(link.#watchdog);
      throw new Error(
        `Cannot connect to Redis at ${safeUrl(options.url)}: ${
          messageOf(error)
        }`,
      );
    }
    link.#server = await RedisLink.#serverOf(command);
    await link.#load();
    return link;
  }

  /** The `run_id` of the Redis server: a new one each time it starts. */
  static async #serverOf(command: Client): Promise<string> {
    const info = String(await command.sendCommand(["INFO", "server"]));
    return /run_id:(\w+)/.exec(info)?.[1] ?? "";
  }

  static #client(
    url: string,
    unreachableMs: number,
    giveUp: (error: Error) => void,
  ): Client {
    let since = 0;
    return createClient({
      url,
      disableOfflineQueue: true,
      // No timer per command (see the watchdog in the constructor).
      commandOptions: { timeout: 0 },
      socket: {
        connectTimeout: Math.min(unreachableMs, 5000),
        reconnectStrategy: (retries: number, cause: Error) => {
          if (retries === 0) since = Date.now();
          if (Date.now() - since >= unreachableMs) {
            const error = new Error(
              `Redis at ${
                safeUrl(url)
              } was unreachable for more than ${unreachableMs} ms: ${cause.message}`,
            );
            giveUp(error);
            return error;
          }
          return Math.min(50 * 2 ** retries, 500);
        },
      },
    }).withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer });
  }

  async #load(): Promise<void> {
    for (const script of SCRIPTS) {
      const sha = await this.#command.sendCommand([
        "SCRIPT",
        "LOAD",
        script.lua,
      ]);
      this.#shas.set(script.name, String(sha));
    }
  }

  /** The failure the link ended with, if it did. */
  get failure(): Error | undefined {
    return this.#failure;
  }

  /** Calls `listener` once if the link fails for good; returns an undo. */
  onFailure(listener: (error: Error) => void): () => void {
    if (this.#failure !== undefined) {
      queueMicrotask(() => listener(this.#failure!));
      return () => {};
    }
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #fail(error: Error): void {
    if (this.#failure !== undefined) return;
    this.#failure = error;
    clearInterval(this.#watchdog);
    this.#ready?.reject(error);
    this.#ready?.promise.catch(() => {});
    for (const listener of this.#listeners) listener(error);
    this.#listeners.clear();
  }

  /**
   * Sends a command; a command refused because the connection is down is
   * sent again once it is back (it never reached Redis). One in flight when
   * the connection dropped may or may not have run: it fails, with the
   * link's failure if Redis stays unreachable past `unreachableMs`.
   */
  async command(args: readonly (string | Buffer)[]): Promise<Reply> {
    for (;;) {
      if (this.#failure !== undefined) throw this.#failure;
      // Reconnected, not yet known to be the same server: wait.
      if (this.#ready !== undefined) await this.#ready.promise;
      try {
        if (this.#pending++ === 0) this.#answered = performance.now();
        try {
          return await this.#command.sendCommand(args);
        } finally {
          this.#pending--;
          this.#answered = performance.now();
        }
      } catch (error) {
        if (this.#offline(error)) {
          this.#ready ??= Promise.withResolvers();
          await this.#ready.promise;
          continue;
        }
        if (this.#dropped(error)) {
          this.#ready ??= Promise.withResolvers();
          await this.#ready.promise; // rejects with the link's failure
          throw new Error(
            `the connection to Redis at ${
              safeUrl(this.url)
            } dropped while a command was in flight (${
              messageOf(error)
            }); it may or may not have run, so the run cannot go on`,
          );
        }
        throw error;
      }
    }
  }

  /**
   * A blocking read on `blocking`: a read that the connection lost returns
   * null once Redis is back (read again), and throws the link's failure if
   * it stays unreachable.
   */
  async read(
    blocking: Blocking,
    args: readonly (string | Buffer)[],
  ): Promise<Reply> {
    if (this.#failure !== undefined) throw this.#failure;
    try {
      return await blocking.client.sendCommand(args);
    } catch (error) {
      if (!this.#offline(error) && !this.#dropped(error)) throw error;
      if (this.#closed) return null;
      this.#ready ??= Promise.withResolvers();
      await this.#ready.promise;
      return null;
    }
  }

  /** A connection error, not a reply of Redis. */
  #dropped(error: unknown): boolean {
    if (this.#closed) return false;
    const name = (error as Error)?.constructor?.name;
    if (name === "ErrorReply" || name === "SimpleError") return false;
    return /EPIPE|ECONNRESET|ECONNREFUSED|socket|closed|disconnect/i.test(
      messageOf(error),
    );
  }

  #offline(error: unknown): boolean {
    const m = messageOf(error);
    return !this.#closed && this.#failure === undefined &&
      (/offline/i.test(m) || /closed/i.test(m) && this.#command.isOpen);
  }

  /** Runs a script by its sha, loading the scripts again if Redis lost them. */
  async eval(
    script: Script,
    keys: readonly string[],
    args: readonly (string | number | Buffer)[],
  ): Promise<Reply> {
    const argv = args.map((a) => typeof a === "number" ? String(a) : a);
    for (let attempt = 0;; attempt++) {
      try {
        return await this.command([
          "EVALSHA",
          this.#shas.get(script.name)!,
          String(keys.length),
          ...keys,
          ...argv,
        ]);
      } catch (error) {
        if (attempt === 0 && /NOSCRIPT/.test(messageOf(error))) {
          await this.#load();
          continue;
        }
        throw error;
      }
    }
  }

  /** A blocking connection, from the pool or new. */
  async borrow(): Promise<Blocking> {
    const idle = this.#idle.pop();
    if (idle !== undefined) return idle;
    if (this.#failure !== undefined) throw this.#failure;
    const client = this.#command.duplicate();
    client.on("error", () => {});
    await client.connect();
    const id = Number(await client.sendCommand(["CLIENT", "ID"]));
    const blocking = { client, id };
    this.#blocking.add(blocking);
    return blocking;
  }

  /** Returns a blocking connection to the pool. */
  giveBack(blocking: Blocking): void {
    if (this.#closed) {
      this.#blocking.delete(blocking);
      blocking.client.destroy();
    } else this.#idle.push(blocking);
  }

  /** Wakes a blocked command on `blocking` (it returns as if timed out). */
  unblock(blocking: Blocking): void {
    this.command(["CLIENT", "UNBLOCK", String(blocking.id)]).catch(() => {});
  }

  /**
   * Marks the link closed and drops the blocking connections: false if it
   * was closed already.
   */
  #closing(): boolean {
    if (this.#closed) return false;
    this.#closed = true;
    clearInterval(this.#watchdog);
    for (const b of this.#blocking) b.client.destroy();
    this.#blocking.clear();
    this.#idle.length = 0;
    return true;
  }

  /** Closes every connection; pending commands reject. */
  close(): void {
    if (!this.#closing()) return;
    try {
      this.#command.destroy();
    } catch {
      // already gone
    }
  }

  /** Closes after the commands already sent were answered. */
  async quit(): Promise<void> {
    if (!this.#closing()) return;
    try {
      await this.#command.close();
    } catch {
      // gone already
    }
  }
}
