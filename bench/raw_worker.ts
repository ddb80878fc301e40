/**
 * A hand-wired worker: the raw counterpart of baton's actors, with
 * `MessagePort`s straight to its peers and no library. A source posts its
 * messages one per `postMessage` or in arrays of `batch`, round robin over
 * its ports, then `null` on each port as its end; a relay applies the work
 * and passes on what it gets, message by message or batch by batch; a sink
 * counts. No flow control: this is the ceiling of the wire. A worker given
 * `"ping"` answers `"pong"` (the start-up counterpart).
 *
 * @module
 */

import { Board } from "./board.ts";
import { maker, type Payload, spin, warmUp, type Work } from "./payloads.ts";
import { hashMany, hashOne, parseMany, parseOne } from "./piscina_task.ts";

/** What a raw worker is told to be. */
export interface RawConfig {
  role: "source" | "relay" | "sink";
  board: SharedArrayBuffer;
  slot: number;
  /** Workers in the run: a source waits for all of them to be up. */
  actors: number;
  count: number;
  batch: number;
  payload: Payload;
  work: Work;
  inputs: MessagePort[];
  outputs: MessagePort[];
  /** A sink spins this many microseconds on each message. */
  delayUs?: number;
}

interface Scope {
  onmessage: ((event: MessageEvent) => void) | null;
  postMessage(message: unknown): void;
}

const scope = globalThis as unknown as Scope;

scope.onmessage = (event: MessageEvent) => {
  const data = event.data as RawConfig | "ping";
  if (data === "ping") {
    scope.postMessage("pong");
    return;
  }
  const board = new Board(data.board);
  switch (data.role) {
    case "source":
      // A failure here reaches the main thread as an error event.
      void source(data, board);
      break;
    case "relay":
      warmUp(data.work);
      relay(data, board);
      break;
    case "sink":
      sink(data, board);
      break;
  }
  board.arrive();
};

async function source(config: RawConfig, board: Board): Promise<void> {
  await board.gather(config.actors);
  await board.released();
  board.started(config.slot);
  const outputs = config.outputs;
  const k = outputs.length;
  const n = config.count;
  const make = maker(config.payload);
  const transfer = config.payload === "transfer";
  const size = config.batch;
  let j = 0;
  if (size <= 1) {
    if (config.payload === "number") {
      for (let i = 0; i < n; i++) {
        outputs[j].postMessage(i);
        if (++j === k) j = 0;
      }
    } else {
      for (let i = 0; i < n; i++) {
        const message = make(i);
        outputs[j].postMessage(
          message,
          transfer ? [(message as Uint8Array<ArrayBuffer>).buffer] : [],
        );
        if (++j === k) j = 0;
      }
    }
  } else {
    let batch: unknown[] = [];
    let transfers: Transferable[] = [];
    for (let i = 0; i < n; i++) {
      const message = make(i);
      batch.push(message);
      if (transfer) transfers.push((message as Uint8Array<ArrayBuffer>).buffer);
      if (batch.length === size) {
        outputs[j].postMessage(batch, transfers);
        if (++j === k) j = 0;
        batch = [];
        if (transfer) transfers = [];
      }
    }
    if (batch.length > 0) outputs[j].postMessage(batch, transfers);
  }
  for (const port of outputs) port.postMessage(null);
}

function relay(config: RawConfig, _board: Board): void {
  const { inputs, outputs, work } = config;
  const k = outputs.length;
  let pills = 0;
  let j = 0;
  const onmessage = (event: MessageEvent): void => {
    const data = event.data;
    if (data === null) {
      if (++pills === inputs.length) {
        for (const port of outputs) port.postMessage(null);
      }
      return;
    }
    let out = data;
    // The work called as Piscina's task calls it (`piscina_task.ts`): a
    // batch through `map`. A loop calling `hash` here, or a dispatching
    // function, ran it about half as fast (see `Pass` in actors.ts).
    if (work === "hash") {
      out = Array.isArray(data) ? hashMany(data) : hashOne(data);
    } else if (work === "parse") {
      out = Array.isArray(data) ? parseMany(data) : parseOne(data);
    }
    outputs[j].postMessage(out);
    if (++j === k) j = 0;
  };
  for (const port of inputs) port.onmessage = onmessage;
}

function sink(config: RawConfig, board: Board): void {
  const inputs = config.inputs;
  const delayUs = config.delayUs ?? 0;
  let pills = 0;
  let count = 0;
  const onmessage = (event: MessageEvent): void => {
    const data = event.data;
    if (data === null) {
      if (++pills === inputs.length) {
        board.ended(config.slot, count);
        scope.postMessage("done");
      }
      return;
    }
    const n = Array.isArray(data) ? data.length : 1;
    count += n;
    if (delayUs > 0) { for (let i = 0; i < n; i++) spin(delayUs); }
  };
  for (const port of inputs) port.onmessage = onmessage;
}
