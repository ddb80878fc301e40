/**
 * Lines in and out for a pipeline file's `input: lines`: text split into
 * one message per line, and messages written one per line to a stream
 * whose reader may go away (`baton … | head`).
 *
 * @module
 */

/**
 * Splits text into lines, without their `\n` or `\r\n`; a last line
 * without a newline is a line too. A line split across chunks is joined
 * once, whatever the number of chunks.
 */
export function lineSplitter(): TransformStream<string, string> {
  let pending: string[] = [];
  const line = () => {
    const text = pending.join("");
    pending = [];
    return text.endsWith("\r") ? text.slice(0, -1) : text;
  };
  return new TransformStream({
    transform(chunk, controller) {
      let start = 0;
      for (
        let end = chunk.indexOf("\n");
        end !== -1;
        end = chunk.indexOf("\n", start)
      ) {
        pending.push(chunk.slice(start, end));
        controller.enqueue(line());
        start = end + 1;
      }
      if (start < chunk.length) pending.push(chunk.slice(start));
    },
    flush(controller) {
      if (pending.length > 0) controller.enqueue(line());
    },
  });
}

/** A message as one line: a string as it is, anything else as JSON. */
export function lineOf(message: unknown): string {
  if (typeof message === "string") return message;
  try {
    return JSON.stringify(message) ?? String(message);
  } catch {
    return Deno.inspect(message, { compact: true, breakLength: Infinity });
  }
}

/**
 * Writes each message as a line on `out`. Resolves true when the messages
 * ended, false when `out`'s reader went away (a broken pipe): the messages
 * are then left early, which closes a relay's results.
 */
export async function printLines(
  messages: AsyncIterable<unknown> | Iterable<unknown>,
  out: { write(bytes: Uint8Array): Promise<number> } = Deno.stdout,
): Promise<boolean> {
  const encoder = new TextEncoder();
  for await (const message of messages) {
    let bytes = encoder.encode(`${lineOf(message)}\n`);
    try {
      while (bytes.length > 0) bytes = bytes.subarray(await out.write(bytes));
    } catch (error) {
      if (error instanceof Deno.errors.BrokenPipe) return false;
      throw error;
    }
  }
  return true;
}
