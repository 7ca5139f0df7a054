import type { MoveStats } from './move-coordinator.js';
import type { Logger } from '../core/logger.js';
import type { ServerService } from '../net/server-service.js';
import type { Session } from '../net/session.js';
import type { Room } from '../room/room.js';
import type { RedisOptions } from './redis-target.js';
import type { RelayLimits } from './relay-channel.js';
import type { RoomDirectory } from '../room/room-directory.js';

/** What the game's setup function gets in each worker (or in the one process). */
export interface WorkerContext {
  /** `worker` under a cluster primary, `single` when the server is one process. */
  readonly role: 'worker' | 'single';
  /** 0..workerCount-1; a replacement worker gets the index of the one it replaces. */
  readonly workerIndex: number;
  /** Workers of the server. */
  readonly workerCount: number;
  /**
   * This worker's share of the server's `maxSessionCount` (split evenly, at least 1), or undefined
   * when none was given: pass it to the ServerService.
   */
  readonly maxSessionCount: number | undefined;
  /** The rooms of this process; a name is the same room on every worker (and server, with Redis). */
  readonly rooms: RoomDirectory;
  /** The logger given to runWorkers. */
  readonly logger: Logger;
}

/** What the game's setup function returns: the service to start, and what to do before it closes. */
export interface WorkerServer {
  readonly service: ServerService<Session>;
  /** The rooms this process reports in its metrics (room count and members). */
  readonly rooms?: readonly Room<Session>[];
  /**
   * Runs first when the server closes (close rooms, stop game loops); when it drains, once the
   * drain is over (the sessions ran until then).
   */
  readonly beforeClose?: () => void;
  /**
   * The version of the game code this worker runs (e.g. read from the game's own package.json or a
   * build id): the ready line, {@link ClusterServer.workers} and a rolling reload's result show it
   * beside gamewire's own version. Default: none.
   */
  readonly version?: string;
}

/** Options of {@link ClusterServer.drain}. */
export interface ClusterDrainOptions {
  /** How long the sessions may run before those left end with `SERVICE_DRAINED`, ms. Default: the server's `drainTimeoutMs`. */
  readonly timeoutMs?: number;
}

/** One worker that serves, as the primary knows it. */
export interface WorkerInfo {
  /** 0..workerCount-1. */
  readonly index: number;
  readonly pid: number;
  /** The gamewire version it loaded (from its package.json), when it said. */
  readonly gamewireVersion: string | undefined;
  /** The setup's {@link WorkerServer.version}, when it gave one. */
  readonly appVersion: string | undefined;
}

/** What {@link ClusterServer.reload} did. */
export interface ReloadResult {
  /** True when every worker was replaced by one of the new code. */
  readonly ok: boolean;
  /**
   * Why not, when `ok` is false: a new worker failed to start (its error; the old workers keep
   * serving, the new ones that started are closed), another reload is running, or the server is closing.
   */
  readonly error?: string | undefined;
  /** The workers serving once it ended (the new ones, or the old ones after a failure). */
  readonly workers: readonly WorkerInfo[];
  /** How long it took, ms (the old workers' drains included). */
  readonly durationMs: number;
}

/** Connections over the whole server once closed. */
export interface ClusterTotals {
  readonly accepted: number;
  readonly refused: number;
}

/** What a cluster primary counted (`ClusterServer.stats()`), for its metrics. */
export interface ClusterStats {
  /**
   * Workers lost since the start, by how: `exited` (crashed, killed from outside) or `unresponsive`
   * (killed by the primary: no heartbeat answer within `workerTimeoutMs`).
   */
  readonly workersLost: { readonly exited: number; readonly unresponsive: number };
  /** Replacement workers that started listening. */
  readonly replacements: number;
  /** Bytes queued now in the IPC channels from the primary to the workers. */
  readonly relayQueuedBytes: number;
  /** Rooms whose feeders are held now, all of them, because a worker in them cannot keep up. */
  readonly heldRooms: number;
  /**
   * Sessions held now by name: a member on another worker is behind with what each fed it past its
   * share (fan-out flow control across workers).
   */
  readonly heldSenders: number;
  /** Times a session was held by name since the start (a flood across workers being slowed). */
  readonly senderHolds: number;
  /** Sessions moved between workers in rolling reloads (docs/deploying.md, "Sessions that move"). */
  readonly sessionMoves?: MoveStats | undefined;
}

