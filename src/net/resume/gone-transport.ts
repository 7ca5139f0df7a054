import type { DisconnectCause } from '../../core/disconnect-cause.js';
import type { Transport, TransportKind, TransportSink } from '../transport/transport.js';

/**
 * The connection a moved-in session had on the process it came from: it stands in the session's
 * link until the client resumes here, so the session keeps the peer's kind and address. Nothing is
 * ever read from or written to it (the resume transport is suspended while it is the link's).
 */
export class GoneTransport implements Transport {
  readonly kind: TransportKind;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly bufferedBytes = 0;
  readonly sentBytes = -1;
  readonly destroyed = true;

  constructor(kind: TransportKind, remoteAddress: string, remotePort: number) {
    this.kind = kind;
    this.remoteAddress = remoteAddress;
    this.remotePort = remotePort;
  }

  open(sink: TransportSink): void {
    void sink;
  }

  write(pieces: readonly Uint8Array[], count: number, bytes: number): void {
    void pieces;
    void count;
    void bytes;
  }

  deliverTo(sink: TransportSink | undefined): void {
    void sink;
  }

  pause(): void {}

  resume(): void {}

  end(cause: DisconnectCause): void {
    void cause;
  }

  destroy(): void {}
}
