import type { StateMoves } from '../../core/state-machine.js';

/**
 * Lifecycle of a session: `connecting → open → closing → closed`. A resumable session (docs/resume.md)
 * whose connection drops goes `open → suspended` and back to `open` when its client resumes, or on to
 * `closed`.
 */
export type SessionState = 'connecting' | 'open' | 'suspended' | 'closing' | 'closed';

/** The moves a session's state machine allows. */
export const SESSION_MOVES: StateMoves<SessionState> = {
  connecting: ['open', 'closed'],
  open: ['suspended', 'closing', 'closed'],
  suspended: ['open', 'closed'],
  closing: ['closed'],
  closed: [],
};
