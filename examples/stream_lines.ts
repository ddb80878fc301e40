/**
 * A relay as a Web Streams transform: this file is read with
 * `Deno.open(...).readable`, split into lines, upper-cased in one worker,
 * measured in another, and written to standard output through a
 * `WritableStream`. Backpressure holds from the file to the output. With one
 * actor per group the lines keep their order; a group of several actors
 * shares the work, and order then holds only per sender→receiver pair.
 *
 *     deno run -R examples/stream_lines.ts [file]
 *
 * When the reader of standard output goes away (`… | head`), the example
 * stops and exits 0, as a command-line filter does.
 *
 * @module
 */

import { Actor, input, Relay } from "../mod.ts";

/** Upper-cases a line. */
export class Upper extends Actor<string, string> {
  override async recv(line: string): Promise<void> {
    await this.send(line.toUpperCase());
  }
}

/** Counts the characters of a line and passes both on. */
export class Measure extends Actor<string, string> {
  override async recv(line: string): Promise<void> {
    await this.send(`${String(line.length).padStart(3)} | ${line}`);
  }
}

/** Splits a stream of text into lines. */
function lines(): TransformStream<string, string> {
  let rest = "";
  return new TransformStream({
    transform(chunk, controller) {
      const parts = (rest + chunk).split("\n");
      rest = parts.pop()!;
      for (const line of parts) controller.enqueue(line);
    },
    flush(controller) {
      if (rest !== "") controller.enqueue(rest);
    },
  });
}

if (import.meta.main) {
  const path = Deno.args[0] ?? new URL(import.meta.url).pathname;
  const file = await Deno.open(path);
  const relay = new Relay({ maxsize: 16 });
  relay.connect(input<string>(), new Upper(), new Measure());
  const encoder = new TextEncoder();
  try {
    await file.readable
      .pipeThrough(new TextDecoderStream())
      .pipeThrough(lines())
      .pipeThrough(relay.stream<string, string>())
      .pipeTo(
        new WritableStream({
          async write(line) {
            let bytes = encoder.encode(`${line}\n`);
            while (bytes.length > 0) {
              bytes = bytes.subarray(await Deno.stdout.write(bytes));
            }
          },
        }),
      );
  } catch (error) {
    // Standard output was closed: the failed write cancelled the file and
    // closed the relay; nothing is left to do.
    if (!(error instanceof Deno.errors.BrokenPipe)) throw error;
  }
}
