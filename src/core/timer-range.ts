import { InvalidOptionError } from './errors.js';

/**
 * Longest delay Node's timers hold, ms (2^31 - 1, about 24.8 days). Node turns a longer delay into
 * 1 ms (with only a `TimeoutOverflowWarning`), so every timer option is checked against it.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Checks a timer option, ms: an integer from `min` to {@link MAX_TIMER_MS}. With `zeroMeansOff`, 0 is
 * also accepted (the feature is off).
 * @throws InvalidOptionError naming the option, the range and what was given.
 */
export function checkTimerMs(name: string, value: unknown, min: number, zeroMeansOff = false): number {
  if (zeroMeansOff && value === 0) return 0;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > MAX_TIMER_MS) {
    const off = zeroMeansOff ? ', or 0 for off' : '';
    throw new InvalidOptionError(name, value, `an integer number of ms from ${min} to ${MAX_TIMER_MS} (Node's timer range)${off}`);
  }
  return value;
}
