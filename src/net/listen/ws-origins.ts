import type { IncomingMessage } from 'node:http';
import { InvalidOptionError } from '../../core/errors.js';

// The Origin check of the WebSocket port, apart from the listener so that a service checks its
// `ws.allowedOrigins` when it is made, without loading the ws package.

/** The `allowedOrigins` a listener checks: normalized origins, or `*` for any. */
export type OriginPolicy = ReadonlySet<string> | '*';

/**
 * `allowedOrigins` checked and normalized (`https://Game.example.com/` → `https://game.example.com`).
 * @throws InvalidOptionError for an entry that is not `*` or an origin.
 */
export function originPolicy(allowed: readonly string[] | undefined): OriginPolicy {
  if (allowed === undefined) return new Set();
  if (!Array.isArray(allowed)) throw new InvalidOptionError('ws.allowedOrigins', allowed, "an array of origins like 'https://game.example.com', or ['*']");
  if (allowed.includes('*')) return '*';
  const origins = new Set<string>();
  for (const entry of allowed) {
    let origin = 'null';
    try {
      origin = new URL(String(entry)).origin;
    } catch {
      // reported below
    }
    if (origin === 'null') throw new InvalidOptionError('ws.allowedOrigins', entry, "an origin like 'https://game.example.com', or '*'");
    origins.add(origin);
  }
  return origins;
}

/** True when the upgrade `request` may open a session under `policy`. */
export function originAllowed(request: IncomingMessage, policy: OriginPolicy): boolean {
  const origin = request.headers.origin;
  if (origin === undefined || policy === '*') return true;
  let parsed: URL;
  try {
    parsed = new URL(origin);
  } catch {
    return false; // `null` (a sandboxed page, a file) or garbage
  }
  if (policy.has(parsed.origin)) return true;
  const host = request.headers.host;
  return host !== undefined && parsed.host === host.toLowerCase();
}
