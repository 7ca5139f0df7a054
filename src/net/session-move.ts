import { DisconnectCode, disconnectCause } from '../core/disconnect-cause.js';
import { describeValue } from '../core/describe.js';
import { ServerResumeTransport } from './resume/server-resume-transport.js';
import type { Session } from './session.js';
import { isMovable } from './session-state-hooks.js';
import { kClose, kFlush, kTransportOf } from './symbols.js';
import type { TransportKind } from './transport/transport.js';

/**
 * Everything a resumable session takes to another process of its server (docs/deploying.md, "Sessions
 * that move"): its id, its client's connection (kind and address, for logs and per-address counts),
 * the resume counts and the packets its client has not acknowledged, and the game's bytes
 * (`serializeState`). Plain data: it crosses as one IPC message.
 */
export interface MovedSession {
  readonly id: number;
  readonly kind: TransportKind;
  readonly remoteAddress: string;
  readonly remotePort: number;
  /** Packets received from the client. */
  readonly received: number;
  /** Packets the client had acknowledged. */
  readonly acked: number;
  /** Packets sent and not acknowledged, whole, in order (to be sent again if the client lacks them). */
  readonly held: Uint8Array;
  /** What the game's `serializeState` returned. */
  readonly game: Uint8Array;
}

/** Why a session cannot move now, or undefined when it can. */
export function whyNotMovable(session: Session): string | undefined {
  if (session.state !== 'open') return `it is ${session.state}`;
  if (!(session[kTransportOf] instanceof ServerResumeTransport)) return 'it is not resumable';
  if (!isMovable(session)) return 'its class has no serializeState and restoreState';
  return undefined;
}

/**
 * Takes `session` out of this process: what was queued for it is handed to its transport (so it is
 * in what moves), the game's bytes are taken, its client is sent MOVE with `token` (its token on the
 * process it moves to), and the session here closes with `SESSION_MOVED` (no BYE: the client goes on
 * there). What the client sends from now on is not read here: it sends it again there. Returns the
 * state to hand over, or why the session cannot move (then nothing happened: it stays).
 */
export function moveOut(session: Session, token: Uint8Array): MovedSession | string {
  const why = whyNotMovable(session);
  if (why !== undefined) return why;
  const transport = session[kTransportOf] as ServerResumeTransport;
  let game: Uint8Array;
  try {
    game = (session as Session & { serializeState(): Uint8Array }).serializeState();
  } catch (error) {
    return `serializeState threw: ${describeValue(error)}`;
  }
  if (!(game instanceof Uint8Array)) return `serializeState returned ${describeValue(game)}, not a Uint8Array`;
  session[kFlush]();
  const { received, acked, held } = transport.snapshot();
  const moved: MovedSession = {
    id: session.id,
    kind: session.transport,
    remoteAddress: session.remoteAddress,
    remotePort: session.remotePort,
    received,
    acked,
    held,
    game: new Uint8Array(game),
  };
  transport.moveOut(token);
  session[kClose](disconnectCause(DisconnectCode.SessionMoved, 'moved to another process of this server'));
  return moved;
}
