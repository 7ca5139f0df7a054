/**
 * Views of part of an ArrayBuffer that a Node socket writes as they are.
 *
 * Node's stream `write` turns any Uint8Array that is not a Buffer into one, reading its `buffer`,
 * `byteOffset` and `byteLength`; V8 does not inline those getters (`buffer` is even a call into C++),
 * and with one write per session per turn that showed as several percent of an echo server's
 * instructions under callgrind. So the views gamewire makes for sending are Buffers from the start,
 * made the way Node makes its own (`FastBuffer`): a Uint8Array subclass whose prototype chain holds
 * `Buffer.prototype`, so `instanceof Buffer` and every Buffer method work and construction is the
 * plain typed-array one. In a browser there is no Buffer, and a view is a plain Uint8Array.
 */
class BufferView extends Uint8Array {}

const NodeBuffer = (globalThis as { Buffer?: { prototype: object } }).Buffer;
if (NodeBuffer !== undefined) Object.setPrototypeOf(BufferView.prototype, NodeBuffer.prototype);

/** `length` bytes of `buffer` at `offset`: a Buffer in Node, a Uint8Array in a browser. */
export function viewOf(buffer: ArrayBuffer, offset: number, length: number): Uint8Array {
  return new BufferView(buffer, offset, length);
}
