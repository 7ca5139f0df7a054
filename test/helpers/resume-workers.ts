/**
 * A resume-enabled chat-server on two workers, as a real process, and how tests steer a connection to
 * one worker: node:cluster hands a port's connections to its workers in turn, so after a probe lands
 * on a worker the next connection to that port lands on the other. `routedCount` reads, from the
 * primary's metrics, how many resumes a worker handed to another.
 */
import { runCli, type CliProcess } from './cli.js';
import { ResumePeer, type Endpoint } from './resume-peer.js';
import { httpGet } from './scrape.js';
import { Cleanup } from './wait.js';

export interface WorkersServer {
  readonly cli: CliProcess;
  readonly tcp: number;
  readonly ws: number;
  readonly metrics: number;
  readonly workerPids: number[];
}

export async function startWorkers(cleanup: Cleanup, extra: readonly string[] = []): Promise<WorkersServer> {
  const cli = runCli(cleanup, ['chat-server', '--port', '0', '--ws-port', '0', '--resume', '--workers', '2', '--max-sessions', '400', '--metrics-port', '0', ...extra]);
  const line = await cli.waitForLine(/listening on/, 20_000);
  const json = JSON.parse(line) as { port: number; wsPort: number; workerPids: number[]; metrics: string };
  return { cli, tcp: json.port, ws: json.wsPort, metrics: Number(/:(\d+)$/.exec(json.metrics)?.[1]), workerPids: json.workerPids };
}

/** Resumes handed from one worker to another so far, over the whole server (the primary sums its workers). */
export async function routedCount(server: WorkersServer): Promise<number> {
  const { body } = await httpGet(server.metrics, '/metrics');
  const match = /^gamewire_resumes_total\{result="routed"[^}]*\} (\d+)$/m.exec(body);
  return match === null ? 0 : Number(match[1]);
}

/** Opens a resumable session at `endpoint`, reads its route from WELCOME, and leaves (BYE). */
export async function probeRoute(endpoint: Endpoint): Promise<number> {
  const cleanup = new Cleanup();
  try {
    const probe = new ResumePeer(cleanup);
    await probe.open(endpoint);
    await probe.welcomed();
    probe.bye_();
    await probe.untilClosed();
    return probe.route as number;
  } finally {
    await cleanup.run();
  }
}

/**
 * Makes the next connection to `endpoint`'s port land on the worker that does NOT have `route`:
 * probes until one lands on `route` (the workers take a port's connections in turn).
 */
export async function steerAwayFrom(route: number, endpoint: Endpoint): Promise<void> {
  for (let i = 0; i < 10; i++) if ((await probeRoute(endpoint)) === route) return;
  throw new Error(`no probe landed on route ${route}`);
}

