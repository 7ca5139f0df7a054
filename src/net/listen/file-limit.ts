import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/**
 * File descriptors a server keeps for itself (stdio, libuv's epoll and signal fds, its
 * reserve fd for EMFILE, log files, DNS): the rest of the open-file limit is for connections.
 */
export const RESERVED_FDS = 64;
/** `--max-sessions` (CLI) when the open-file limit cannot be read (Windows, which has no such limit). */
export const FALLBACK_MAX_SESSIONS = 1000;
/** Largest `--max-sessions` default, even with an unlimited or huge open-file limit. */
export const MAX_DEFAULT_MAX_SESSIONS = 100_000;

/** What `sh -c 'ulimit -n'` said; null until asked. */
let shellLimit: number | undefined | null = null;

/**
 * The soft open-file limit of this process (what `ulimit -n` shows). Node has no `getrlimit`, so it is
 * read from `/proc/self/limits` on Linux, else from `sh -c 'ulimit -n'` (a child inherits the limit;
 * macOS and the BSDs); undefined where neither works (Windows).
 */
export function openFileLimit(): number | undefined {
  try {
    return parseLimitsFile(readFileSync('/proc/self/limits', 'utf8'));
  } catch {
    // no /proc: ask a shell
  }
  // A shell is spawned once per process: every ServerService.start() asks.
  if (shellLimit === null) {
    try {
      shellLimit = parseLimit(execFileSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8', timeout: 2000, stdio: ['ignore', 'pipe', 'ignore'] }));
    } catch {
      shellLimit = undefined;
    }
  }
  return shellLimit;
}

/** The soft "Max open files" of a `/proc/<pid>/limits` text. */
export function parseLimitsFile(text: string): number | undefined {
  const match = /^Max open files\s+(\S+)/m.exec(text);
  return match === null ? undefined : parseLimit(match[1] as string);
}

function parseLimit(text: string): number | undefined {
  const value = text.trim();
  if (value === 'unlimited') return Number.POSITIVE_INFINITY;
  const soft = Number(value);
  return Number.isSafeInteger(soft) && soft > 0 ? soft : undefined;
}

/**
 * The default `--max-sessions` for an open-file limit: the limit less {@link RESERVED_FDS}, at least 1
 * and at most {@link MAX_DEFAULT_MAX_SESSIONS}; {@link FALLBACK_MAX_SESSIONS} when the limit is unknown.
 */
export function defaultMaxSessions(fileLimit: number | undefined): number {
  if (fileLimit === undefined) return FALLBACK_MAX_SESSIONS;
  return Math.max(1, Math.min(MAX_DEFAULT_MAX_SESSIONS, fileLimit - RESERVED_FDS));
}

/**
 * How many connections (sessions and TLS handshakes) a server can hold under the open-file limit
 * before the OS starts dropping new ones unseen (libuv closes them when `accept` fails with EMFILE):
 * the limit less {@link RESERVED_FDS}; Infinity when the limit is unknown or unlimited.
 */
export function connectionCapacity(fileLimit: number | undefined): number {
  if (fileLimit === undefined || fileLimit === Number.POSITIVE_INFINITY) return Number.POSITIVE_INFINITY;
  return Math.max(1, fileLimit - RESERVED_FDS);
}
