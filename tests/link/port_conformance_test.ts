/**
 * The link conformance suite on the port transport (RELIABILITY.md F12),
 * and once more with receivers that hold their credit give-backs until the
 * interleavings release them: senders then wait on credit while receivers
 * keep taking, which only a shared counter can arrange.
 *
 * @module
 */

import { Inlet } from "../../src/link/inlet.ts";
import { SharedReceiverCredit } from "../../src/link/port/credit.ts";
import {
  portEnd,
  portTransport,
  portWire,
} from "../../src/link/port/transport.ts";
import type { Transport } from "../../src/link/transport.ts";
import {
  conformance,
  type CreditHold,
  restartConformance,
} from "./conformance.ts";

/** A receiver's credit whose give-backs wait for `release()`. */
class HeldCredit extends SharedReceiverCredit {
  hold = true;
  override flush(): void {
    if (!this.hold) this.release();
  }
  release(): void {
    super.flush();
  }
}

/** The port transport, its receivers holding their credits back. */
function holdingPorts(): { transport: Transport; hold: CreditHold } {
  let held: HeldCredit[] = [];
  const transport: Transport = {
    ...portTransport,
    createEdge(shape) {
      held = [];
      return portTransport.createEdge(shape);
    },
    openReceiver(spec) {
      const end = portEnd(spec);
      const credit = new HeldCredit(end.cells, end.index, end.maxsize);
      held[end.index] = credit;
      return new Inlet(end.ports.map(portWire), credit);
    },
  };
  const hold: CreditHold = {
    release: (index) => held[index]?.release(),
    stop: () => {
      for (const credit of held) {
        credit.hold = false;
        credit.release();
      }
    },
  };
  return { transport, hold };
}

conformance("port transport", portTransport, { held: holdingPorts() });
restartConformance("port transport", portTransport);
