import { ServiceStateError } from './errors.js';

/** The moves a state machine allows: for each state, the states it may move to. */
export type StateMoves<S extends string> = Readonly<Record<S, readonly S[]>>;

/**
 * The single transition function of gamewire's state machines (grpc-js's `transitionToState`): true
 * when `current` is `from` (or one of them) and the machine may move to `to`; the caller then stores
 * `to`. False, and nothing to do, when `current` is not `from`: the event came late (a close after a
 * close). A move the table forbids is a bug and throws at once instead of corrupting state.
 * @throws ServiceStateError on a move `moves` does not allow.
 */
export function transition<S extends string>(moves: StateMoves<S>, current: S, from: S | readonly S[], to: S, what: string): boolean {
  if (typeof from === 'string' ? current !== from : !from.includes(current)) return false;
  if (!moves[current].includes(to)) throw new ServiceStateError(`${what}: illegal state change ${current} -> ${to}`);
  return true;
}
