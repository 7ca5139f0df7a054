import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { DEFAULTS } from '../core/defaults.js';
import { MAX_PACKET_SIZE, PACKET_HEADER_SIZE } from '../packet/packet-header.js';
import { writeHtmlReport } from '../loadtest/report/html-report.js';
import { LiveView } from '../loadtest/report/live-view.js';
import {
  DEFAULT_DRAIN_TIMEOUT_MS,
  DEFAULT_LOADTEST_DURATION_MS,
  DEFAULT_LOADTEST_SESSIONS,
  DEFAULT_RECONNECT_DELAY_MS,
} from '../loadtest/harness/load-test-config.js';
import { writeJsonReport } from '../loadtest/harness/load-test-report.js';
import { runLoadTest } from '../loadtest/harness/run-load-test.js';
import { summaryTable } from '../loadtest/report/summary-table.js';
import { intFlag, UsageError, type Command } from './command.js';

const usage = `gamewire loadtest [options]

Load test: N bot sessions over W worker processes against a server that speaks the packet format.
The bot says what one client does; the harness opens the sessions (ramp-up), reconnects those that
drop, measures and reports. Prints a status line every second and a summary at the end. Exits 0 when
the run had no error (no failed connect, no unexpected disconnect, no unanswered request, no failed
worker, no message the bots found lost, duplicated or out of order), 1 otherwise.

Bot:
  --bot NAME|PATH          echo (for echo-server), chat (for chat-server), or a bot module: a .js file
                           default-exporting { name, createSession(context) } (default echo)
  --interval-ms MS         pause between a bot's requests; 0 = next as soon as the answer is in
                           (default: the bot's own: echo 100, chat 1000)
  --message TEXT           what the bots send (default "Hello World")
  --size N                 request body size in bytes, if the bot supports it (echo: at least 12)
  --bot-option KEY=VALUE   passed to the bot as context.options.extra (repeatable)

Harness:
  --host HOST              server address (default ${DEFAULTS.host})
  --port PORT              server port (default 7777; the WebSocket port with --transport ws)
  --transport tcp|ws       connect over TCP or WebSocket (/ws, the same packets) (default tcp)
  --sessions N             sessions to keep open (default ${DEFAULT_LOADTEST_SESSIONS})
  --ramp R                 new sessions per second; 0 = all at once (default 0)
  --connect-concurrency N  connection attempts in progress at once per worker (default ${DEFAULTS.connectConcurrency})
  --duration-s N           seconds from the first connect, ramp included; 0 = until SIGINT (default ${DEFAULT_LOADTEST_DURATION_MS / 1000})
  --workers N              worker processes, each with 1/N of the sessions (default: CPU count, ${availableParallelism()} here)
  --no-reconnect           do not reopen sessions that drop or fail to connect (reopened by default)
  --reconnect-delay-ms MS  first reconnect delay, doubling up to 16x on failures in a row (default ${DEFAULT_RECONNECT_DELAY_MS})
  --connect-timeout-ms MS  timeout of one connection attempt (default ${DEFAULTS.connectTimeoutMs})
  --drain-timeout-ms MS    at the end, how long to wait for answers in flight (default ${DEFAULT_DRAIN_TIMEOUT_MS})
  --resume                 sessions ask for resume (the server needs --resume): a dropped connection
                           is resumed by the same session, missing nothing (docs/resume.md)

Chaos:
  --chaos-cut-percent P    cut P % of the live connections every second (0..100, e.g. 5 or 0.5;
                           default 0 = off); the report counts cuts, resumes and lost messages
  --chaos-method M         rst (reset: the server reads ECONNRESET), silent (the bot's side closes,
                           the server is told nothing: no FIN, no RST), or mixed: the two in turn
                           (default mixed)

Output:
  --json FILE              write every figure (totals, per-second series, percentiles, config) as JSON
  --report FILE.html       write a self-contained HTML report with charts (works offline)
  -h, --help               show this help

SIGINT or SIGTERM ends the run early; it still drains and reports. Many sessions need many file
descriptors: raise 'ulimit -n' in the shells of the load test and the server if connects fail with EMFILE.`;

/** Parses `--transport`. */
export function transportFlag(value: string): 'tcp' | 'ws' {
  if (value !== 'tcp' && value !== 'ws') throw new UsageError(`--transport must be tcp or ws, got '${value}'`);
  return value;
}

/** Parses `--chaos-cut-percent`: a number 0..100, fractions allowed. */
function percentFlag(value: string | undefined): number {
  if (value === undefined) return 0;
  const percent = Number(value);
  if (value.trim() === '' || !Number.isFinite(percent) || percent < 0 || percent > 100) {
    throw new UsageError(`--chaos-cut-percent must be a number 0..100, got '${value}'`);
  }
  return percent;
}

/** Parses `--chaos-method`. */
function chaosMethodFlag(value: string): 'rst' | 'silent' | 'mixed' {
  if (value !== 'rst' && value !== 'silent' && value !== 'mixed') {
    throw new UsageError(`--chaos-method must be rst, silent or mixed, got '${value}'`);
  }
  return value;
}

