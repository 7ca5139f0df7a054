import { MIN_READER_VERSION, PROTOCOL_VERSION, readableVersion } from './cluster-protocol.js';
import type { DropReason } from './dropped-messages.js';

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
  /** Drain (stop accepting, let the sessions run at most `timeoutMs`), then close: a rolling reload or a drain of the server. */
  | { readonly type: 'drain'; readonly timeoutMs: number }
  /** A room frame (room-frame.ts) from another process; `holdable` when its feeders can be held (another worker of this server). */
  | { readonly type: 'room'; readonly room: string; readonly frame: Uint8Array; readonly holdable: boolean }
  /** Hold (`held`) or release the sessions of this worker that feed `room`: a process in it cannot keep up. */
  | { readonly type: 'flow'; readonly room: string; readonly held: boolean }
  /** Answer with a `pong` of the same `seq` (the primary's liveness check). */
  | { readonly type: 'ping'; readonly seq: number }
  /** Answer with this process's metrics (metrics/cluster-metrics.ts). */
  | { readonly type: 'metrics-request'; readonly id: number }
  /** The routes of the workers that listen now (resume-routes.ts), this worker's among them. */
  | { readonly type: 'routes'; readonly routes: readonly number[] }
  /** Comes with a socket: a connection another worker handed over for a session held here (resume-routes.ts). */
  | { readonly type: 'resume-socket'; readonly kind: 'tcp' | 'ws'; readonly port: number; readonly bytes: Uint8Array };

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
    }
  | { readonly type: 'failed'; readonly message: string }
  | { readonly type: 'closed'; readonly accepted: number; readonly refused: number }
  | { readonly type: 'join' | 'leave'; readonly room: string }
  /** A room frame (room-frame.ts) for the other processes in `room`. */
  | { readonly type: 'publish'; readonly room: string; readonly frame: Uint8Array }
  /** Members here hold (`held`) or no longer hold the traffic of `room` that comes from other workers. */
  | { readonly type: 'flow'; readonly room: string; readonly held: boolean }
  | { readonly type: 'pong'; readonly seq: number }
  /** This worker's metrics (prom-client JSON), or why it has none. */
  | { readonly type: 'metrics-reply'; readonly id: number; readonly metrics?: unknown; readonly error?: string }
  /** Comes with a socket: hand it to the worker of `route`, which holds the session it resumes (resume-routes.ts). */
  | { readonly type: 'resume-route'; readonly route: number; readonly kind: 'tcp' | 'ws'; readonly port: number; readonly bytes: Uint8Array };

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
          isOptionalText(fields.appVersion)
        );
      case 'failed':
        return typeof fields.message === 'string';
      case 'closed':
        return isCount(fields.accepted) && isCount(fields.refused);
      case 'join':
      case 'leave':
        return isRoom(fields.room);
      case 'publish':
        return isRoom(fields.room) && fields.frame instanceof Uint8Array;
      case 'flow':
        return isRoom(fields.room) && typeof fields.held === 'boolean';
      case 'pong':
        return isCount(fields.seq);
      case 'metrics-reply':
        return isCount(fields.id);
      case 'resume-route':
        return isRoute(fields.route) && isHanded(fields);
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
        return true;
      case 'drain':
        return Number.isInteger(fields.timeoutMs) && (fields.timeoutMs as number) >= 0 && (fields.timeoutMs as number) <= 2_147_483_647;
      case 'room':
        return isRoom(fields.room) && fields.frame instanceof Uint8Array && typeof fields.holdable === 'boolean';
      case 'flow':
        return isRoom(fields.room) && typeof fields.held === 'boolean';
      case 'ping':
        return isCount(fields.seq);
      case 'metrics-request':
        return isCount(fields.id);
      case 'routes':
        return Array.isArray(fields.routes) && fields.routes.length <= MAX_ROUTES && fields.routes.every(isRoute);
      case 'resume-socket':
        return isHanded(fields);
      default:
        return false;
    }
  })();
  if (ok) return fields as unknown as ToWorker;
  return isKnown(fields.type, WORKER_TYPES) ? 'malformed' : unknownType(fields);
}

const PRIMARY_TYPES = ['ready', 'failed', 'closed', 'join', 'leave', 'publish', 'flow', 'pong', 'metrics-reply', 'resume-route'];
const WORKER_TYPES = ['close', 'drain', 'room', 'flow', 'ping', 'metrics-request', 'routes', 'resume-socket'];

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
