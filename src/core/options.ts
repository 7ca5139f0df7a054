import { InvalidOptionError } from './errors.js';

/**
 * The one option-validation helper: every option gamewire takes is checked here, and the error names
 * the option, the range and what was given (`option maxSessionCount must be an integer >= 1, got …`).
 */

/**
 * Checks an integer option against `min..max`.
 * @throws InvalidOptionError naming the option.
 */
export function checkInteger(name: string, value: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `${min}..${max}`;
    throw new InvalidOptionError(name, value, `an integer ${range}`);
  }
  return value;
}

/**
 * Checks a finite number option of at least `min`.
 * @throws InvalidOptionError naming the option.
 */
export function checkNumber(name: string, value: unknown, min: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
    throw new InvalidOptionError(name, value, `a number >= ${min}`);
  }
  return value;
}

/**
 * Checks that an option is one of `allowed`.
 * @throws InvalidOptionError naming the option and the values it takes.
 */
export function checkOneOf<T extends string>(name: string, value: unknown, allowed: readonly T[]): T {
  if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return value as T;
  throw new InvalidOptionError(name, value, allowed.map((a) => `'${a}'`).join(' or '));
}
