/**
 * Piscina's tasks for the peer benchmark: the default export is a no-op,
 * the same (lack of) work as baton's `Pass` stage with work `"none"`; the
 * named ones do the suite's real work (`payloads.ts`) on one item, or map
 * it over an array of items (several items per task).
 *
 * @module
 */

import { hash, parse } from "./payloads.ts";

/** Returns its input. */
export default function noop(x: number): number {
  return x;
}

/** FNV-1a over 16 KB seeded with `seed`. */
export function hashOne(seed: number): number {
  return hash(seed);
}

/** {@linkcode hashOne} over each seed. */
export function hashMany(seeds: number[]): number[] {
  return seeds.map(hash);
}

/** `JSON.parse` of one text, its `id`. */
export function parseOne(text: string): number {
  return parse(text);
}

/** {@linkcode parseOne} over each text. */
export function parseMany(texts: string[]): number[] {
  return texts.map(parse);
}
