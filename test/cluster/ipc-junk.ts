/** The junk ipc-junk-fixture.ts sends over IPC both ways, with the reason each must be dropped for (data only: no side effects). */
import { encodeRoomFrame } from '../../src/cluster/room-frame.js';

const GW = 'gamewire';
const notPackets = encodeRoomFrame({ kind: 'bytes', origin: 1, bytes: Buffer.from([1, 2, 3]) }, 0);
const futureFrame = Buffer.from(encodeRoomFrame({ kind: 'hello', origin: 1 }, 0)).fill(9, 2, 4);
const legacy = Buffer.concat([Buffer.from([1]), Buffer.alloc(16), Buffer.from('notjson')]);

/** What each worker sends the primary, with the reason the primary must drop it for. */
export const JUNK_TO_PRIMARY: ReadonlyArray<readonly [unknown, string]> = [
  [{ gw: GW, type: 'publish', room: 'r', message: { kind: 'bytes', origin: 1, bytes: new Uint8Array(4) } }, 'version'],
  [{ gw: GW, v: 9, min: 9, type: 'ready', host: 'evil', port: 1 }, 'version'],
  [{ gw: GW, v: 1, min: 1, type: 'publish', room: 'r', frame: 'not bytes' }, 'malformed'],
  [{ gw: GW, v: 1, min: 1, type: 'publish', room: 'r', frame: legacy }, 'malformed'],
  [{ gw: GW, v: 1, min: 1, type: 'publish', room: 'r', frame: notPackets }, 'not_packets'],
  [{ gw: GW, v: 1, min: 1, type: 'publish', room: 'r', frame: futureFrame }, 'version'],
  [{ gw: GW, v: 1, min: 1, type: 'join', room: 5 }, 'malformed'],
  [{ gw: GW, v: 1, min: 1, type: 'flow', room: 'r', held: 'yes' }, 'malformed'],
  [{ gw: GW, v: 1, min: 1, type: 'pong', seq: -1 }, 'malformed'],
  [{ gw: GW, v: 2, min: 1, type: 'sender-flow', room: 'r', origin: 0, session: 5, held: true }, 'malformed'],
  [{ gw: GW, v: 2, min: 1, type: 'sender-flow', room: 'r', origin: 1, session: 2 ** 53, held: false }, 'malformed'],
  [{ gw: GW, v: 1, min: 1, type: 'sender-flow', room: 'r', origin: 1, session: 5 }, 'malformed'],
  [{ gw: GW, v: 9, min: 1, type: 'teleport', to: 'mars' }, 'unknown'],
  [{ gw: GW, v: 1, min: 1 }, 'malformed'],
  [{ gw: GW, v: 1, min: 1, type: 'resume-route', route: 0, kind: 'tcp', port: 1, bytes: new Uint8Array(4) }, 'malformed'],
  [{ gw: GW, v: 1, min: 1, type: 'resume-route', route: 2, kind: 'udp', port: 1, bytes: new Uint8Array(4) }, 'malformed'],
  [{ gw: GW, v: 1, min: 1, type: 'resume-route', route: 2, kind: 'tcp', port: 1, bytes: new Uint8Array(70_000) }, 'malformed'],
  // Well-formed, but without the socket it must come with.
  [{ gw: GW, v: 1, min: 1, type: 'resume-route', route: 2, kind: 'tcp', port: 1, bytes: new Uint8Array(4) }, 'malformed'],
];

/** What the primary sends each worker, with the reason the worker must drop it for. */
export const JUNK_TO_WORKER: ReadonlyArray<readonly [unknown, string]> = [
  [{ gw: GW, type: 'close' }, 'version'],
  [{ gw: GW, v: 9, min: 9, type: 'close' }, 'version'],
  [{ gw: GW, v: 1, min: 1, type: 'room', room: 'r', frame: legacy, holdable: true }, 'malformed'],
  [{ gw: GW, v: 1, min: 1, type: 'room', room: 'r', frame: notPackets, holdable: false }, 'not_packets'],
  [{ gw: GW, v: 1, min: 1, type: 'room', room: 'r', frame: new Uint8Array(8) }, 'malformed'],
  [{ gw: GW, v: 1, min: 1, type: 'flow', room: 'r' }, 'malformed'],
  [{ gw: GW, v: 1, min: 1, type: 'ping', seq: 'soon' }, 'malformed'],
  [{ gw: GW, v: 9, min: 8, type: 'room', room: 'r', frame: new Uint8Array(0), holdable: true }, 'version'],
  [{ gw: GW, v: 2, min: 1, type: 'sender-flow', room: 'r', session: -1, held: true }, 'malformed'],
  [{ gw: GW, v: 2, min: 1, type: 'sender-flow', room: 'r', session: 1.5, held: true }, 'malformed'],
  [{ gw: GW, v: 2, min: 1, type: 'sender-flow', room: '', session: 3, held: false }, 'malformed'],
  [{ gw: GW, v: 9, min: 1, type: 'migrate', room: 'r' }, 'unknown'],
  [{ gw: GW, v: 1, min: 1, type: 'routes', routes: [0] }, 'malformed'],
  [{ gw: GW, v: 1, min: 1, type: 'routes', routes: 'all' }, 'malformed'],
  [{ gw: GW, v: 1, min: 1, type: 'resume-socket', kind: 'ws', port: 70_000, bytes: new Uint8Array(1) }, 'malformed'],
  // Well-formed, but without the socket it must come with.
  [{ gw: GW, v: 1, min: 1, type: 'resume-socket', kind: 'ws', port: 1, bytes: new Uint8Array(1) }, 'malformed'],
];
