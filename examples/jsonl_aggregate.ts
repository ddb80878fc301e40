/**
 * Aggregating a JSON-lines file: `data/sales.jsonl` (3000 sales records) is
 * read by a source actor in chunks of lines, parsed by two parsers, summed
 * per product by two group-by actors that each keep partial sums for the
 * records they happened to get, and the partial sums are merged by one
 * actor, whose result comes out of `relay.results()`. The main thread then
 * computes the same aggregate on its own and compares: the run prints the
 * top products by revenue and "matches the single-thread result", or exits
 * with code 1. Well under a second.
 *
 *     deno run -R=. examples/jsonl_aggregate.ts
 *
 * Amounts are integer cents, so partial sums added in any order give exactly
 * the one-thread sums.
 *
 * @module
 */

import { Actor, Relay } from "../mod.ts";
import type { Sale } from "./data/make_sales.ts";

/** The aggregate of one product. */
export interface Totals {
  orders: number;
  units: number;
  cents: number;
}

/** One line of the result. */
export interface Row extends Totals {
  product: string;
}

/** What a group-by actor sends when its input ends. */
export interface Partial {
  actor: string;
  records: number;
  totals: [string, Totals][];
}

/** What the merge sends: the rows, and how many records each part summed. */
export interface Merged {
  rows: Row[];
  parts: { actor: string; records: number }[];
}

/** Adds one sale to the totals of its product. */
function add(totals: Map<string, Totals>, sale: Sale): void {
  const t = totals.get(sale.product) ?? { orders: 0, units: 0, cents: 0 };
  t.orders += 1;
  t.units += sale.qty;
  t.cents += sale.qty * sale.cents;
  totals.set(sale.product, t);
}

/** The rows of an aggregate, by revenue, then by name. */
function rows(totals: Map<string, Totals>): Row[] {
  return [...totals].map(([product, t]) => ({ product, ...t }))
    .sort((a, b) => b.cents - a.cents || a.product.localeCompare(b.product));
}

/** Reads the file and sends its lines, `chunk` lines a message. */
export class ReadLines extends Actor<never, string[]> {
  path = "";
  chunk = 200;

  override async loop(): Promise<void> {
    using file = await Deno.open(this.path);
    let rest = "";
    let batch: string[] = [];
    for await (
      const text of file.readable.pipeThrough(new TextDecoderStream())
    ) {
      const lines = (rest + text).split("\n");
      rest = lines.pop()!;
      for (const line of lines) {
        if (line === "") continue;
        batch.push(line);
        if (batch.length === this.chunk) {
          await this.send(batch); // waits while the parsers are behind
          batch = [];
        }
      }
    }
    if (rest !== "") batch.push(rest);
    if (batch.length > 0) await this.send(batch);
  }
}

/** Parses a chunk of lines into sales records. */
export class Parse extends Actor<string[], Sale[]> {
  override async recv(lines: string[]): Promise<void> {
    await this.send(lines.map((line) => JSON.parse(line) as Sale));
  }
}

/**
 * Keeps partial sums per product of the records it receives; sends them on
 * when its input ends.
 */
export class GroupBy extends Actor<Sale[], Partial> {
  totals = new Map<string, Totals>();
  records = 0;

  override recv(sales: Sale[]): void {
    for (const sale of sales) add(this.totals, sale);
    this.records += sales.length;
  }

  override async shutdown(): Promise<void> {
    await this.send({
      actor: this.name,
      records: this.records,
      totals: [...this.totals],
    });
  }
}

/** Adds up the partial sums; sends the final rows when its input ends. */
export class Merge extends Actor<Partial, Merged> {
  totals = new Map<string, Totals>();
  parts: { actor: string; records: number }[] = [];

  override recv(partial: Partial): void {
    this.parts.push({ actor: partial.actor, records: partial.records });
    for (const [product, t] of partial.totals) {
      const sum = this.totals.get(product) ?? { orders: 0, units: 0, cents: 0 };
      sum.orders += t.orders;
      sum.units += t.units;
      sum.cents += t.cents;
      this.totals.set(product, sum);
    }
  }

  override async shutdown(): Promise<void> {
    await this.send({ rows: rows(this.totals), parts: this.parts });
  }
}

const money = (cents: number) =>
  (cents / 100).toLocaleString("en-US", { minimumFractionDigits: 2 });

if (import.meta.main) {
  const path = new URL("./data/sales.jsonl", import.meta.url).pathname;
  const started = performance.now();
  const relay = new Relay({ maxsize: 8 });
  relay.connect(
    Object.assign(new ReadLines(), { path }),
    [new Parse(), new Parse()],
    [new GroupBy(), new GroupBy()],
    new Merge(),
  );
  let merged: Merged | undefined;
  for await (const message of relay.results<Merged>()) merged = message;
  const result = merged?.rows ?? [];
  const ms = performance.now() - started;

  // The same aggregate in one thread.
  const text = await Deno.readTextFile(path);
  const expected = new Map<string, Totals>();
  let records = 0;
  for (const line of text.split("\n")) {
    if (line === "") continue;
    add(expected, JSON.parse(line));
    records++;
  }

  const orders = result.reduce((n, r) => n + r.orders, 0);
  console.log(
    `${orders} records, ${result.length} products, ${ms.toFixed(0)} ms`,
  );
  const parts = merged?.parts ?? [];
  console.log(
    "partial sums: " +
      parts.map((p) => `${p.actor} ${p.records} records`).join(", "),
  );
  console.log("product     orders  units       revenue");
  for (const r of result.slice(0, 5)) {
    console.log(
      `${r.product.padEnd(10)} ${String(r.orders).padStart(7)} ${
        String(r.units).padStart(6)
      } ${money(r.cents).padStart(13)}`,
    );
  }
  if (
    orders !== records ||
    JSON.stringify(result) !== JSON.stringify(rows(expected))
  ) {
    console.error("does NOT match the single-thread result");
    Deno.exit(1);
  }
  console.log("matches the single-thread result");
}
