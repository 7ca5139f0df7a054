// Preloaded (--import) into the measured server: on SIGUSR2 it runs a full GC and writes the process's
// memory as one line `idle-memory-probe {"heapUsed":…,"rss":…}` to stderr. A signal, not IPC: a gamewire
// process with an IPC channel takes itself for a cluster worker. Plain ESM, Node built-ins only.
import { writeSync } from 'node:fs';

if (typeof globalThis.gc !== 'function') throw new Error('run with --expose-gc');
process.on('SIGUSR2', () => {
  for (let i = 0; i < 3; i++) globalThis.gc();
  const { heapUsed, rss } = process.memoryUsage();
  writeSync(2, `idle-memory-probe ${JSON.stringify({ heapUsed, rss })}\n`);
});
