/**
 * What an actor's worker holds, part by part: the RSS per worker of 32
 * workers that only import some modules (nothing; the worker's bootstrap
 * from its TypeScript sources, alone and with `src/actor.ts`; the worker's
 * script, `src/worker/entry.ts`, which runs the bootstrap from its bundle,
 * then `src/actor.ts` alone, which is what an actor's module adds, or
 * `mod.ts`, or the bench's actors), each sample in a fresh process.
 * Prints one line per sample, in MB per worker.
 *
 *     deno run -A bench/rss_imports.ts
 *
 * @module
 */

const WORKERS = 32;

if (Deno.args[0] === "sample") {
  const modules = Deno.args[1] === "" ? [] : Deno.args[1].split(",");
  const code = modules.map((m) => `await import(${JSON.stringify(m)});`)
    .join("") + "self.postMessage(1);";
  const url = URL.createObjectURL(
    new Blob([code], { type: "application/javascript" }),
  );
  const before = Deno.memoryUsage().rss;
  const workers = Array.from(
    { length: WORKERS },
    () => new Worker(url, { type: "module" }),
  );
  await Promise.all(
    workers.map((w) => new Promise((resolve) => (w.onmessage = resolve))),
  );
  console.log((Deno.memoryUsage().rss - before) / WORKERS / 2 ** 20);
  for (const w of workers) w.terminate();
} else {
  const root = new URL("../", import.meta.url);
  const at = (path: string) => new URL(path, root).href;
  const sources = at("src/worker/bootstrap.ts");
  const boot = at("src/worker/entry.ts");
  const samples: [string, string[]][] = [
    ["a bare worker", []],
    ["+ bootstrap.ts, sources", [sources]],
    ["+ bootstrap.ts, sources, actor.ts", [sources, at("src/actor.ts")]],
    ["+ src/worker/entry.ts", [boot]],
    ["+ src/actor.ts alone", [boot, at("src/actor.ts")]],
    ["+ mod.ts", [boot, at("mod.ts")]],
    ["+ bench/actors.ts", [boot, at("bench/actors.ts")]],
  ];
  for (const [name, modules] of samples) {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", import.meta.filename!, "sample", modules.join(",")],
    }).output();
    const mb = Number(new TextDecoder().decode(out.stdout));
    console.log(`${name.padEnd(36)} ${mb.toFixed(2)} MB`);
  }
}
