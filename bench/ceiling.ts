/**
 * The ceiling of the real-work rows on this machine: two bare workers
 * running the work on their halves of the items in a loop, no messages,
 * warmed up as baton's stages and Piscina's threads are, against Piscina's
 * 64 items per task and baton's 1→2→1 on the same items, in the same
 * rounds. Prints each figure's median (min–max) and each one's ratio to the
 * ceiling round by round: no pipeline or pool of two threads can beat the
 * ceiling by much, so a bar of 1.2 × a pool that runs at 0.9 of it is out
 * of reach.
 *
 *     deno run -R=. --allow-env=PISCINA_DISABLE_ATOMICS,PISCINA_ENABLE_ASYNC_ATOMICS bench/ceiling.ts [hash|parse] [items] [rounds]
 *
 * @module
 */

import { runPiscinaWork } from "./peer.ts";
import { runBaton } from "./pipelines.ts";
import { median } from "./report.ts";
import type { Work } from "./payloads.ts";

const work = (Deno.args[0] ?? "hash") as Exclude<Work, "none">;
const items = Number(Deno.args[1] ?? 20_000);
const rounds = Number(Deno.args[2] ?? 5);

const WORKER = new URL("./ceiling_worker.ts", import.meta.url);

/** Items per second of two bare workers, from the first start to the last end. */
async function bare(): Promise<number> {
  const workers = [0, 1].map(() => new Worker(WORKER, { type: "module" }));
  const ask = (w: Worker, message: unknown) =>
    new Promise<unknown>((resolve, reject) => {
      w.onmessage = (event) => resolve(event.data);
      w.onerror = (event) => {
        event.preventDefault();
        reject(new Error(event.message));
      };
      w.postMessage(message);
    });
  try {
    await Promise.all(workers.map((w) => ask(w, { work, go: false })));
    const half = Math.floor(items / 2);
    const done = await Promise.all(
      workers.map((w, i) =>
        ask(w, {
          work,
          from: i === 0 ? 0 : half,
          to: i === 0 ? half : items,
          go: true,
        }) as Promise<{ started: number; ended: number; count: number }>
      ),
    );
    const count = done.reduce((n, d) => n + d.count, 0);
    if (count !== items) throw new Error(`bare lost items: ${count}`);
    const start = Math.min(...done.map((d) => d.started));
    const end = Math.max(...done.map((d) => d.ended));
    return items / (end - start) * 1000;
  } finally {
    for (const w of workers) w.terminate();
  }
}

const figures = {
  bare: [] as number[],
  piscina: [] as number[],
  baton: [] as number[],
};
const runs = {
  bare,
  piscina: () => runPiscinaWork(work, { items, perTask: 64 }),
  baton: async () =>
    (await runBaton({
      stages: [1, 2, 1],
      count: items,
      payload: work === "hash" ? "number" : "json",
      work,
    })).rate,
};
const names = Object.keys(runs) as (keyof typeof runs)[];
for (let r = 0; r < rounds; r++) {
  // The order turns round by round.
  for (let k = 0; k < names.length; k++) {
    const name = names[(r + k) % names.length];
    figures[name].push(await runs[name]());
  }
  console.error(`round ${r + 1} of ${rounds}`);
}
const show = (xs: number[]) =>
  `${(median(xs) / 1000).toFixed(1)} k/s (${
    (Math.min(...xs) / 1000).toFixed(1)
  }–${(Math.max(...xs) / 1000).toFixed(1)})`;
const ratio = (xs: number[], ys: number[]) => {
  const rs = xs.map((x, i) => x / ys[i]);
  return `${median(rs).toFixed(2)} (${Math.min(...rs).toFixed(2)}–${
    Math.max(...rs).toFixed(2)
  })`;
};
console.log(`${work}, ${items} items, ${rounds} rounds`);
console.log(`bare 2 workers, no messages: ${show(figures.bare)}`);
console.log(
  `Piscina 64 per task: ${show(figures.piscina)}, of the ceiling ${
    ratio(figures.piscina, figures.bare)
  }`,
);
console.log(
  `baton 1→2→1: ${show(figures.baton)}, of the ceiling ${
    ratio(figures.baton, figures.bare)
  }, of Piscina ${ratio(figures.baton, figures.piscina)}`,
);
