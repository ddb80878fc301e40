import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { tempDir } from "./fixtures/pipeline/temp.ts";
import { finish, fixture, root, spawn } from "./fixtures/pipeline/cli.ts";

/** Writes `text` to the child's standard input and closes it. */
async function feed(child: Deno.ChildProcess, text: string): Promise<void> {
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(text));
  await writer.close();
}

/**
 * Reads the child's standard output up to its first line, then cancels the
 * reader, which closes the pipe as `| head -n 1` does: the child's next
 * write to it fails. Resolves to the line, the exit code and stderr.
 */
async function headOne(
  child: Deno.ChildProcess,
): Promise<{ line: string; code: number; stderr: string }> {
  const guard = setTimeout(() => child.kill("SIGKILL"), 60_000);
  try {
    const stderr = new Response(child.stderr).text();
    const reader = child.stdout.pipeThrough(new TextDecoderStream())
      .getReader();
    let text = "";
    while (!text.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) assert.fail(`the output ended before a line: ${text}`);
      text += value;
    }
    await reader.cancel();
    const { code } = await child.status;
    return { line: text.split("\n")[0], code, stderr: await stderr };
  } finally {
    clearTimeout(guard);
  }
}

Deno.test("baton feeds a file with input: lines one line of standard input per message and prints the last group's messages", async () => {
  const child = spawn(["-R"], [fixture("lines.yaml")], "piped");
  const [out] = await Promise.all([
    finish(child),
    feed(child, "hello\nwide world\r\nlast"),
  ]);
  assert.equal(out.code, 0, out.stderr);
  assert.equal(
    out.stdout,
    [
      '{"line":"HELLO","length":5}',
      '{"line":"WIDE WORLD","length":10}',
      '{"line":"LAST","length":4}',
      "",
    ].join("\n"),
  );
  // Log records go to standard error: standard output is the data.
  assert.match(out.stderr, /\(Upper-1\) starting up$/m);
  assert.match(
    out.stderr,
    /^baton: finished in \d+\.\d\d s \(received\/sent: upper 3\/3, measure 3\/3\)$/m,
  );
});

Deno.test("baton ends quietly with 0 when the reader of its output goes away (| head -n 1)", async () => {
  const child = spawn(["-R"], [fixture("upper_lines.yaml")], "piped");
  // Endless input: the pipeline has output to write after the reader left.
  const writer = child.stdin.getWriter();
  const line = new TextEncoder().encode("a line of input\n".repeat(64));
  const writing = (async () => {
    try {
      for (;;) await writer.write(line);
    } catch {
      // The child ended, and with it its standard input.
    }
  })();
  const out = await headOne(child);
  await writing;
  assert.equal(out.line, "A LINE OF INPUT");
  assert.doesNotMatch(out.stderr, /BrokenPipe|Broken pipe|error/i);
  assert.equal(out.code, 0, out.stderr);
});

Deno.test("examples/stream_lines.ts ends quietly with 0 when the reader of its output goes away (| head -n 1)", async () => {
  await using dir = await tempDir("lines-");
  // Far more than a pipe holds, so the example is still writing.
  const file = `${dir.path}/many.txt`;
  await Deno.writeTextFile(file, "some line of text\n".repeat(100_000));
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-R",
      fileURLToPath(new URL("../examples/stream_lines.ts", import.meta.url)),
      file,
    ],
    cwd: root,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  const out = await headOne(child);
  assert.equal(out.line, " 17 | SOME LINE OF TEXT");
  assert.doesNotMatch(out.stderr, /BrokenPipe|Broken pipe|error/i);
  assert.equal(out.code, 0, out.stderr);
});
