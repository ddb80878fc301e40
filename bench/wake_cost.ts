/**
 * What waking a parked thread costs on the machine at hand: a message sent
 * back and forth between the main thread and a raw worker over a
 * `MessageChannel`, one at a time, so that each side parks before the other
 * wakes it (two wake-ups per round trip). It prints the wall time and the
 * process's CPU (both threads) per round trip, per round.
 *
 * A bounded pipeline whose stages are faster than its window's cycle parks
 * and wakes a thread every few hundred messages (bench/README.md, "Where a
 * multi-stage pipeline's time goes"); this is the price of each.
 *
 * ```sh
 * deno run bench/wake_cost.ts
 * ```
 *
 * Flags: `--trips=N` per round (default 20 000), `--rounds=N` (default 5).
 *
 * @module
 */

import process from "node:process";
import { parseArgs } from "node:util";
import { fixed, median, spread } from "./report.ts";

const { values: flags } = parseArgs({
  args: Deno.args,
  options: { trips: { type: "string" }, rounds: { type: "string" } },
});
const trips = Number(flags.trips ?? 20_000);
const rounds = Number(flags.rounds ?? 5);

// The echoing worker from a blob: no file to read, no permission to ask.
const source = `self.onmessage = (e) => {
  const port = e.ports[0];
  port.onmessage = (m) => port.postMessage(m.data);
};`;
const url = URL.createObjectURL(
  new Blob([source], { type: "application/javascript" }),
);
const worker = new Worker(url, { type: "module" });
const channel = new MessageChannel();
worker.postMessage(null, [channel.port2]);

function round(): Promise<void> {
  return new Promise((resolve) => {
    let n = 0;
    channel.port1.onmessage = () => {
      if (++n === trips) resolve();
      else channel.port1.postMessage(n);
    };
    channel.port1.postMessage(0);
  });
}

// One round first, not counted: the worker starting, the code compiling.
await round();
const wall: number[] = [];
const cpu: number[] = [];
for (let r = 0; r < rounds; r++) {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await round();
  const t = performance.now() - t0;
  const c = process.cpuUsage(c0);
  wall.push(t * 1000 / trips);
  cpu.push((c.user + c.system) / trips);
}
worker.terminate();
channel.port1.close();
URL.revokeObjectURL(url);

console.log(
  `| round trip, main thread ↔ worker, one at a time (${trips} per round, ${rounds} rounds) | wall µs | CPU µs, both threads | CPU µs per wake-up |`,
);
console.log("| --- | --- | --- | --- |");
console.log(
  `| MessageChannel | ${spread(wall, fixed(1))} | ${spread(cpu, fixed(1))} | ${
    (median(cpu) / 2).toFixed(1)
  } |`,
);
