import { readFileSync } from 'node:fs';

let cached: string | undefined;

/**
 * The version of the gamewire package this process loaded, read from its package.json once: a
 * worker forked after an upgrade on disk reports the new one (a rolling reload shows it).
 * `unknown` when the file cannot be found.
 */
export function gamewireVersion(): string {
  if (cached !== undefined) return cached;
  cached = 'unknown';
  // From src/core (tsx) or dist/src/core (built): the package root is two or three folders up.
  for (const up of ['../../package.json', '../../../package.json']) {
    try {
      const json = JSON.parse(readFileSync(new URL(up, import.meta.url), 'utf8')) as { name?: unknown; version?: unknown };
      if (json.name === 'gamewire' && typeof json.version === 'string') {
        cached = json.version;
        break;
      }
    } catch {
      // not this one
    }
  }
  return cached;
}
