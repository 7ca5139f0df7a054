import type { RoomBusMessage } from './room-bus.js';

/** Tag of every gamewire IPC message, so a game's own `process.send` traffic can share the channel. */
export const GW = 'gamewire';

/** Primary → worker. */
export type ToWorker =
  | { readonly gw: typeof GW; readonly type: 'close' }
  | { readonly gw: typeof GW; readonly type: 'room'; readonly room: string; readonly message: RoomBusMessage };

/** Worker → primary. */
export type ToPrimary =
  | { readonly gw: typeof GW; readonly type: 'ready'; readonly host: string; readonly port: number; readonly wsPort?: number | undefined }
  | { readonly gw: typeof GW; readonly type: 'failed'; readonly message: string }
  | { readonly gw: typeof GW; readonly type: 'closed'; readonly accepted: number; readonly refused: number }
  | { readonly gw: typeof GW; readonly type: 'join' | 'leave'; readonly room: string }
  | { readonly gw: typeof GW; readonly type: 'publish'; readonly room: string; readonly message: RoomBusMessage };

/** True for a gamewire IPC message. */
export function isGamewireMessage(value: unknown): value is { readonly gw: typeof GW; readonly type: string } {
  return typeof value === 'object' && value !== null && (value as { gw?: unknown }).gw === GW;
}

/** Environment variables the primary gives each worker it forks. */
export const WORKER_ENV = {
  index: 'GAMEWIRE_WORKER_INDEX',
  count: 'GAMEWIRE_WORKER_COUNT',
  idBlock: 'GAMEWIRE_ID_BLOCK',
  maxSessions: 'GAMEWIRE_WORKER_MAX_SESSIONS',
  /** Set with `workerBus: 'redis'`: the worker is its own Redis client at this URL. */
  redis: 'GAMEWIRE_WORKER_REDIS',
} as const;
