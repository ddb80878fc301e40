/**
 * One pass over a parsed YAML document, in time linear in its size: what
 * each alias stands for, the keys of each mapping (duplicates, and more than
 * {@linkcode CONFIG_LIMITS.mappingKeys}), and how many nodes the aliases add
 * (at most {@linkcode CONFIG_LIMITS.aliasNodes}); and the plain data of a
 * node from that pass.
 *
 * The yaml library does each of these in time that grows faster than the
 * file: its duplicate-key check (`uniqueKeys`) compares each key with every
 * key before it, and resolving an alias (`Alias.resolve()`, and `toJS()` on
 * any node holding one) walks the whole document each time. Files are
 * parsed with `uniqueKeys: false`, and this pass does both instead.
 *
 * @module
 */

import {
  type Alias,
  type Document,
  isAlias,
  isMap,
  isPair,
  isScalar,
  isSeq,
  type Node,
} from "yaml";
import { CONFIG_LIMITS } from "./limits.ts";

/** What the pass found: alias targets, and the problems of a file. */
export interface Scan {
  /** The node each alias stands for: the last anchor of its name before it. */
  readonly targets: ReadonlyMap<Alias, Node>;
  /** Problems at nodes: duplicate keys, and limits passed. */
  readonly problems: readonly { node: Node; message: string }[];
}

interface Frame {
  readonly node: Node;
  readonly children: readonly unknown[];
  next: number;
  /** The nodes this one stands for, its aliases expanded. */
  size: number;
}

/**
 * Walks the document once, without recursion (a file may nest deeply).
 * With `limits` false (a document made from an object given in code),
 * only the alias targets are collected.
 */
export function scan(doc: Document, limits: boolean): Scan {
  const targets = new Map<Alias, Node>();
  const problems: { node: Node; message: string }[] = [];
  const anchors = new Map<string, Node>();
  const sizes = new Map<Node, number>();
  const stack: Frame[] = [];
  let added = 0;

  /** A leaf's size, or undefined for a collection (pushed, to walk). */
  const enter = (value: unknown): number | undefined => {
    if (isAlias(value)) {
      const target = anchors.get(value.source);
      if (target === undefined) return 1; // a parse error of its own
      targets.set(value, target);
      // A target not yet complete holds this alias: a cycle, not a copy.
      const size = sizes.get(target) ?? 1;
      if (limits && added <= CONFIG_LIMITS.aliasNodes) {
        added += size;
        if (added > CONFIG_LIMITS.aliasNodes) {
          problems.push({
            node: value,
            message:
              `the aliases up to here stand for ${added} nodes, more than the ${CONFIG_LIMITS.aliasNodes} a file may add through aliases (CONFIG_LIMITS.aliasNodes); nested aliases multiply, write the values out or alias less`,
          });
        }
      }
      return size;
    }
    if (!isScalar(value) && !isMap(value) && !isSeq(value) && !isPair(value)) {
      return 0; // an empty key or value
    }
    const node = value as Node;
    if (!isPair(node) && node.anchor) anchors.set(node.anchor, node);
    if (isScalar(node)) {
      if (node.anchor) sizes.set(node, 1);
      return 1;
    }
    if (isPair(node)) {
      stack.push({ node, children: [node.key, node.value], next: 0, size: 0 });
      return undefined;
    }
    if (isMap(node)) {
      if (limits) checkKeys(node.items, problems);
      const children: unknown[] = [];
      for (const pair of node.items) children.push(pair.key, pair.value);
      stack.push({ node, children, next: 0, size: 1 });
      return undefined;
    }
    if (isSeq(node)) {
      stack.push({ node, children: node.items, next: 0, size: 1 });
    }
    return undefined;
  };

  enter(doc.contents);
  while (stack.length > 0) {
    const frame = stack[stack.length - 1];
    if (frame.next < frame.children.length) {
      const child = enter(frame.children[frame.next++]);
      if (child !== undefined) frame.size += child;
      continue;
    }
    stack.pop();
    if (!isPair(frame.node) && frame.node.anchor) {
      sizes.set(frame.node, frame.size);
    }
    if (stack.length > 0) stack[stack.length - 1].size += frame.size;
  }
  return { targets, problems };
}

/** Duplicate scalar keys (as yaml's `uniqueKeys` finds them), and too many. */
function checkKeys(
  items: readonly { key: unknown }[],
  problems: { node: Node; message: string }[],
): void {
  const max = CONFIG_LIMITS.mappingKeys;
  if (items.length > max) {
    problems.push({
      node: items[max].key as Node,
      message:
        `a mapping may have at most ${max} keys (CONFIG_LIMITS.mappingKeys), this one has ${items.length}; key ${
          max + 1
        } is here`,
    });
    return;
  }
  const seen = new Map<unknown, Node>();
  for (const { key } of items) {
    if (!isScalar(key)) continue;
    const first = seen.get(key.value);
    if (first === undefined) {
      seen.set(key.value, key);
      continue;
    }
    problems.push({
      node: key,
      message: `invalid YAML: Map keys must be unique; ${
        JSON.stringify(String(key.value))
      } is a key before this one in the same mapping`,
    });
  }
}

/**
 * The plain data of a node, as the yaml library's `toJS()` makes it:
 * mappings as objects (keys as strings, a collection as key as its JSON
 * where `toJS()` writes it as flow YAML), sequences as arrays, one value
 * per anchor however many aliases stand for it.
 */
export function plain(
  node: Node | null,
  targets: ReadonlyMap<Alias, Node>,
): unknown {
  const made = new Map<Node, unknown>();
  const convert = (value: unknown): unknown => {
    if (isAlias(value)) {
      const target = targets.get(value);
      if (target === undefined) return null;
      return made.has(target) ? made.get(target) : convert(target);
    }
    if (isScalar(value)) return value.value;
    if (isSeq(value)) {
      const out: unknown[] = [];
      if (value.anchor) made.set(value, out);
      for (const item of value.items) out.push(convert(item));
      return out;
    }
    if (isMap(value)) {
      const out: Record<string, unknown> = {};
      if (value.anchor) made.set(value, out);
      for (const pair of value.items) {
        const key = convert(pair.key);
        const name = key === null || key === undefined
          ? ""
          : typeof key === "object"
          ? JSON.stringify(key)
          : String(key);
        const item = convert(pair.value);
        // A key such as __proto__ or toString is a key, as any other.
        if (name in out) {
          Object.defineProperty(out, name, {
            value: item,
            writable: true,
            enumerable: true,
            configurable: true,
          });
        } else out[name] = item;
      }
      return out;
    }
    return null;
  };
  return convert(node);
}
