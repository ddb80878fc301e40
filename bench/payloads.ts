/**
 * The messages and the work of the benchmarks, shared by baton's actors and
 * the raw workers so that both move and compute exactly the same things.
 *
 * @module
 */

/**
 * What a source sends: small numbers, ~1 KB objects, 64 KB `Uint8Array`s
 * copied, or 64 KB `Uint8Array`s whose buffers are transferred.
 */
export type Payload = "number" | "object" | "bytes" | "transfer";

/** What a middle stage does to each message before passing it on. */
export type Work = "none" | "hash";

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

/** Applies `work` to a message. */
export function apply(work: Work, message: unknown): unknown {
  return work === "hash" ? hash(message as number) : message;
}
