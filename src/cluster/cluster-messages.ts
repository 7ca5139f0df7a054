import { MIN_READER_VERSION, PROTOCOL_VERSION, readableVersion } from './cluster-protocol.js';
import type { DropReason } from './dropped-messages.js';
import type { MovedSession } from '../net/session-move.js';

/**
 * A session moving between workers (docs/cluster.md, "Sessions that move"): what the old worker took
 * (net/session-move.ts) and the names of its ClusterRooms.
 */
export interface MovedSessionState extends MovedSession {
  readonly rooms: readonly string[];
}

/** Tag of every gamewire IPC message, so a game's own `process.send` traffic can share the channel. */
export const GW = 'gamewire';

/**
 * What every gamewire IPC message starts with: the tag, the protocol version of the writer (`v`) and
 * the oldest protocol version that can read it (`min`); see cluster-protocol.ts. A reader ignores
 * fields it does not know, so a later version may add some.
 */
export interface Envelope {
  readonly gw: typeof GW;
  readonly v: number;
  readonly min: number;
}

/** Primary → worker, without the envelope. */
export type ToWorkerBody =
  /** Close gracefully. */
  | { readonly type: 'close' }
  /**
   * Stop accepting new connections, and nothing else (the sessions here go on): a rolling reload tells
   * every old worker so once the new ones listen, before it drains the old ones one at a time.
   */
  | { readonly type: 'stop-accepting' }
  /**
   * Drain (stop accepting, let the sessions run at most `timeoutMs`), then close: a rolling reload or a
   * drain of the server. `moveResumable` (a rolling reload): first move the sessions that can move to
   * the other workers (worker-moves.ts).
   */
  | { readonly type: 'drain'; readonly timeoutMs: number; readonly moveResumable?: boolean | undefined }
  /** A room frame (room-frame.ts) from another process; `holdable` when its feeders can be held (another worker of this server). */
  | { readonly type: 'room'; readonly room: string; readonly frame: Uint8Array; readonly holdable: boolean }
  /** Hold (`held`) or release the sessions of this worker that feed `room`: a process in it cannot keep up. */
  | { readonly type: 'flow'; readonly room: string; readonly held: boolean }
  /**
   * Hold (`held`) or release session `session` of this worker, a feeder of `room`: a member on another
   * worker is behind with what it fed past its share (protocol version 2 on).
   */
  | { readonly type: 'sender-flow'; readonly room: string; readonly session: number; readonly held: boolean }
  /** Answer with a `pong` of the same `seq` (the primary's liveness check). */
  | { readonly type: 'ping'; readonly seq: number }
  /** Answer with this process's metrics (metrics/cluster-metrics.ts). */
  | { readonly type: 'metrics-request'; readonly id: number }
  /** The routes of the workers that listen now (resume-routes.ts), this worker's among them. */
  | { readonly type: 'routes'; readonly routes: readonly number[] }
  /** Comes with a socket: a connection another worker handed over for a session held here (resume-routes.ts). */
  | { readonly type: 'resume-socket'; readonly kind: 'tcp' | 'ws'; readonly port: number; readonly bytes: Uint8Array }
  /**
   * Sessions that move (to the new worker): get ready to take `session`, now on the worker of bus origin
   * `from`, a member of `rooms`: reserve its resume key, and keep what comes for those rooms from now on.
   */
  | { readonly type: 'move-prepare'; readonly session: number; readonly from: number; readonly rooms: readonly string[] }
  /** To the new worker, written when `move-out` is written to the old one: the cut (`seq`: its last publish the primary had). */
  | { readonly type: 'move-cut'; readonly session: number; readonly seq: number }
  /** To the new worker: the session's state; make it here. */
  | { readonly type: 'move-in'; readonly session: number; readonly state: MovedSessionState }
  /** To the old worker: `session` leaves now; its client's token on the new worker is `token`. */
  | { readonly type: 'move-out'; readonly session: number; readonly token: Uint8Array }
  /** To either: the move of `session` is off (the old worker keeps and drains it; the new one forgets its reservation). */
  | { readonly type: 'move-cancel'; readonly session: number };

