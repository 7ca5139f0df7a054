/**
 * A WebSocket client written out by hand over `node:net`, for what a real library will not do: send
 * a close frame and then keep TCP open without reading, half-close TCP without a close frame, send
 * frames one by one. Frames are masked, as a client's must be (RFC 6455 §5.3).
 */
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { Condition, withTimeout, type Cleanup } from './wait.js';

/** WebSocket opcodes. */
export const OPCODE = { text: 1, binary: 2, close: 8 } as const;

/** One masked client frame, FIN set. */
export function clientFrame(opcode: number, payload: Uint8Array): Buffer {
  const length = payload.length;
  const head = length < 126 ? 2 : length < 65536 ? 4 : 10;
  const frame = Buffer.alloc(head + 4 + length);
  frame[0] = 0x80 | opcode;
  if (length < 126) frame[1] = 0x80 | length;
  else if (length < 65536) {
    frame[1] = 0x80 | 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 0x80 | 127;
    frame.writeBigUInt64BE(BigInt(length), 2);
  }
  const mask = randomBytes(4);
  mask.copy(frame, head);
  for (let i = 0; i < length; i++) frame[head + 4 + i] = (payload[i] as number) ^ (mask[i & 3] as number);
  return frame;
}

/** A close frame's payload: the code (u16 BE) and a reason. */
export function closePayload(code: number, reason = ''): Buffer {
  const payload = Buffer.alloc(2 + Buffer.byteLength(reason));
  payload.writeUInt16BE(code, 0);
  payload.write(reason, 2);
  return payload;
}

export class RawWebSocket {
  /** Bytes received after the 101 response. */
  received = 0;
  ended = false;
  closed = false;
  readonly changed = new Condition();

  private constructor(readonly socket: Socket) {
    socket.on('end', () => {
      this.ended = true;
      this.changed.notify();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.closed = true;
      this.changed.notify();
    });
  }

  /** Connects to `ws://127.0.0.1:port/ws` and completes the upgrade; allowHalfOpen, so our side stays open after the server's FIN. */
  static async connect(port: number, cleanup: Cleanup): Promise<RawWebSocket> {
    const socket = connect({ host: '127.0.0.1', port, allowHalfOpen: true, noDelay: true });
    const client = new RawWebSocket(socket);
    cleanup.add(() => socket.destroy());
    await withTimeout(
      new Promise<void>((resolve, reject) => {
        let head = '';
        const onData = (chunk: Buffer): void => {
          head += chunk.toString('latin1');
          const end = head.indexOf('\r\n\r\n');
          if (end < 0) return;
          socket.off('data', onData);
          if (!head.startsWith('HTTP/1.1 101')) return reject(new Error(`upgrade refused: ${head.split('\r\n', 1)[0]}`));
          client.received += Buffer.byteLength(head, 'latin1') - end - 4;
          socket.on('data', (data: Buffer) => {
            client.received += data.length;
            client.changed.notify();
          });
          resolve();
        };
        socket.on('data', onData);
        socket.once('error', reject);
        socket.once('connect', () =>
          socket.write(
            `GET /ws HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
              `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
          ),
        );
      }),
      'the raw WebSocket upgrade',
    );
    return client;
  }

  send(opcode: number, payload: Uint8Array): void {
    this.socket.write(clientFrame(opcode, payload));
  }

  /** Stops reading: the kernel's buffers fill, then the server's writes stall. */
  stopReading(): void {
    this.socket.pause();
  }
}
