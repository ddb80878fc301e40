/**
 * Measures cases round by round, interleaved, and prints them as one
 * Markdown table: baton's figure, the counterpart's, and their ratio, each as
 * the median over the rounds with the min–max beside it.
 *
 * @module
 */

/** What a figure counts. */
export type Unit = "msg/s" | "tasks/s" | "ns/msg" | "µs" | "ms" | "MB";

/** A bar from the issue: the ratio baton / counterpart it must meet. */
export interface Bar {
  /** How the bar reads, for example `"≥ 0.25"`. */
  readonly text: string;
  readonly met: (ratio: number) => boolean;
}

/** Something measured against baton in the same rounds. */
export interface Counterpart {
  readonly name: string;
  readonly run: () => Promise<number>;
  readonly bar?: Bar;
}

/** One workload: baton and its counterparts, measured side by side. */
export interface Case {
  readonly workload: string;
  readonly unit: Unit;
  readonly baton: () => Promise<number>;
  readonly against: readonly Counterpart[];
}

/** The measurements of one counterpart of a case. */
export interface Row {
  readonly workload: string;
  readonly unit: Unit;
  readonly counterpart: string;
  readonly baton: readonly number[];
  readonly raw: readonly number[];
  /** baton / counterpart, round by round. */
  readonly ratios: readonly number[];
  readonly bar?: Bar;
}

/** The median of some numbers. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? sorted[mid]
    : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Seconds of CPU a Redis has used (`INFO cpu`, user and system). */
export async function redisCpu(
  link: { command(args: string[]): Promise<unknown> },
): Promise<number> {
  const text = String(await link.command(["INFO", "cpu"]));
  return Number(/used_cpu_user:([\d.]+)/.exec(text)![1]) +
    Number(/used_cpu_sys:([\d.]+)/.exec(text)![1]);
}

/**
 * Runs a case: once each unmeasured if `warm`, then `rounds` rounds in which
 * baton and every counterpart run once each, the order turning every round.
 */
export async function measure(
  c: Case,
  rounds: number,
  warm: boolean,
): Promise<Row[]> {
  const runs = [c.baton, ...c.against.map((a) => a.run)];
  if (warm) { for (const run of runs) await run(); }
  const values = runs.map(() => [] as number[]);
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < runs.length; k++) {
      const i = (k + r) % runs.length;
      values[i].push(await runs[i]());
    }
  }
  return c.against.map((a, j) => ({
    workload: c.workload,
    unit: c.unit,
    counterpart: a.name,
    baton: values[0],
    raw: values[j + 1],
    ratios: values[0].map((b, r) => b / values[j + 1][r]),
    bar: a.bar,
  }));
}

function figure(value: number, unit: Unit): string {
  switch (unit) {
    case "msg/s":
    case "tasks/s":
      return value >= 1e6
        ? `${(value / 1e6).toFixed(2)} M`
        : `${(value / 1e3).toFixed(1)} k`;
    case "ns/msg":
      return value >= 1000
        ? (value / 1000).toFixed(2) + " µs"
        : `${value.toFixed(0)} ns`;
    case "µs":
      return value.toFixed(1);
    case "ms":
      return value.toFixed(0);
    case "MB":
      return value.toFixed(1);
  }
}

/** Shows a number with `digits` decimals (for {@linkcode spread}). */
export const fixed = (digits: number) => (v: number): string =>
  v.toFixed(digits);

/** The median of some numbers and their range: `median (min–max)`. */
export function spread(
  values: readonly number[],
  show: (v: number) => string,
): string {
  const m = median(values);
  if (values.length === 1) return show(m);
  return `${show(m)} (${show(Math.min(...values))}–${
    show(Math.max(...values))
  })`;
}

/** The rows as a Markdown table; without `verdicts`, bars are not judged. */
export function table(rows: readonly Row[], verdicts = true): string {
  const head = [
    "workload",
    "unit",
    "baton",
    "counterpart",
    "counterpart's",
    "ratio",
    "bar",
  ];
  const lines = rows.map((row) => {
    const show = (v: number) => figure(v, row.unit);
    const ratio = median(row.ratios);
    return [
      row.workload,
      row.unit,
      spread(row.baton, show),
      row.counterpart,
      spread(row.raw, show),
      spread(row.ratios, (v) => v.toFixed(2)),
      row.bar === undefined
        ? ""
        : !verdicts
        ? row.bar.text
        : `${row.bar.text} ${row.bar.met(ratio) ? "met" : "NOT met"}`,
    ];
  });
  const widths = head.map((h, i) =>
    Math.max(h.length, ...lines.map((l) => l[i].length))
  );
  const format = (cells: string[]) =>
    `| ${cells.map((c, i) => c.padEnd(widths[i])).join(" | ")} |`;
  return [
    format(head),
    `| ${widths.map((w) => "-".repeat(w)).join(" | ")} |`,
    ...lines.map(format),
  ].join("\n");
}
