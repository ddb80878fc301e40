/**
 * The raw counterpart of the latency benchmark: a worker with one
 * `MessagePort` to its peer and no library. As a source it posts its clock
 * reading, one at a time, each once the sink recorded the one before; as a
 * sink it records each latency and answers `"done"` after the last.
 *
 * @module
 */

import { now } from "./board.ts";
import { LatencyRecord } from "./latency_actors.ts";

/** What a raw latency worker is told to be. */
export interface RawLatencyConfig {
  role: "source" | "sink";
  record: SharedArrayBuffer;
  count: number;
  port: MessagePort;
}

interface Scope {
  onmessage: ((event: MessageEvent) => void) | null;
  postMessage(message: unknown): void;
}

const scope = globalThis as unknown as Scope;

scope.onmessage = async (event: MessageEvent<RawLatencyConfig>) => {
  const { role, count, port } = event.data;
  const record = new LatencyRecord(event.data.record);
  if (role === "sink") {
    port.onmessage = (message: MessageEvent<number>) => {
      if (record.received(message.data) === count) scope.postMessage("done");
    };
    return;
  }
  for (let i = 0; i < count; i++) {
    port.postMessage(now());
    await record.beyond(i);
  }
};
