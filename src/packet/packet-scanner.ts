import { MalformedHeaderError, PacketTooLargeError } from '../core/errors.js';
import { checkInteger } from '../core/options.js';
import { MAX_PACKET_SIZE, PACKET_HEADER_SIZE, readPacketId, readPacketSize } from './packet-header.js';

/** Receives each complete packet the scanner finds, as a range of the scanned buffer (no copy). */
export interface PacketSink {
  /**
   * One complete packet at `buffer[offset .. offset + size)`, header included; `id` is its id.
   * The bytes are valid only during the call. Return false to stop scanning after this packet.
   */
  onPacketBytes(buffer: Buffer, offset: number, size: number, id: number): boolean;
}

/**
 * The pure core of packet framing: finds the complete packets at the front of a buffer. No sockets, no
 * timers, no copies, no allocation per packet. A bad header (size below 4, or above `maxPacketSize`)
 * stops the scan the moment the header's first two bytes are seen, and `error` says why.
 */
export class PacketScanner {
  /** Largest packet accepted, header included, bytes. */
  readonly maxPacketSize: number;
  /** Set when the last `scan` or `scanRun` stopped at a bad header; cleared by the next scan. */
  error: MalformedHeaderError | PacketTooLargeError | undefined;
  /** How many packets the last `scanRun` found. */
  runCount = 0;

  /**
   * @param maxPacketSize - bytes, header included; 4..65535, default 65535.
   * @throws InvalidOptionError when out of range.
   */
  constructor(maxPacketSize: number = MAX_PACKET_SIZE) {
    this.maxPacketSize = checkInteger('maxPacketSize', maxPacketSize, PACKET_HEADER_SIZE, MAX_PACKET_SIZE);
  }

  /**
   * Hands every complete packet at the front of `buffer` to `sink`, in order.
   * @returns bytes consumed: the complete packets handed over (a partial packet at the end is left).
   * When a header is bad, `error` is set and the bytes before that header are what was consumed.
   */
  scan(buffer: Buffer, sink: PacketSink): number {
    this.error = undefined;
    const end = buffer.length;
    const max = this.maxPacketSize;
    let offset = 0;
    while (end - offset >= 2) {
      const size = readPacketSize(buffer, offset);
      if (size < PACKET_HEADER_SIZE || size > max) {
        this.error = headerError(size, max);
        return offset;
      }
      if (end - offset < size) break;
      const start = offset;
      offset += size;
      if (!sink.onPacketBytes(buffer, start, size, readPacketId(buffer, start))) break;
    }
    return offset;
  }

  /**
   * Finds the run of complete packets with ids below `stopId` that starts at `from`, without a sink
   * (batch mode hands a run over whole, so it has nothing to do per packet). Returns where the run
   * ends: at a complete packet whose id is `stopId` or above, at a partial packet, or at a bad header
   * (`error` set). `runCount` is how many packets the run holds.
   */
  scanRun(buffer: Buffer, from: number, stopId: number): number {
    this.error = undefined;
    const end = buffer.length;
    const max = this.maxPacketSize;
    let offset = from;
    let count = 0;
    while (end - offset >= 2) {
      const size = readPacketSize(buffer, offset);
      if (size < PACKET_HEADER_SIZE || size > max) {
        this.error = headerError(size, max);
        break;
      }
      if (end - offset < size || readPacketId(buffer, offset) >= stopId) break;
      offset += size;
      count++;
    }
    this.runCount = count;
    return offset;
  }
}

/** Why a header announcing `size` bytes is refused: below the header's own 4 bytes, or above `max`. */
function headerError(size: number, max: number): MalformedHeaderError | PacketTooLargeError {
  return size < PACKET_HEADER_SIZE ? new MalformedHeaderError(size) : new PacketTooLargeError(size, max);
}
