/**
 * Piscina's task for the peer benchmark: a no-op, the same (lack of) work as
 * baton's `Pass` stage with work `"none"`.
 *
 * @module
 */

/** Returns its input. */
export default function noop(x: number): number {
  return x;
}
