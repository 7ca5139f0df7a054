/**
 * Describing values that game code threw, returned or passed, without ever throwing: a thrown value can
 * be anything (`undefined`, a Symbol, `Object.create(null)`, an object whose `toString` or `message`
 * getter throws, a Proxy that throws on every trap). Every place gamewire turns such a value into text
 * goes through {@link describeValue}.
 */

/** Longest description returned, characters; longer ones are cut with an ellipsis. */
const MAX_DESCRIPTION = 200;

/**
 * A short, human description of `value` that never throws: an Error's `Name: message`, a string
 * quoted, a number or other primitive as itself, a Symbol by its description, a function by its name,
 * an object by its class (and `message` if it has a string one). Whatever cannot be read safely is
 * described by its type only.
 */
export function describeValue(value: unknown): string {
  try {
    return cut(describeUnsafe(value));
  } catch {
    return describeType(value);
  }
}

/** `typeof value`, with `null` and arrays told apart; never throws (not even for a revoked Proxy). */
export function describeType(value: unknown): string {
  if (value === null) return 'null';
  const type = typeof value;
  if (type !== 'object') return type;
  try {
    return Array.isArray(value) ? 'array' : 'object';
  } catch {
    return 'object';
  }
}

/** `value instanceof type`, false instead of throwing (a Proxy's getPrototypeOf trap may throw). */
export function isInstance<T>(value: unknown, type: abstract new (...args: never[]) => T): value is T {
  try {
    return value instanceof type;
  } catch {
    return false;
  }
}

/**
 * True when `value` is a promise-like (its `then` is a function): how a hook's return value is told to
 * be from an `async` function. Never throws (a Proxy or a throwing `then` getter counts as not one).
 */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  if (value === null || (typeof value !== 'object' && typeof value !== 'function')) return false;
  try {
    return typeof (value as { then?: unknown }).then === 'function';
  } catch {
    return false;
  }
}

/**
 * If `result` (what a hook returned) is a promise, calls `onRejected` with its rejection reason. No
 * promise is made for an ordinary return value; for a promise, one handler is attached. A `then` that
 * throws counts as a rejection.
 */
export function catchRejection(result: unknown, onRejected: (reason: unknown) => void): void {
  if (!isThenable(result)) return;
  try {
    result.then(undefined, onRejected);
  } catch (error) {
    onRejected(error);
  }
}

function describeUnsafe(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
    case 'boolean':
    case 'bigint':
    case 'undefined':
      return String(value) + (typeof value === 'bigint' ? 'n' : '');
    case 'symbol':
      return value.toString();
    case 'function':
      return `function ${value.name || '(anonymous)'}`;
    default:
      break;
  }
  if (value === null) return 'null';
  if (value instanceof Error) {
    const message = readString(value, 'message');
    const name = readString(value, 'name') ?? 'Error';
    return message === undefined || message === '' ? name : `${name}: ${message}`;
  }
  if (Array.isArray(value)) return `array(${value.length})`;
  const prototype: unknown = Object.getPrototypeOf(value);
  const className =
    prototype === null ? 'null-prototype object' : readString(readProperty(prototype, 'constructor'), 'name') || 'object';
  const message = readString(value, 'message');
  return message === undefined ? className : `${className}: ${message}`;
}

function readProperty(target: unknown, key: string): unknown {
  if (target === null || (typeof target !== 'object' && typeof target !== 'function')) return undefined;
  return (target as Record<string, unknown>)[key];
}

function readString(target: unknown, key: string): string | undefined {
  const value = readProperty(target, key);
  return typeof value === 'string' ? value : undefined;
}

function cut(text: string): string {
  return text.length <= MAX_DESCRIPTION ? text : `${text.slice(0, MAX_DESCRIPTION - 1)}…`;
}

/** The errno-style code (`ECONNRESET` …) of a Node.js system error, if it has one. */
export function errnoCode(error: unknown): string | undefined {
  try {
    if (typeof error === 'object' && error !== null && 'code' in error) {
      const code = (error as { code: unknown }).code;
      if (typeof code === 'string') return code;
    }
  } catch {
    // a Proxy that throws: no code
  }
  return undefined;
}