/** Worker → primary, without the envelope. */
export type ToPrimaryBody =
  /**
   * Listening. `gamewireVersion` and `appVersion` (the setup's `version`) say what code it runs; a
   * worker of an older release sends neither.
   */
  | {
      readonly type: 'ready';
      readonly host: string;
      readonly port: number;
      readonly wsPort?: number | undefined;
      readonly gamewireVersion?: string | undefined;
      readonly appVersion?: string | undefined;
      /** It can take sessions that move (resume on, rooms over IPC); a worker of an older release does not say. */
      readonly moves?: boolean | undefined;
    }
  | { readonly type: 'failed'; readonly message: string }
  | { readonly type: 'closed'; readonly accepted: number; readonly refused: number }
  | { readonly type: 'join' | 'leave'; readonly room: string }
  /**
   * A room frame (room-frame.ts) for the other processes in `room`; `seq` numbers the worker's
   * publishes (from 1, by one; absent from an older release), the cut of a move is told in them.
   */
  | { readonly type: 'publish'; readonly room: string; readonly frame: Uint8Array; readonly seq?: number | undefined }
  /** Members here hold (`held`) or no longer hold the traffic of `room` that comes from other workers and names no sender. */
  | { readonly type: 'flow'; readonly room: string; readonly held: boolean }
  /**
   * Members here hold (`held`) or no longer hold what session `session` of worker `origin` (its bus
   * origin) fed them in `room` (protocol version 2 on).
   */
  | { readonly type: 'sender-flow'; readonly room: string; readonly origin: number; readonly session: number; readonly held: boolean }
  | { readonly type: 'pong'; readonly seq: number }
  /** This worker's metrics (prom-client JSON), or why it has none. */
  | { readonly type: 'metrics-reply'; readonly id: number; readonly metrics?: unknown; readonly error?: string }
  /** Comes with a socket: hand it to the worker of `route`, which holds the session it resumes (resume-routes.ts). */
  | { readonly type: 'resume-route'; readonly route: number; readonly kind: 'tcp' | 'ws'; readonly port: number; readonly bytes: Uint8Array }
  /** A draining worker asks to move `session` (a member of `rooms`) to another worker. */
  | { readonly type: 'move-ask'; readonly session: number; readonly rooms: readonly string[] }
  /** The new worker is ready for `session`: its resume `key` and the client's `token` here. */
  | { readonly type: 'move-prepared'; readonly session: number; readonly key: number; readonly token: Uint8Array }
  /** The new worker cannot take `session` (closing, resume off). */
  | { readonly type: 'move-refused'; readonly session: number; readonly reason: string }
  /** The old worker took `session` out (its client was told MOVE): its state, for the new worker. */
  | { readonly type: 'moved'; readonly session: number; readonly state: MovedSessionState }
  /** The old worker could not take `session` out (it ended meanwhile, a hook threw): it stays. */
  | { readonly type: 'move-failed'; readonly session: number; readonly reason: string }
  /** The new worker made `session` (no `reason`), or could not (`reason`: its client will log in again). */
  | { readonly type: 'move-done'; readonly session: number; readonly reason?: string | undefined };

/** Primary → worker. */
export type ToWorker = Envelope & ToWorkerBody;
/** Worker → primary. */
export type ToPrimary = Envelope & ToPrimaryBody;

/** A message to a worker: `body` in the envelope of this release. */
export function toWorker(body: ToWorkerBody): ToWorker {
  return { gw: GW, v: PROTOCOL_VERSION, min: MIN_READER_VERSION, ...body };
}

/** A message to the primary: `body` in the envelope of this release. */
export function toPrimary(body: ToPrimaryBody): ToPrimary {
  return { gw: GW, v: PROTOCOL_VERSION, min: MIN_READER_VERSION, ...body };
}

/** True for a message tagged as gamewire's (whatever its version or shape). */
export function isGamewireMessage(value: unknown): value is { readonly gw: typeof GW } {
  return typeof value === 'object' && value !== null && (value as { gw?: unknown }).gw === GW;
}

/** True for a gamewire message of `type` (no other check: its reader checks the rest). */
export function isGamewireType(value: unknown, type: string): value is Envelope & Record<string, unknown> {
  return isGamewireMessage(value) && (value as { type?: unknown }).type === type;
}

/**
 * Checks a message the primary received: undefined when it is not gamewire's (the game's own
 * traffic), the message when it is well-formed, or why it is dropped. Never throws.
 */
