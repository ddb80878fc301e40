/**
 * Writes `sales.jsonl`, the input of `../jsonl_aggregate.ts`: 3000 sales
 * records, one JSON object a line, from a seeded generator, so the file is
 * the same on every run. Run it only to remake the file:
 *
 *     deno run --allow-write=examples/data examples/data/make_sales.ts
 *
 * @module
 */

/** A sale: prices and amounts in integer cents, so sums are exact. */
export interface Sale {
  order: number;
  day: string;
  region: string;
  product: string;
  qty: number;
  cents: number;
}

const REGIONS = ["north", "south", "east", "west"];
const PRODUCTS: [string, number][] = [
  ["anvil", 4_999],
  ["bellows", 2_450],
  ["candle", 350],
  ["chisel", 1_275],
  ["file", 899],
  ["hammer", 1_999],
  ["kettle", 3_200],
  ["lantern", 2_795],
  ["nails", 199],
  ["pliers", 1_150],
  ["rope", 640],
  ["saw", 2_299],
  ["shovel", 2_680],
  ["tongs", 1_499],
  ["wrench", 1_725],
];

/** A small seeded generator (mulberry32): the same numbers every time. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The records, in order. */
export function sales(count: number, seed = 1): Sale[] {
  const next = random(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)];
  const start = Date.UTC(2024, 0, 1);
  return Array.from({ length: count }, (_, i) => {
    const [product, list] = pick(PRODUCTS);
    return {
      order: i + 1,
      day: new Date(start + Math.floor(next() * 366) * 86_400_000)
        .toISOString().slice(0, 10),
      region: pick(REGIONS),
      product,
      qty: 1 + Math.floor(next() * next() * 12),
      // Up to 20% off the list price, in whole cents.
      cents: list - Math.floor(next() * list * 0.2),
    };
  });
}

if (import.meta.main) {
  const file = new URL("./sales.jsonl", import.meta.url);
  const text = sales(3000).map((s) => JSON.stringify(s)).join("\n") + "\n";
  await Deno.writeTextFile(file, text);
  console.log(`wrote ${file.pathname} (${text.length} bytes)`);
}