/** Parses `--bot-option KEY=VALUE` flags. */
function botExtra(values: readonly string[]): Record<string, string> {
  const extra: Record<string, string> = {};
  for (const value of values) {
    const at = value.indexOf('=');
    if (at <= 0) throw new UsageError(`--bot-option must be KEY=VALUE, got '${value}'`);
    extra[value.slice(0, at)] = value.slice(at + 1);
  }
  return extra;
}

export const loadtestCommand: Command = {
  name: 'loadtest',
  summary: 'load test: bots over worker processes, ramp-up, latency percentiles, JSON and HTML reports',
  usage,
  async run(args) {
    const { values } = parseArgs({
      args: [...args],
      options: {
        bot: { type: 'string', default: 'echo' },
        host: { type: 'string', default: DEFAULTS.host },
        port: { type: 'string' },
        transport: { type: 'string', default: 'tcp' },
        sessions: { type: 'string' },
        ramp: { type: 'string' },
        'connect-concurrency': { type: 'string' },
        'duration-s': { type: 'string' },
        workers: { type: 'string' },
        'interval-ms': { type: 'string' },
        message: { type: 'string' },
        size: { type: 'string' },
        'bot-option': { type: 'string', multiple: true, default: [] },
        reconnect: { type: 'boolean' },
        'no-reconnect': { type: 'boolean', default: false },
        'reconnect-delay-ms': { type: 'string' },
        'connect-timeout-ms': { type: 'string' },
        'drain-timeout-ms': { type: 'string' },
        resume: { type: 'boolean', default: false },
        'chaos-cut-percent': { type: 'string' },
        'chaos-method': { type: 'string', default: 'mixed' },
        json: { type: 'string' },
        report: { type: 'string' },
      },
      strict: true,
    });
    if (values.reconnect === true && values['no-reconnect']) throw new UsageError('--reconnect and --no-reconnect together');
    const optional = (name: string, value: string | undefined, min: number, max?: number): number | undefined =>
      value === undefined ? undefined : intFlag(name, value, 0, min, max);
    const controller = new AbortController();
    const onSignal = (): void => controller.abort();
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    const view = new LiveView(process.stdout);
    try {
      const report = await runLoadTest(
        {
          bot: values.bot,
          host: values.host,
          port: intFlag('port', values.port, 7777, 1, 65535),
          transport: transportFlag(values.transport),
          sessions: intFlag('sessions', values.sessions, DEFAULT_LOADTEST_SESSIONS, 1),
          rampPerSecond: intFlag('ramp', values.ramp, 0, 0),
          connectConcurrency: optional('connect-concurrency', values['connect-concurrency'], 1),
          durationMs: intFlag('duration-s', values['duration-s'], DEFAULT_LOADTEST_DURATION_MS / 1000, 0) * 1000,
          workers: optional('workers', values.workers, 1),
          intervalMs: optional('interval-ms', values['interval-ms'], 0),
          message: values.message,
          size: optional('size', values.size, 0, MAX_PACKET_SIZE - PACKET_HEADER_SIZE),
          botExtra: botExtra(values['bot-option']),
          reconnect: !values['no-reconnect'],
          reconnectDelayMs: optional('reconnect-delay-ms', values['reconnect-delay-ms'], 1),
          connectTimeoutMs: optional('connect-timeout-ms', values['connect-timeout-ms'], 1),
          drainTimeoutMs: optional('drain-timeout-ms', values['drain-timeout-ms'], 0),
          resume: values.resume,
          chaosCutPercent: percentFlag(values['chaos-cut-percent']),
          chaosMethod: chaosMethodFlag(values['chaos-method']),
        },
        {
          signal: controller.signal,
          onStart: (config) =>
            view.note(
              `loadtest: bot ${config.botName}, ${config.sessions} sessions ` +
                `(${config.rampPerSecond > 0 ? `ramp ${config.rampPerSecond}/s` : 'all at once'}) over ` +
                `${config.workers} worker${config.workers === 1 ? '' : 's'} to ${config.transport === 'ws' ? `ws://${config.host}:${config.port}/ws` : `${config.host}:${config.port}`}, ` +
                (config.durationMs > 0 ? `${config.durationMs / 1000} s` : 'until SIGINT') +
                (config.resume ? ', resume on' : '') +
                (config.chaosCutPercent > 0 ? `, chaos: ${config.chaosCutPercent} % cut per second (${config.chaosMethod})` : ''),
            ),
          onPoint: (point, progress) => view.update(point, progress),
        },
      );
      view.finish();
      console.log(summaryTable(report));
      if (values.json !== undefined) {
        await writeJsonReport(values.json, report);
        console.log(`wrote ${values.json}`);
      }
      if (values.report !== undefined) {
        await writeHtmlReport(values.report, report);
        console.log(`wrote ${values.report}`);
      }
      return report.passed ? 0 : 1;
    } finally {
      view.finish();
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  },
};
