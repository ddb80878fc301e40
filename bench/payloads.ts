/**
 * The messages and the work of the benchmarks, shared by baton's actors and
 * the raw workers so that both move and compute exactly the same things.
 *
 * @module
 */

/**
 * What a source sends: small numbers, ~1 KB objects, 64 KB `Uint8Array`s
 * copied, 64 KB `Uint8Array`s whose buffers are transferred, or the ~1 KB
 * objects as JSON text.
 */
export type Payload = "number" | "object" | "bytes" | "transfer" | "json";

/**
 * What a middle stage does to each message before passing it on: nothing,
 * FNV-1a over 16 KB seeded with the message, or `JSON.parse` of it (passing
 * on the parsed object's `id`).
 */
export type Work = "none" | "hash" | "parse";

/** Bytes of a `bytes` or `transfer` message. */
export const BYTES = 64 * 1024;

/** Bytes hashed per message by the `hash` work. */
export const HASHED = 16 * 1024;

/**
 * Distinct messages a source cycles through. Structured clone copies an
 * object once per post however often the post holds it, so a batch of 64
 * must hold 64 distinct objects to cost what 64 messages cost.
 */
const RING = 256;

/** A ~1 KB object (792 bytes of JSON) with nested objects, arrays, strings. */
export function order(id: number): Record<string, unknown> {
  return {
    id,
    name: `order-${String(id).padStart(6, "0")}`,
    customer: { id: id % 977, name: "Ada Lovelace", email: "ada@example.com" },
    items: Array.from({ length: 8 }, (_, i) => ({
      sku: `SKU-${i}`,
      qty: i,
      price: 9.99 + i,
    })),
    note: "x".repeat(300),
    tags: ["a", "b", "c"],
    createdAt: "2024-01-01T00:00:00Z",
  };
}

/** Returns the message maker of a payload: `make(i)` gives the `i`-th message. */
export function maker(payload: Payload): (i: number) => unknown {
  switch (payload) {
    case "number":
      return (i) => i;
    case "object": {
      const ring = Array.from({ length: RING }, (_, i) => order(i));
      return (i) => ring[i % RING];
    }
    case "bytes": {
      const ring = Array.from({ length: RING }, () => new Uint8Array(BYTES));
      return (i) => ring[i % RING];
    }
    case "transfer":
      return () => new Uint8Array(BYTES);
    case "json": {
      const ring = Array.from({ length: RING }, (_, i) => json(i));
      return (i) => ring[i % RING];
    }
  }
}

const HASH_INPUT = new Uint8Array(HASHED).map((_, i) => (i * 31) & 0xff);

/** FNV-1a over 16 KB, seeded with the message: CPU work in pure JS. */
export function hash(seed: number): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < HASH_INPUT.length; i++) {
    h ^= HASH_INPUT[i];
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** The `id`-th ~1 KB object as JSON: 792 bytes. */
export function json(id: number): string {
  return JSON.stringify(order(id));
}

/** Parses a message of the `json` payload; returns its `id`. */
export function parse(text: string): number {
  return (JSON.parse(text) as { id: number }).id;
}

/**
 * Items each worker that does the work runs it on before the clock starts:
 * Piscina's warm-up (64 tasks of 64 items over its 2 threads) per thread.
 */
export const WARMUP = 2048;

/**
 * Runs `work` on {@linkcode WARMUP} inputs of its payload, calling it as the
 * stages do, so that its code is compiled and optimised before the clock
 * starts, as Piscina's threads are warmed up (`peer.ts`). Returns a value
 * that depends on every result, so that none can be left out.
 */
export function warmUp(work: Work): number {
  let sum = 0;
  if (work === "hash") {
    for (let i = 0; i < WARMUP; i++) sum ^= hash(i);
  } else if (work === "parse") {
    const make = maker("json");
    for (let i = 0; i < WARMUP; i++) sum += parse(make(i) as string);
  }
  return sum;
}

/** Spins for `us` microseconds: a consumer slower than its producer. */
export function spin(us: number): void {
  const until = performance.now() + us / 1000;
  while (performance.now() < until) { /* spin */ }
}
