import { REFUSAL_REASONS, type RefusalReason } from '../net/listen/refusal.js';
import type { Service } from '../net/service.js';
import type { Session } from '../net/session.js';
import { PacketSession } from '../packet/packet-session.js';
import type { Room } from '../room/room.js';
import { kTraffic } from '../net/symbols.js';

/** Disconnect causes that mean a slow consumer was evicted (`SEND_STALLED` once the flow work lands). */
export const EVICTION_CAUSES: ReadonlySet<string> = new Set(['SEND_QUEUE_OVERFLOW', 'SEND_STALLED']);

/** Everything the gamewire series show for one transport, read from plain counters at scrape time. */
export interface TransportSnapshot {
  sessions: number;
  sessionLimit: number;
  accepted: number;
  readonly refused: Record<RefusalReason, number>;
  readonly disconnects: Map<string, number>;
  bytesReceived: number;
  bytesSent: number;
  packetsReceived: number;
  packetsSent: number;
  /** Bytes queued for peers: in gamewire's send queues and in the sockets. */
  sendQueueBytes: number;
  /** Sessions whose `writable` is false (their peer is behind). */
  unwritable: number;
  /** One value per live session: its queued bytes. */
  readonly queueDepths: number[];
  /** One value per live PacketSession that has a heartbeat round trip: seconds. */
  readonly heartbeatRtts: number[];
}

/** What the room series show. */
export interface RoomSnapshot {
  readonly rooms: number;
  readonly members: number;
}

/** The transport label of a service's sessions: `tls` when it serves TLS, else `tcp`. */
export function transportOf(service: Service<Session>): string {
  return (service as { readonly secure?: boolean }).secure === true ? 'tls' : 'tcp';
}

function emptySnapshot(): TransportSnapshot {
  const refused = {} as Record<RefusalReason, number>;
  for (const reason of REFUSAL_REASONS) refused[reason] = 0;
  return {
    sessions: 0,
    sessionLimit: 0,
    accepted: 0,
    refused,
    disconnects: new Map(),
    bytesReceived: 0,
    bytesSent: 0,
    packetsReceived: 0,
    packetsSent: 0,
    sendQueueBytes: 0,
    unwritable: 0,
    queueDepths: [],
    heartbeatRtts: [],
  };
}

/**
 * Reads every service's counters and walks its live sessions once: one snapshot per transport. The
 * cost is one pass over the sessions per call, paid at scrape time, never on the hot path.
 */
export function snapshotServices(services: Iterable<Service<Session>>): Map<string, TransportSnapshot> {
  const byTransport = new Map<string, TransportSnapshot>();
  const snapshotOf = (transport: string): TransportSnapshot => {
    let snap = byTransport.get(transport);
    if (snap === undefined) byTransport.set(transport, (snap = emptySnapshot()));
    return snap;
  };
  for (const service of services) {
    // The service's own transport always shows, even before its first session; the session limit is
    // the service's, shared by all its transports, so it is shown once, there.
    const main = snapshotOf(transportOf(service));
    main.sessionLimit += service.maxSessionCount;
    for (const [transport, counters] of service.counters.byTransport) {
      const snap = snapshotOf(transport);
      snap.accepted += counters.accepted;
      for (const [reason, count] of Object.entries(counters.refused)) snap.refused[reason as RefusalReason] += count;
      for (const [cause, count] of counters.disconnects) snap.disconnects.set(cause, (snap.disconnects.get(cause) ?? 0) + count);
      const closed = counters.closedTraffic;
      snap.bytesReceived += closed.bytesReceived;
      snap.bytesSent += closed.bytesSent;
      snap.packetsReceived += closed.packetsReceived;
      snap.packetsSent += closed.packetsSent;
    }
    for (const session of service.sessions) {
      const snap = snapshotOf(session.transport);
      snap.sessions++;
      const traffic = session[kTraffic];
      snap.bytesReceived += traffic.bytesReceived;
      snap.bytesSent += traffic.bytesSent;
      snap.packetsReceived += traffic.packetsReceived;
      snap.packetsSent += traffic.packetsSent;
      const queued = session.queuedSendBytes + session.socketBufferedBytes;
      snap.sendQueueBytes += queued;
      snap.queueDepths.push(queued);
      if (!session.writable) snap.unwritable++;
      if (session instanceof PacketSession && session.heartbeatRttMs !== undefined) {
        snap.heartbeatRtts.push(session.heartbeatRttMs / 1000);
      }
    }
  }
  return byTransport;
}

/** Counts rooms and their members. */
export function snapshotRooms(rooms: Iterable<Room<Session>>): RoomSnapshot {
  let count = 0;
  let members = 0;
  for (const room of rooms) {
    count++;
    members += room.memberCount;
  }
  return { rooms: count, members };
}
