/**
 * Progress bars in a real terminal: the demo runs in tmux, and the screen
 * it leaves is read back. Log lines must stand whole above the bars, no
 * stale frame may stay behind, and the last lines must survive.
 *
 * @module
 */

import assert from "node:assert/strict";

const DEMO = new URL("../../examples/pipeline_demo.ts", import.meta.url);
const ROOT = new URL("../../", import.meta.url);

async function tmux(socket: string, ...args: string[]): Promise<string> {
  const output = await new Deno.Command("tmux", {
    args: ["-L", socket, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!output.success) {
    throw new Error(
      `tmux ${args.join(" ")}: ${new TextDecoder().decode(output.stderr)}`,
    );
  }
  return new TextDecoder().decode(output.stdout);
}

/** Whether tmux runs here; CI (CI=true) installs it and must not skip. */
async function haveTmux(): Promise<boolean> {
  try {
    return (await new Deno.Command("tmux", { args: ["-V"] }).output()).success;
  } catch {
    return false;
  }
}

const tmuxFound = await haveTmux();
if (!tmuxFound) {
  if (Deno.env.get("CI") === "true") {
    throw new Error("tmux is not installed, and CI must run the terminal test");
  }
  console.error(
    "tests/host/progress_test.ts: tmux not found, the terminal test is ignored (apt-get install tmux to run it)",
  );
}

Deno.test({
  name:
    "Progress bars in a terminal keep log lines whole above them and the last lines on screen",
  ignore: !tmuxFound,
}, async () => {
  const socket = `baton-progress-${Deno.pid}`;
  const command = [
    `cd ${ROOT.pathname}`,
    `${Deno.execPath()} run -R ${DEMO.pathname}`,
    `echo EXIT=$?`,
    `tmux -L ${socket} wait-for -S demo-done`,
    `sleep 60`,
  ].join("; ");
  await tmux(socket, "new-session", "-d", "-x", "160", "-y", "40", command);
  try {
    // Resolves when the demo has exited and said so; the guard turns a hang
    // into a failure.
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      tmux(socket, "wait-for", "demo-done"),
      new Promise((_, reject) => {
        timer = setTimeout(
          () => reject(new Error("the demo did not end within 30 s")),
          30_000,
        );
      }),
    ]);
    clearTimeout(timer);
    const screen = await tmux(socket, "capture-pane", "-p", "-S", "-2000");
    const lines = screen.split("\n").map((l) => l.trimEnd()).filter((l) =>
      l !== ""
    );
    assert.ok(lines.includes("EXIT=0"), screen.slice(-2000));
    const bars = lines.filter((l) => l.includes("messages ·"));
    assert.deepEqual(
      bars.map((l) => l.split(" ")[0]),
      ["prod", "prep", "post", "cons"],
      `one final frame of four bars, no stale ones:\n${
        bars.join("\n")
      }\nthe screen:\n${screen.slice(-3000)}`,
    );
    assert.match(bars[0], /^prod 30 messages · \d+\/s$/);
    for (const bar of bars.slice(1)) {
      assert.match(bar, /^\w+ +\|█+\| 30\/30 messages · \d+\/s$/);
    }
    const end = lines.indexOf(bars[0]);
    assert.match(lines[end + 4], /^took \d+\.\d\d s$/);
    assert.equal(lines[end + 5], "EXIT=0");
    // Every log line is whole: a timestamp, the logger, the message.
    const logs = lines.slice(0, end);
    for (const line of logs) {
      assert.match(line, /^\[\d\d:\d\d:\d\d\] \[\d+\] (example|baton) - /);
    }
    assert.ok(
      logs.some((l) =>
        /\(Consumer-\d+\) consumed 30 numbers, sum 735$/.test(l)
      ),
      "the consumer's last words are on screen",
    );
    assert.ok(logs.some((l) => l.endsWith("relay: finished")));
  } finally {
    await tmux(socket, "kill-server").catch(() => {});
  }
});
