import type { StateMoves } from '../../core/state-machine.js';

/** Lifecycle of a session. It only moves forward: `connecting → open → closing → closed`. */
export type SessionState = 'connecting' | 'open' | 'closing' | 'closed';

/** The moves a session's state machine allows. */
export const SESSION_MOVES: StateMoves<SessionState> = {
  connecting: ['open', 'closed'],
  open: ['closing', 'closed'],
  closing: ['closed'],
  closed: [],
};
