/**
 * The raw counterpart of the latency benchmark: a worker with a
 * `MessagePort` to each peer and no library. As a source it posts its clock
 * reading, one at a time, each once the sink recorded the one before (or,
 * given `startedAt`, that time once); as a relay it passes each on; as a
 * sink it records each latency and answers `"done"` after the last.
 *
 * @module
 */

import { now } from "./board.ts";
import { LatencyRecord } from "./latency_actors.ts";

/** What a raw latency worker is told to be. */
export interface RawLatencyConfig {
  role: "source" | "relay" | "sink";
  record: SharedArrayBuffer;
  count: number;
  /** The source sends this once instead of clock readings, if above 0. */
  startedAt: number;
  /** The port it receives on (relay, sink) and sends on (source, relay). */
  input: MessagePort | null;
  output: MessagePort | null;
}

interface Scope {
  onmessage: ((event: MessageEvent) => void) | null;
  postMessage(message: unknown): void;
}

const scope = globalThis as unknown as Scope;

scope.onmessage = async (event: MessageEvent<RawLatencyConfig>) => {
  const { role, count, input, output, startedAt } = event.data;
  const record = new LatencyRecord(event.data.record);
  if (role === "sink") {
    input!.onmessage = (message: MessageEvent<number>) => {
      if (record.received(message.data) === count) scope.postMessage("done");
    };
    return;
  }
  if (role === "relay") {
    input!.onmessage = (message: MessageEvent<number>) =>
      output!.postMessage(message.data);
    return;
  }
  if (startedAt > 0) {
    output!.postMessage(startedAt);
    return;
  }
  for (let i = 0; i < count; i++) {
    output!.postMessage(now());
    await record.beyond(i);
  }
};