export function parseToPrimary(raw: unknown): ToPrimary | DropReason | undefined {
  const fields = envelopeFields(raw);
  if (fields === undefined || typeof fields === 'string') return fields;
  const ok = ((): boolean => {
    switch (fields.type) {
      case 'ready':
        return (
          typeof fields.host === 'string' &&
          isPort(fields.port) &&
          (fields.wsPort === undefined || isPort(fields.wsPort)) &&
          isOptionalText(fields.gamewireVersion) &&
          isOptionalText(fields.appVersion) &&
          (fields.moves === undefined || typeof fields.moves === 'boolean')
        );
      case 'failed':
        return typeof fields.message === 'string';
      case 'closed':
        return isCount(fields.accepted) && isCount(fields.refused);
      case 'join':
      case 'leave':
        return isRoom(fields.room);
      case 'publish':
        return isRoom(fields.room) && fields.frame instanceof Uint8Array && (fields.seq === undefined || isSeq(fields.seq));
      case 'flow':
        return isRoom(fields.room) && typeof fields.held === 'boolean';
      case 'sender-flow':
        return isRoom(fields.room) && isId(fields.origin) && isId(fields.session) && typeof fields.held === 'boolean';
      case 'pong':
        return isCount(fields.seq);
      case 'metrics-reply':
        return isCount(fields.id);
      case 'resume-route':
        return isRoute(fields.route) && isHanded(fields);
      case 'move-ask':
        return isSessionId(fields.session) && isRoomList(fields.rooms);
      case 'move-prepared':
        return isSessionId(fields.session) && isKey(fields.key) && isToken(fields.token);
      case 'move-refused':
      case 'move-failed':
        return isSessionId(fields.session) && isReason(fields.reason);
      case 'moved':
        return isSessionId(fields.session) && isMovedState(fields.state, fields.session);
      case 'move-done':
        return isSessionId(fields.session) && (fields.reason === undefined || isReason(fields.reason));
      default:
        return false;
    }
  })();
  if (ok) return fields as unknown as ToPrimary;
  return isKnown(fields.type, PRIMARY_TYPES) ? 'malformed' : unknownType(fields);
}

/** Checks a message a worker received; as {@link parseToPrimary}. */
export function parseToWorker(raw: unknown): ToWorker | DropReason | undefined {
  const fields = envelopeFields(raw);
  if (fields === undefined || typeof fields === 'string') return fields;
  const ok = ((): boolean => {
    switch (fields.type) {
      case 'close':
      case 'stop-accepting':
        return true;
      case 'drain':
        return (
          Number.isInteger(fields.timeoutMs) &&
          (fields.timeoutMs as number) >= 0 &&
          (fields.timeoutMs as number) <= 2_147_483_647 &&
          (fields.moveResumable === undefined || typeof fields.moveResumable === 'boolean')
        );
      case 'room':
        return isRoom(fields.room) && fields.frame instanceof Uint8Array && typeof fields.holdable === 'boolean';
      case 'flow':
        return isRoom(fields.room) && typeof fields.held === 'boolean';
      case 'sender-flow':
        return isRoom(fields.room) && isId(fields.session) && typeof fields.held === 'boolean';
      case 'ping':
        return isCount(fields.seq);
      case 'metrics-request':
        return isCount(fields.id);
      case 'routes':
        return Array.isArray(fields.routes) && fields.routes.length <= MAX_ROUTES && fields.routes.every(isRoute);
      case 'resume-socket':
        return isHanded(fields);
      case 'move-prepare':
        return isSessionId(fields.session) && isCount(fields.from) && isRoomList(fields.rooms);
      case 'move-cut':
        return isSessionId(fields.session) && isSeq(fields.seq);
      case 'move-in':
        return isSessionId(fields.session) && isMovedState(fields.state, fields.session);
      case 'move-out':
        return isSessionId(fields.session) && isToken(fields.token);
      case 'move-cancel':
        return isSessionId(fields.session);
      default:
        return false;
    }
  })();
  if (ok) return fields as unknown as ToWorker;
  return isKnown(fields.type, WORKER_TYPES) ? 'malformed' : unknownType(fields);
}

const PRIMARY_TYPES = [
  'ready', 'failed', 'closed', 'join', 'leave', 'publish', 'flow', 'sender-flow', 'pong', 'metrics-reply', 'resume-route',
  'move-ask', 'move-prepared', 'move-refused', 'moved', 'move-failed', 'move-done',
];
const WORKER_TYPES = [
  'close', 'stop-accepting', 'drain', 'room', 'flow', 'sender-flow', 'ping', 'metrics-request', 'routes', 'resume-socket',
  'move-prepare', 'move-cut', 'move-in', 'move-out', 'move-cancel',
];

/** Most rooms a moving session takes with it. */
export const MAX_MOVED_ROOMS = 1024;
/** Longest room name in a move message, characters. */
const MAX_ROOM_NAME = 1024;
/** Most bytes of game state (`serializeState`) a session takes with it: it crosses as one IPC message. */
export const MAX_MOVED_GAME_BYTES = 1_048_576;
/** Most bytes a moving session's client has not acknowledged: the largest `resume.maxReplayBytes`, and one packet over it. */
export const MAX_MOVED_HELD_BYTES = 67_108_864 + 65_535;
/** Longest reason text in a move message. */
const MAX_REASON = 1000;

/**
 * The protocol version from which a process understands `sender-flow`: a peer of an older one is
 * asked to hold the whole room instead (a `flow`), which holds more than needed but never less.
 */
export const SENDER_FLOW_VERSION = 2;

