import { DEFAULTS } from './defaults.js';
import { InvalidOptionError } from './errors.js';
import { checkInteger } from './options.js';
import { checkTimerMs } from './timer-range.js';

/**
 * The packet limits of a service's sessions, grouped as the service option `packet`. A PacketSession
 * applies them; a plain Session, which reads raw bytes, ignores them. They live below the net layer
 * because the service validates them when it is made, before any PacketSession exists.
 */
export interface PacketOptions {
  /**
   * Largest packet accepted from a peer, header included, bytes: 4..65535 (the header's u16 size
   * field). A header announcing more ends the session with `PACKET_TOO_LARGE` as soon as its size field
   * is read. Default 65535.
   */
  readonly maxPacketSize?: number;
  /**
   * Packets per second a peer may send (1 s burst); 0 = unlimited. Over it, the service's
   * `rateLimitAction` applies: `disconnect` (cause `RATE_LIMITED`) or `drop` (dropped and counted in
   * `droppedPacketCount`). Default 0.
   */
  readonly maxPacketsPerSecond?: number;
  /**
   * Sends a heartbeat ping (id 65534) this often, ms, whatever else is sent; the peer answers with a
   * pong (id 65535) and `heartbeatRttMs` holds the round trip. 0 = no timed pings. Not needed to keep
   * quiet peers connected: with the service's `idleTimeoutMs` on, a PacketSession pings a peer that has
   * been quiet for a quarter to half of it anyway. Pings from the peer are always answered. Default 0.
   */
  readonly heartbeatIntervalMs?: number;
}

/** The packet limits as a session reads them: every value checked and defaulted. */
export interface PacketSettings {
  readonly maxPacketSize: number;
  readonly maxPacketsPerSecond: number;
  readonly heartbeatIntervalMs: number;
}

/** Smallest packet: the 4-byte header `[size u16 LE][id u16 LE]` alone. */
const MIN_PACKET_SIZE = 4;
/** Largest packet the u16 size field can announce. */
const LARGEST_PACKET_SIZE = 65535;

/** The packet settings when the service is given no `packet` option. */
export const DEFAULT_PACKET_SETTINGS: PacketSettings = Object.freeze({
  maxPacketSize: DEFAULTS.maxPacketSize,
  maxPacketsPerSecond: 0,
  heartbeatIntervalMs: 0,
});

/**
 * Checks the `packet` option group and fills in its defaults.
 * @throws InvalidOptionError naming the option (`packet.maxPacketSize`, …).
 */
export function resolvePacketOptions(options: PacketOptions | undefined): PacketSettings {
  if (options === undefined) return DEFAULT_PACKET_SETTINGS;
  if (typeof options !== 'object' || options === null) {
    throw new InvalidOptionError('packet', options, 'an object { maxPacketSize?, maxPacketsPerSecond?, heartbeatIntervalMs? }');
  }
  return Object.freeze({
    maxPacketSize: checkInteger('packet.maxPacketSize', options.maxPacketSize ?? DEFAULTS.maxPacketSize, MIN_PACKET_SIZE, LARGEST_PACKET_SIZE),
    maxPacketsPerSecond: checkInteger('packet.maxPacketsPerSecond', options.maxPacketsPerSecond ?? 0, 0),
    heartbeatIntervalMs: checkTimerMs('packet.heartbeatIntervalMs', options.heartbeatIntervalMs ?? 0, 1, true),
  });
}

/**
 * Refuses a packet option given where it no longer lives (it moved into the `packet` group): a
 * JavaScript caller would otherwise lose the limit in silence.
 * @throws InvalidOptionError saying where the option goes.
 */
export function refuseMovedPacketOptions(options: object, where: string): void {
  for (const name of ['maxPacketSize', 'maxPacketsPerSecond', 'heartbeatIntervalMs'] as const) {
    const value: unknown = (options as Record<string, unknown>)[name];
    if (value !== undefined) {
      throw new InvalidOptionError(`${where}.${name}`, value, `given as the service option packet.${name} (the packet limits are grouped under \`packet\`)`);
    }
  }
}
