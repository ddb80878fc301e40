/**
 * Deno's tools see the actors' worker: its script is in the module graph
 * of `mod.ts`, so `deno cache` fetches it with the rest and a program run
 * with `--cached-only` starts its workers. The cached-only run imports baton
 * from a server on 127.0.0.1, as users import it from a registry; the
 * server rewrites bare specifiers through deno.json's import map, as a
 * registry does when a package is published.
 *
 * @module
 */

import assert from "node:assert/strict";

const ROOT = new URL("../", import.meta.url);
const SCRATCH = "/tmp/baton-tests";

Deno.test("The worker's script and its bundle are in mod.ts's module graph, where deno cache and deno compile look", async () => {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", new URL("mod.ts", ROOT).href],
    stdout: "piped",
  }).output();
  assert.ok(output.success);
  const info = JSON.parse(new TextDecoder().decode(output.stdout)) as {
    modules: { specifier: string }[];
  };
  // The worker's script, the bundle it runs and the chunks the bundle
  // loads on demand.
  const wanted = [
    "src/worker/entry.ts",
    "src/worker/bundle/bootstrap.js",
    ...[...Deno.readDirSync(new URL("src/worker/bundle/", ROOT))]
      .map((entry) => `src/worker/bundle/${entry.name}`),
  ].map((path) => new URL(path, ROOT).href);
  const specifiers = new Set(info.modules.map((m) => m.specifier));
  assert.deepEqual(wanted.filter((s) => !specifiers.has(s)), []);
});

/** Serves the repository, bare specifiers rewritten through the import map. */
async function serveRepository(): Promise<Deno.HttpServer<Deno.NetAddr>> {
  const config = JSON.parse(
    await Deno.readTextFile(new URL("deno.json", ROOT)),
  ) as { imports: Record<string, string> };
  const bare = new RegExp(
    `(from\\s+|import\\s*\\(\\s*)"(${
      Object.keys(config.imports).map((k) => k.replace(/[/.-]/g, "\\$&"))
        .join("|")
    })(/[^"]*)?"`,
    "g",
  );
  return Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    async (request) => {
      const path = new URL(request.url).pathname.slice(1);
      try {
        const text = await Deno.readTextFile(new URL(path, ROOT));
        const body = text.replace(
          bare,
          (_, head, name, rest = "") =>
            `${head}"${config.imports[name]}${rest}"`,
        );
        return new Response(body, {
          headers: { "content-type": "application/typescript" },
        });
      } catch {
        return new Response("not found", { status: 404 });
      }
    },
  );
}

Deno.test("A program that imports baton from a server runs its workers with --cached-only after deno cache", async () => {
  const server = await serveRepository();
  const host = `127.0.0.1:${server.addr.port}`;
  const dir = `${SCRATCH}/tooling-${Deno.pid}-${server.addr.port}`;
  await Deno.mkdir(dir, { recursive: true });
  const main = `${dir}/main.ts`;
  await Deno.writeTextFile(
    main,
    `import { Actor, Relay } from "http://${host}/mod.ts";

export class Numbers extends Actor<never, number> {
  override async loop(): Promise<void> {
    for (let i = 1; i <= 3; i++) await this.send(i);
  }
}

export class Sum extends Actor<number> {
  total = 0;
  override recv(x: number): void {
    this.total += x;
  }
  override shutdown(): void {
    this.report(this.total);
  }
}

if (import.meta.main) {
  const relay = new Relay();
  relay.connect(new Numbers(), new Sum());
  const reports = relay.reports<number>();
  const read = (async () => {
    for await (const r of reports) console.log("sum", r.value);
  })();
  await relay.start();
  await read;
}
`,
  );
  const deno = (args: string[]) =>
    new Deno.Command(Deno.execPath(), {
      args,
      cwd: dir,
      stdout: "piped",
      stderr: "piped",
    }).output();
  try {
    const cached = await deno(["cache", `--allow-import=${host}`, main]);
    assert.ok(
      cached.success,
      `deno cache: ${new TextDecoder().decode(cached.stderr)}`,
    );
  } finally {
    await server.shutdown();
  }
  try {
    // The server is gone: whatever is not in the cache cannot be had.
    const run = await deno([
      "run",
      "--cached-only",
      `--allow-import=${host}`,
      `-R=${dir}`,
      main,
    ]);
    const stderr = new TextDecoder().decode(run.stderr);
    assert.ok(run.success, `deno run --cached-only: ${stderr}`);
    assert.equal(new TextDecoder().decode(run.stdout), "sum 6\n");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
