/**
 * What one session moved, counted as it happens in plain numbers (reading them costs nothing; the
 * metrics layer reads them at scrape time).
 */
export interface SessionTraffic {
  /** Bytes read from the peer. */
  readonly bytesReceived: number;
  /** Bytes queued for the peer with `send` (bytes of a send refused by `maxSendQueueBytes` are not counted). */
  readonly bytesSent: number;
  /**
   * Packets received, counted by the packet layer (PacketSession, and the sample sessions that frame
   * with PacketScanner); 0 for a session that reads raw bytes.
   */
  readonly packetsReceived: number;
  /** Packets queued for the peer: one per `sendPacket`, and `packetCount` (default 1) per `send`. */
  readonly packetsSent: number;
}

/** Internal: the mutable counters behind {@link SessionTraffic}, one per session. */
export class TrafficCounters implements SessionTraffic {
  bytesReceived = 0;
  bytesSent = 0;
  packetsReceived = 0;
  packetsSent = 0;

  /** Adds `other`'s counts to these. */
  add(other: SessionTraffic): void {
    this.bytesReceived += other.bytesReceived;
    this.bytesSent += other.bytesSent;
    this.packetsReceived += other.packetsReceived;
    this.packetsSent += other.packetsSent;
  }
}