/** A running server, from any of its processes. */
export interface ClusterServer {
  /** `primary` (forks and watches the workers), `worker`, or `single` (one process does it all). */
  readonly role: 'primary' | 'worker' | 'single';
  readonly host: string;
  /** The port every worker serves (the real one, also for port 0). */
  readonly port: number;
  /** The WebSocket port every worker serves, when the service has `ws`. */
  readonly wsPort?: number | undefined;
  readonly workerCount: number;
  /** The pids of the processes that serve sessions now (the workers, or this process). */
  workerPids(): number[];
  /** Resolves once the server (this process's part of it) has closed. */
  readonly closed: Promise<void>;
  /** In the primary of workers: what it counted (workers lost and replaced, the relay). */
  stats?(): ClusterStats;
  /**
   * In the primary of workers: the workers serving now (index, pid, versions); in another process,
   * this process.
   */
  workers?(): readonly WorkerInfo[];
  /**
   * In the primary of workers: a rolling reload (docs/deploying.md). Forks one new worker per slot
   * from the code on disk (a fresh process reads its files again), waits until each listens, then
   * drains the old ones one at a time (each stops accepting, so new connections go only to the new
   * workers; its sessions run until they end or `drainTimeoutMs`, then end with `SERVICE_DRAINED`).
   * A new worker that fails to start (or does not listen within `workerStartTimeoutMs`) aborts it:
   * the old workers keep serving and the result says why. Never rejects. A reload asked while one
   * runs is refused (`ok: false`). SIGHUP does the same in the CLI servers.
   */
  reload?(): Promise<ReloadResult>;
  /**
   * Drains, then closes (docs/deploying.md): stops accepting (with workers: every worker), lets the
   * sessions run until they end or `timeoutMs`, ends the rest with `SERVICE_DRAINED`. A `close()`
   * meanwhile cuts it short. Resolves as `close()` does.
   */
  drain(options?: ClusterDrainOptions): Promise<ClusterTotals>;
  /**
   * Closes gracefully: the primary tells every worker to close (each flushes its sessions) and waits
   * for them to exit; Redis is left last. In a worker it is driven by the primary.
   */
  close(): Promise<ClusterTotals>;
}

/** Options of {@link runWorkers}. */
export interface RunWorkersOptions {
  /** Worker processes: 1 (default) runs everything in this process; 0 = one per core (`os.availableParallelism()`). */
  readonly workers?: number;
  /** Sessions for the whole server, split over the workers (each gets its share in `context.maxSessionCount`). */
  readonly maxSessionCount?: number;
  /**
   * `redis://host:port` (or `{ url, prefix }`): rooms span every server sharing this Redis, database
   * and prefix (pub/sub), with presence. The default prefix `gamewire:DB:` keeps databases apart;
   * give each deployment on one database its own (redis-target.ts, docs/cluster.md).
   */
  readonly redis?: string | RedisOptions;
  /**
   * How the workers of this server reach each other: `ipc` (default: through the primary, no Redis
   * round trip) or `redis` (each worker is its own Redis client, as if each were on its own machine;
   * needs `redis`; for measuring the Redis path on one machine).
   */
  readonly workerBus?: 'ipc' | 'redis';
  /**
   * How long the primary's `close()` waits for each worker to close gracefully before it kills it
   * (SIGKILL; logged at error): a stopped or stuck worker cannot keep the server from exiting within
   * its grace period. Default 10000 ms (a worker's `closeGraceMs`, 5000 by default, and time to close
   * its rooms and Redis).
   */
  readonly workerCloseTimeoutMs?: number;
  /**
   * A worker that has not answered the primary's heartbeat (a ping over IPC every fifth of it) for
   * this long, ms, is logged, killed and replaced: found within `workerTimeoutMs` plus a fifth of it.
   * Default 5000.
   */
  readonly workerTimeoutMs?: number;
  /**
   * How long a drain (`drain()`, a rolling reload's old workers, SIGTERM in the CLI) lets the
   * sessions run before the rest end with `SERVICE_DRAINED`, ms, 0..2^31-1. Default 20000.
   * A worker's service uses its own `drainTimeoutMs` only when drained directly.
   */
  readonly drainTimeoutMs?: number;
  /**
   * How long a rolling reload waits for each new worker to listen before it gives up (the old
   * workers keep serving), ms. Default 30000.
   */
  readonly workerStartTimeoutMs?: number;
  /** Bounds of the IPC channels that carry room traffic between workers (relay-channel.ts, docs/cluster.md). */
  readonly relay?: RelayLimits;
  /** Where the cluster logs (worker deaths, Redis state). Default: silent. */
  readonly logger?: Logger;
  /** Makes this worker's service; runs in every worker (or in the one process), never in the primary. */
  readonly setup: (context: WorkerContext) => WorkerServer | Promise<WorkerServer>;
}
