import { checkInteger } from '../core/options.js';
import { Session } from '../net/session.js';
import { MAX_PACKET_SIZE, PACKET_HEADER_SIZE } from '../packet/packet-header.js';
import { kTraffic } from '../net/session-traffic.js';
import { PacketScanner, type PacketSink } from '../packet/packet-scanner.js';
import { PacketSession } from '../packet/packet-session.js';
import { sendBufferManager } from '../packet/send-buffer.js';

/**
 * The GameServer's echo session, the fast way: the same framing and limits as PacketSession (size
 * below 4 → `MALFORMED_HEADER`, above `maxPacketSize` → `PACKET_TOO_LARGE`, via the same pure
 * PacketScanner), but every complete packet of one read goes back with one copy and one write, with
 * no work per packet. This is what `gamewire echo-server` runs by default.
 */
export class EchoSession extends Session implements PacketSink {
  readonly #maxPacketSize: number;
  /** Made on the first bytes: an idle session holds none. */
  #scanner: PacketScanner | undefined;

  /** @param maxPacketSize - bytes, header included; default 65535. */
  constructor(maxPacketSize?: number) {
    super();
    this.#maxPacketSize = checkInteger('maxPacketSize', maxPacketSize ?? MAX_PACKET_SIZE, PACKET_HEADER_SIZE, MAX_PACKET_SIZE);
  }

  protected override onRecv(buffer: Buffer): number {
    const scanner = (this.#scanner ??= new PacketScanner(this.#maxPacketSize));
    const before = this[kTraffic].packetsReceived;
    const consumed = scanner.scan(buffer, this);
    // The buffer may be the RecvBuffer's memory, which is reused: copy what goes back.
    if (consumed > 0) this.send(sendBufferManager.copy(buffer.subarray(0, consumed)), this[kTraffic].packetsReceived - before);
    const error = scanner.error;
    if (error !== undefined) this.closeWithError(error);
    return consumed;
  }

  /** Every packet is echoed whole, so there is nothing to do per packet but count it. */
  onPacketBytes(): boolean {
    this[kTraffic].packetsReceived++;
    return true;
  }
}

/**
 * The echo session written as game code would be: a PacketSession whose `onRecvPacket` sends each
 * packet back with `sendPacket`. `gamewire echo-server --dispatch` runs it; it pays the per-packet
 * dispatch that EchoSession avoids (see bench/README.md).
 */
export class PacketEchoSession extends PacketSession {
  /** @param maxPacketSize - bytes, header included; default 65535. */
  constructor(maxPacketSize?: number) {
    super(maxPacketSize === undefined ? {} : { maxPacketSize });
  }

  protected override onRecvPacket(id: number, body: Buffer): void {
    this.sendPacket(id, body);
  }
}

/** The seed's GameSession: echoes bytes exactly as they come, with no framing. */
export class RawEchoSession extends Session {
  protected override onRecv(buffer: Buffer): number {
    this.send(Buffer.from(buffer));
    return buffer.length;
  }
}