/** Most routes in one `routes` message: one per worker, and a server has far fewer. */
const MAX_ROUTES = 4096;
/** Most bytes a handed-over connection carries: a RESUME, or an upgrade request (Node's header limit, 16 KiB) and what followed it. */
export const MAX_HANDED_BYTES = 65_536;

type Fields = Envelope & Readonly<Record<string, unknown>>;

function envelopeFields(raw: unknown): Fields | DropReason | undefined {
  if (!isGamewireMessage(raw)) return undefined;
  const fields = raw as Fields;
  if (!readableVersion(fields.v, fields.min)) return 'version';
  return typeof fields.type === 'string' ? fields : 'malformed';
}

function isKnown(type: unknown, known: readonly string[]): boolean {
  return typeof type === 'string' && known.includes(type);
}

/** A type this release does not know: a newer writer's addition, or garbage from a writer of this version. */
function unknownType(fields: Fields): DropReason {
  return fields.v > PROTOCOL_VERSION ? 'unknown' : 'malformed';
}

function isRoom(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0;
}

/** A version text: absent, or a string of at most 200 characters. */
function isOptionalText(value: unknown): boolean {
  return value === undefined || (typeof value === 'string' && value.length <= 200);
}

function isCount(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}

/** A session id or bus origin: a safe integer of at least 1. */
function isId(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 1;
}

/** A worker's route: 1..65535 (0 is a single process's). */
function isRoute(value: unknown): value is number {
  return Number.isInteger(value) && (value as number) >= 1 && (value as number) <= 0xffff;
}

/** The fields of a handed-over connection: its kind, the port it came to, and the bytes read from it. */
function isHanded(fields: Fields): boolean {
  return (
    (fields.kind === 'tcp' || fields.kind === 'ws') &&
    isPort(fields.port) &&
    fields.bytes instanceof Uint8Array &&
    fields.bytes.length <= MAX_HANDED_BYTES
  );
}

/** A session id: a positive safe integer. */
function isSessionId(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 1;
}

/** A publish number: u32 (it wraps after 2^32 publishes). */
function isSeq(value: unknown): value is number {
  return Number.isInteger(value) && (value as number) >= 0 && (value as number) <= 0xffff_ffff;
}

/** A resume registry key: u32, not 0. */
function isKey(value: unknown): value is number {
  return Number.isInteger(value) && (value as number) >= 1 && (value as number) <= 0xffff_ffff;
}

function isToken(value: unknown): value is Uint8Array {
  return value instanceof Uint8Array && value.length === 24;
}

function isReason(value: unknown): value is string {
  return typeof value === 'string' && value.length <= MAX_REASON;
}

function isRoomList(value: unknown): value is string[] {
  return Array.isArray(value) && value.length <= MAX_MOVED_ROOMS && value.every((room) => isRoom(room) && room.length <= MAX_ROOM_NAME);
}

/** A moving session's state, for session `id`. */
function isMovedState(value: unknown, id: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const state = value as Readonly<Record<string, unknown>>;
  return (
    state.id === id &&
    (state.kind === 'tcp' || state.kind === 'tls' || state.kind === 'ws' || state.kind === 'wss') &&
    typeof state.remoteAddress === 'string' &&
    state.remoteAddress.length <= 100 &&
    isPort(state.remotePort) &&
    isCount(state.received) &&
    isCount(state.acked) &&
    state.held instanceof Uint8Array &&
    state.held.length <= MAX_MOVED_HELD_BYTES &&
    state.game instanceof Uint8Array &&
    state.game.length <= MAX_MOVED_GAME_BYTES &&
    isRoomList(state.rooms)
  );
}

function isPort(value: unknown): value is number {
  return Number.isInteger(value) && (value as number) >= 0 && (value as number) <= 65535;
}

/** Environment variables the primary gives each worker it forks. */
export const WORKER_ENV = {
  index: 'GAMEWIRE_WORKER_INDEX',
  count: 'GAMEWIRE_WORKER_COUNT',
  idBlock: 'GAMEWIRE_ID_BLOCK',
  maxSessions: 'GAMEWIRE_WORKER_MAX_SESSIONS',
  /** Set with `workerBus: 'redis'`: the worker is its own Redis client at this URL. */
  redis: 'GAMEWIRE_WORKER_REDIS',
  /** With `redis`: the key and channel prefix (see redis-target.ts). */
  redisPrefix: 'GAMEWIRE_WORKER_REDIS_PREFIX',
  /** The relay bounds (see relay-channel.ts), as JSON. */
  relay: 'GAMEWIRE_WORKER_RELAY',
  /** This worker's resume route, 1..65535 (resume-routes.ts). */
  route: 'GAMEWIRE_WORKER_ROUTE',
  /** The server's number in resume tokens, 1..65535, the same for every worker of the server. */
  server: 'GAMEWIRE_SERVER_NUMBER',
} as const;
