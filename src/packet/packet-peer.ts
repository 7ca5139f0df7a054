/**
 * Anything packets are sent to and handled for: a server `Session`, a client `Session`, or the browser
 * client's `GameClient`. Message types and handler tables ask for no more than this, so the code that
 * `gen-packets` writes runs in Node and in a browser alike.
 */
export interface PacketPeer {
  /** True while open: `send` queues bytes. */
  readonly connected: boolean;
  /** Queues whole packets (header included) for the peer; false when not open. */
  send(bytes: Uint8Array): boolean;
}
