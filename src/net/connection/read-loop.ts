import type { RecvBuffer } from '../../core/recv-buffer.js';
import { kDeliverView, kRecvOverflow } from '../symbols.js';

/** What the read loop needs of a connection. */
export interface ReadSink {
  [kDeliverView](view: Buffer): number;
  [kRecvOverflow](capacity: number): void;
}

/**
 * The read loop of the C++ `OnRecv`: presents `chunk`, after any tail held back in `recvBuffer`, to
 * the receiver until it is consumed or held back. With nothing held back the chunk itself is presented,
 * without a copy; only an unconsumed tail is copied into the RecvBuffer. No I/O, no allocation.
 */
export function runReadLoop(receiver: ReadSink, recvBuffer: RecvBuffer, chunk: Buffer): void {
  let offset = 0;
  while (offset < chunk.length) {
    if (recvBuffer.isEmpty) {
      const view = offset === 0 ? chunk : chunk.subarray(offset);
      const consumed = receiver[kDeliverView](view);
      if (consumed < 0) return;
      offset += consumed;
      const rest = chunk.length - offset;
      if (rest === 0) return;
      if (rest < recvBuffer.capacity) {
        recvBuffer.append(chunk, offset);
        return;
      }
      // A tail too big to hold back: present it again while onRecv makes progress, as a C++
      // RecvBuffer would after reading at most its free space.
      if (consumed === 0) return receiver[kRecvOverflow](recvBuffer.capacity);
      continue;
    }
    offset += recvBuffer.append(chunk, offset);
    const consumed = receiver[kDeliverView](recvBuffer.data());
    if (consumed < 0) return;
    recvBuffer.onRead(consumed);
    recvBuffer.clean();
    if (recvBuffer.freeSize === 0 && consumed === 0) return receiver[kRecvOverflow](recvBuffer.capacity);
  }
}
