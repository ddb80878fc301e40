/**
 * An I/O-bound stage: a local HTTP server (`Deno.serve` on 127.0.0.1, a
 * random port) answers each request after 25 ms with a small JSON body; a
 * group of fetchers `fetch()`es the URLs that the main thread feeds in
 * through `input()`, one request at a time each, and a sink collects the
 * answers and sends a summary when its input ends. The same 80 URLs go once
 * through eight fetchers and once through one. The run prints, for each,
 * how many requests were made, the elapsed time (worker startup included)
 * and how much of it the server was busy, then the speed-up; it exits with
 * code 1 if an answer is missing or wrong, or if eight fetchers do not
 * fetch at least twice as fast as one. About four seconds.
 *
 *     deno run -R=. --allow-net=127.0.0.1 examples/fetch_stage.ts
 *
 * @module
 */

import { Actor, input, Relay } from "../mod.ts";

/** What the server answers for item `id`. */
export interface Item {
  id: number;
  square: number;
}

/** What the sink sends when its input ends. */
export interface Summary {
  count: number;
  /** The ids that came back, sorted. */
  ids: number[];
  /** How many answers had a wrong `square`. */
  wrong: number;
}

/** Fetches a URL and passes on its JSON body. */
export class Fetcher extends Actor<string, Item> {
  override async recv(url: string): Promise<void> {
    const response = await fetch(url);
    if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
    await this.send(await response.json());
  }
}

/** Collects the answers; sends one summary of them. */
export class Sink extends Actor<Item, Summary> {
  ids: number[] = [];
  wrong = 0;

  override recv(item: Item): void {
    this.ids.push(item.id);
    if (item.square !== item.id * item.id) this.wrong++;
  }

  override async shutdown(): Promise<void> {
    const ids = this.ids.sort((a, b) => a - b);
    await this.send({ count: ids.length, ids, wrong: this.wrong });
  }
}

const REQUESTS = 80;
const DELAY_MS = 25;
const FETCHERS = 8;

/** What the server saw of a run: the busiest moment and its busy span. */
class Served {
  inHand = 0;
  most = 0;
  first = Infinity;
  last = 0;
  get ms(): number {
    return this.last - this.first;
  }
}

/** Runs the URLs through `fetchers` fetchers; resolves with the summary. */
async function run(
  urls: string[],
  fetchers: number,
): Promise<{ summary: Summary; ms: number }> {
  const started = performance.now();
  const relay = new Relay();
  relay.connect(
    input<string>(),
    Array.from({ length: fetchers }, () => new Fetcher()),
    new Sink(),
  );
  let summary: Summary = { count: 0, ids: [], wrong: 0 };
  for await (const s of relay.results<Summary>({ input: urls })) summary = s;
  return { summary, ms: performance.now() - started };
}

if (import.meta.main) {
  let served = new Served();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    async (request) => {
      const s = served;
      s.first = Math.min(s.first, performance.now());
      s.most = Math.max(s.most, ++s.inHand);
      await new Promise((resolve) => setTimeout(resolve, DELAY_MS));
      s.inHand--;
      s.last = performance.now();
      const id = Number(new URL(request.url).pathname.split("/").pop());
      return Response.json({ id, square: id * id });
    },
  );
  const base = `http://127.0.0.1:${server.addr.port}/item`;
  const urls = Array.from({ length: REQUESTS }, (_, i) => `${base}/${i + 1}`);
  const expected = JSON.stringify(urls.map((_, i) => i + 1));
  let failed = false;
  try {
    const runs = [];
    for (const fetchers of [FETCHERS, 1]) {
      served = new Served();
      runs.push({ fetchers, served, ...await run(urls, fetchers) });
    }
    for (const { fetchers, served, summary, ms } of runs) {
      console.log(
        `${`${fetchers} fetcher${fetchers > 1 ? "s" : ""}:`.padEnd(12)}` +
          `${summary.count} requests in ${ms.toFixed(0)} ms, ` +
          `${served.ms.toFixed(0)} ms of them fetching ` +
          `(at most ${served.most} at once)`,
      );
      if (JSON.stringify(summary.ids) !== expected || summary.wrong > 0) {
        console.error(`${fetchers} fetcher(s): answers missing or wrong`);
        failed = true;
      }
    }
    const [many, one] = runs;
    const fetching = one.served.ms / many.served.ms;
    console.log(
      `speed-up with ${FETCHERS} fetchers: ${fetching.toFixed(1)}x ` +
        `while fetching, ${(one.ms / many.ms).toFixed(1)}x overall ` +
        "(starting and stopping workers takes time too)",
    );
    if (fetching < 2) {
      console.error(
        `expected ${FETCHERS} fetchers to fetch 2x faster at least`,
      );
      failed = true;
    }
  } finally {
    await server.shutdown();
  }
  if (failed) Deno.exit(1);
  console.log(`all ${2 * REQUESTS} answers correct`);
}
