/*
 * net/transport/: how a connection's bytes arrive and leave. The Transport contract (this file),
 * TcpTransport (net.Socket, TLSSocket), WebSocketTransport (ws) and the mapping of socket errors to
 * disconnect causes (transport-errors.ts). Knows nothing of sessions, packets or limits.
 * May import: core/, net/symbols.ts.
 */
import type { DisconnectCause } from '../../core/disconnect-cause.js';
import { kTransportClosed, kTransportData, kTransportEnd, kTransportError, kTransportWritten } from '../symbols.js';

/**
 * How a connection's bytes arrive and leave, whatever carries them: TCP, TLS over TCP, or WebSocket.
 * A connection core (the Session underneath) drives exactly one transport and hears back through a
 * {@link TransportSink}. Transports know nothing of packets, sessions or limits; sessions know nothing of
 * sockets. Internal: only TransportKind is exported from the package root.
 */

/** What carries a session: `tcp`, `tls` (TLS over TCP), `ws` or `wss` (WebSocket, over TLS for `wss`). */
export type TransportKind = 'tcp' | 'tls' | 'ws' | 'wss';

/**
 * What a transport tells its connection. Methods on one object (the connection), not closures per
 * connection: a transport keeps one reference to its sink and calls these as events happen.
 */
export interface TransportSink {
  /**
   * Bytes arrived. The chunk is the transport's to reuse once this returns (copy what you keep). Over
   * WebSocket, one binary message is one chunk and holds whole packets only.
   */
  [kTransportData](chunk: Buffer): void;
  /**
   * The peer ended its side in an orderly way: TCP FIN, or (`leaving` true) a WebSocket close frame,
   * after which nothing sent to it is read as data; `closeCode` is that frame's code (1012: the
   * server drained, reconnect at once).
   */
  [kTransportEnd](leaving?: boolean, closeCode?: number): void;
  /** A transport error; `kTransportClosed` follows. Ordinary resets carry their errno `code`. */
  [kTransportError](error: Error): void;
  /** The transport is fully closed; nothing follows. Called exactly once. */
  [kTransportClosed](): void;
  /** One `write` has been handed to the kernel (or failed: `error` set). Called once per `write`, in order. */
  [kTransportWritten](error: Error | null | undefined): void;
}

/** One live connection's transport. */
export interface Transport {
  /** What carries the bytes; the `transport` label of metrics and logs. */
  readonly kind: TransportKind;
  /** The peer's address ('' when unknown) and port (0 when unknown). */
  readonly remoteAddress: string;
  readonly remotePort: number;
  /** Bytes accepted by `write` and not yet handed to the kernel (Node's `writableLength`). */
  readonly bufferedBytes: number;
  /**
   * How many bytes this transport has handed to the kernel so far, counted as they go in (a write may
   * go in over seconds to a slow reader), or -1 when it cannot tell (the connection then counts the
   * bytes of completed writes). Only its growth is used: it grows while the peer reads.
   */
  readonly sentBytes: number;
  /** True once the transport is destroyed or closed. */
  readonly destroyed: boolean;
  /** Starts delivering events to `sink`. Called once, right after the connection is made. */
  open(sink: TransportSink): void;
  /**
   * Writes `pieces[0..count)`, `bytes` in all, as ONE write: one TCP write (or writev), one WebSocket
   * binary message (several, split between packets, past the message limit). The pieces are not copied unless the transport must; they stay unchanged until
   * `kTransportWritten`, which runs once for this call. The list itself is read only during the call
   * (the caller reuses it). `own` (resume only): bytes of the resume machinery's own, whose completion
   * is not reported at all.
   */
  write(pieces: readonly Uint8Array[], count: number, bytes: number, own?: boolean): void;
  /** Stops reading from the peer (back-pressure); `resume` starts again. Idempotent. */
  pause(): void;
  resume(): void;
  /**
   * Graceful end with `cause`: what was written still leaves, then TCP FIN or a WebSocket close frame
   * whose code and reason tell the cause (see core/websocket-close.ts). Reading goes on until the peer
   * closes too, so the peer's FIN or close frame is seen.
   */
  end(cause: DisconnectCause): void;
  /** Closes at once; queued bytes are dropped. `kTransportClosed` follows. */
  destroy(): void;

  // Resume (net/resume/resume-transport.ts): only a resumable transport has these.
  /** True when the session survives the loss of this transport's connection (the peer asked for resume). */
  readonly resumable?: boolean;
  /**
   * The connection gave up on its peer (idle, stalled): a resumable transport drops the connection and
   * suspends the session instead (true); false when the session must end.
   */
  lose?(cause: DisconnectCause): boolean;
  /**
   * A resume packet (ids 65520..65533) arrived in the session's stream: `bytes[offset, offset + size)`,
   * its 4-byte header included, valid during the call (given whole so that an ACK, every 32 packets,
   * is read in place without a view).
   */
  control?(id: number, bytes: Buffer, offset: number, size: number): void;

  // Resume (net/resume/transport-link.ts): only a raw transport (TCP, WebSocket) has this.
  /**
   * From now on data and the completions of writes not `own` go straight to `sink` instead of the
   * sink given to `open`, which keeps hearing the end, errors and the close; undefined goes back to
   * that one. A resumable session's reads and writes then skip the link that would only forward them:
   * one object less touched per read and per write, which counts with a thousand sessions
   * (bench/README.md, "Resume echo").
   */
  deliverTo?(sink: TransportSink | undefined): void;
}
