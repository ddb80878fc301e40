/**
 * Another checkout's baton against this one, on one pipeline, in one
 * process: each round runs raw 64 per post once and both versions' baton
 * once (their order turning round by round), and prints each version's
 * median ratio to raw with every round's. For before/after figures that
 * share their machine's moment.
 *
 *     deno run -A bench/compare.ts <checkout> <stages> <count> [rounds] [payload] [maxsize]
 *     deno run -A bench/compare.ts ../before '[1,2,1]' 500000 5
 *
 * @module
 */

import * as here from "./pipelines.ts";
import { median } from "./report.ts";
import type { Payload } from "./payloads.ts";

const [checkout, stagesText, countText, roundsText, payloadText, maxText] =
  Deno.args;
if (checkout === undefined || countText === undefined) {
  throw new TypeError(
    "Cannot compare: expected <checkout> <stages> <count> [rounds] [payload] [maxsize], for example ../before '[1,2,1]' 500000 5",
  );
}
const there: typeof here = await import(
  new URL(
    `${checkout.replace(/\/$/, "")}/bench/pipelines.ts`,
    `file://${Deno.cwd()}/`,
  ).href
);
const shape: here.Shape = {
  stages: JSON.parse(stagesText) as number[],
  count: Number(countText),
  payload: (payloadText ?? "number") as Payload,
  work: "none",
  maxsize: maxText === undefined ? undefined : Number(maxText),
};
const rounds = Number(roundsText ?? 5);
const ratios = { there: [] as number[], here: [] as number[] };
for (let r = 0; r < rounds; r++) {
  const raw = (await here.runRaw(shape, 64)).rate;
  const order = r % 2 === 0
    ? (["here", "there"] as const)
    : (["there", "here"] as const);
  for (const which of order) {
    const run = which === "here" ? here.runBaton : there.runBaton;
    ratios[which].push((await run(shape)).rate / raw);
  }
}
const show = (values: number[]) =>
  `${median(values).toFixed(2)} [${values.map((v) => v.toFixed(2)).join(" ")}]`;
console.log(
  `${stagesText} ${shape.payload}, maxsize ${
    shape.maxsize ?? "default"
  }, ratio to raw 64 per post: ${checkout} ${
    show(ratios.there)
  }, this checkout ${show(ratios.here)}`,
);
