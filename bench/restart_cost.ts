/**
 * What `onError: "restart"` costs without a fault, per message: the rows of
 * `deno task bench --only=restart` (1→2→1 numbers with a restarting middle,
 * both forms of `recv()`, and 1→1→1 with a restarting sink), each run
 * against the same pipeline with the default policy in alternating rounds,
 * reporting the ratio of rates (as `main.ts` does) and the CPU time the
 * whole process (every worker) spent per message once every worker was up
 * (their start-up left out: a restarting group's worker loads the replay's
 * code too). On a shared machine the rates swing with the load; CPU per
 * message swings less, and it is what the replay adds.
 *
 * ```sh
 * deno run -R=. --allow-env bench/restart_cost.ts --rounds=7
 * ```
 *
 * @module
 */

import process from "node:process";
import { parseArgs } from "node:util";
import { group, type GroupOptions, Relay } from "../mod.ts";
import { Pass, Sink, Source } from "./actors.ts";
import { Board } from "./board.ts";
import { fixed, median, spread } from "./report.ts";
import { Forward } from "./supervision_actors.ts";

interface Row {
  readonly name: string;
  readonly width: number;
  readonly sync: boolean;
  readonly middle: GroupOptions;
  readonly sink: GroupOptions | undefined;
}

/** One run: messages per second (first send to last receipt), CPU µs/msg. */
async function run(
  row: Row,
  restart: boolean,
  count: number,
): Promise<{ rate: number; cpu: number }> {
  // Held: the source starts once the main thread releases it, after every
  // worker is up, so that the CPU counted is the run's and not the workers'
  // start-up (a restarting group loads more code than a default one).
  const board = Board.create(2, true);
  const buffer = board.buffer;
  const source = Object.assign(new Source(), {
    board: buffer,
    slot: 0,
    actors: row.width + 2,
    count,
  });
  const middle = Array.from(
    { length: row.width },
    () =>
      Object.assign(row.sync ? new Forward() : new Pass(), { board: buffer }),
  );
  const sink = Object.assign(new Sink(), { board: buffer, slot: 1 });
  const relay = new Relay({ logger: "bench" });
  relay.connect({
    source,
    middle: group(middle, restart ? row.middle : {}),
    sink: restart && row.sink !== undefined ? group([sink], row.sink) : sink,
  });
  const started = relay.start();
  // A start() that fails rejects here rather than leave the gather waiting.
  await Promise.race([board.gather(row.width + 2), started]);
  const before = process.cpuUsage();
  board.release();
  await started;
  const used = process.cpuUsage(before);
  const span = board.span();
  if (span.count !== count) {
    throw new Error(`Lost messages: sent ${count}, received ${span.count}`);
  }
  return {
    rate: count / (span.end - span.start) * 1000,
    cpu: (used.user + used.system) / count,
  };
}

const flags = parseArgs({
  args: Deno.args,
  options: { rounds: { type: "string" }, count: { type: "string" } },
}).values;
const rounds = Number(flags.rounds ?? 5);
const count = Number(flags.count ?? 500_000);
const restart: GroupOptions = { onError: "restart" };
const rows: Row[] = [
  {
    name: "1→2→1, restarting middle, `recv()` returns `send()`",
    width: 2,
    sync: true,
    middle: restart,
    sink: undefined,
  },
  {
    name: "1→2→1, restarting middle, `async recv()`",
    width: 2,
    sync: false,
    middle: restart,
    sink: undefined,
  },
  {
    name: "1→1→1, restarting sink",
    width: 1,
    sync: true,
    middle: {},
    sink: restart,
  },
];
console.log(
  `| workload | rate ratio | CPU µs/msg, restart | CPU µs/msg, default | CPU ratio |`,
);
console.log(`| --- | --- | --- | --- | --- |`);
for (const row of rows) {
  await run(row, true, count / 10);
  await run(row, false, count / 10);
  const ratios: number[] = [];
  const cpuRestart: number[] = [];
  const cpuDefault: number[] = [];
  for (let r = 0; r < rounds; r++) {
    // Which goes first turns round by round, as in the suite.
    let a, b;
    if (r % 2 === 0) {
      a = await run(row, true, count);
      b = await run(row, false, count);
    } else {
      b = await run(row, false, count);
      a = await run(row, true, count);
    }
    ratios.push(a.rate / b.rate);
    cpuRestart.push(a.cpu);
    cpuDefault.push(b.cpu);
  }
  console.log(
    `| ${row.name} | ${spread(ratios, fixed(2))} | ${
      spread(cpuRestart, fixed(2))
    } | ${spread(cpuDefault, fixed(2))} | ${
      (median(cpuDefault) / median(cpuRestart)).toFixed(2)
    } |`,
  );
}
