import { parseArgs } from 'node:util';
import hdr from 'hdr-histogram-js';
import type { DisconnectCause } from '../core/disconnect-cause.js';
import { ClientStartError } from '../core/errors.js';
import { ClientService } from '../net/client-service.js';
import { DEFAULT_HOST } from '../net/service.js';
import { ChatBotSession, type ChatBotStats } from '../samples/chat/chat-bot-session.js';
import { DummySession, type DummyStats } from '../samples/dummy-session.js';
import { createCliLogger } from './cli-logger.js';
import { intFlag, UsageError, waitForSignal, type Command } from './command.js';

/** How long the end of a run waits for answers still in flight, ms. */
const DRAIN_MS = 3000;

const usage = `gamewire dummy-client [options]

A simple client to try a server with. Scenario 'echo' (against echo-server): each session sends the message on
connect, and again --interval-ms after each echo arrives. Scenario 'chat' (against chat-server): each
bot logs in, enters the room and chats every --interval-ms; every chat goes to every bot (N^2).
Prints one summary line per second. At the end it stops sending, waits up to ${DRAIN_MS / 1000} s for the
answers in flight, prints the totals and exits 0 (1 if sessions failed or dropped). For larger runs,
with workers, ramp-up and reports, use 'gamewire loadtest'.

Options:
  --scenario NAME      echo or chat (default echo)
  --host HOST          server address (default ${DEFAULT_HOST})
  --port PORT          server port (default 7777)
  --sessions N         sessions to open (default 1)
  --interval-ms MS     pause after each echo before the next send (default 1000)
  --message TEXT       the message each packet carries (default "Hello World")
  --duration-s N       seconds to run; 0 runs until SIGINT/SIGTERM (default 0)
  -h, --help           show this help`;

function newHistogram(): hdr.Histogram {
  return hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: 3 });
}

export const dummyClientCommand: Command = {
  name: 'dummy-client',
  summary: 'a few sessions that echo or chat and time each answer',
  usage,
  async run(args) {
    const { values } = parseArgs({
      args: [...args],
      options: {
        scenario: { type: 'string', default: 'echo' },
        host: { type: 'string', default: DEFAULT_HOST },
        port: { type: 'string' },
        sessions: { type: 'string' },
        'interval-ms': { type: 'string' },
        message: { type: 'string', default: 'Hello World' },
        'duration-s': { type: 'string' },
      },
      strict: true,
    });
    const port = intFlag('port', values.port, 7777, 1, 65535);
    const sessions = intFlag('sessions', values.sessions, 1, 1);
    const intervalMs = intFlag('interval-ms', values['interval-ms'], 1000, 0);
    const durationS = intFlag('duration-s', values['duration-s'], 0, 0);
    if (Buffer.byteLength(values.message) > 65535 - 4) throw new UsageError('--message is longer than a packet can hold');
    const scenario = values.scenario;
    if (scenario !== 'echo' && scenario !== 'chat') throw new UsageError(`--scenario must be echo or chat, got '${scenario}'`);
    const logger = createCliLogger('dummy-client');

    const window = newHistogram();
    const total = newHistogram();
    const causes = new Map<string, number>();
    const delivery = newHistogram();
    const deliveryTotal = newHistogram();
    let finishing = false;
    let unexpectedDisconnects = 0;
    let roundTrips = 0;
    const stats: DummyStats & ChatBotStats = {
      stopping: false,
      sent: 0,
      received: 0,
      delivered: 0,
      entered: 0,
      bytesSent: 0,
      bytesReceived: 0,
      recordRoundTrip(micros) {
        const value = Math.max(1, Math.round(micros));
        roundTrips++;
        window.recordValue(value);
        total.recordValue(value);
      },
      recordDelivery(micros) {
        delivery.recordValue(micros);
        deliveryTotal.recordValue(micros);
      },
      recordDisconnect(cause: DisconnectCause) {
        if (finishing) return; // the run's own close
        unexpectedDisconnects++;
        causes.set(cause.code, (causes.get(cause.code) ?? 0) + 1);
      },
    };
    const service = new ClientService<DummySession | ChatBotSession>({
      host: values.host,
      port,
      maxSessionCount: sessions,
      logger,
      sessionFactory:
        scenario === 'chat'
          ? () => new ChatBotSession(intervalMs, stats, values.message)
          : () => new DummySession(values.message, intervalMs, stats),
    });

    const startedAt = Date.now();
    let ticks = 0;
    let lastDelivered = 0;
    const percentile = (histogram: hdr.Histogram, p: number): string =>
      histogram.totalCount > 0 ? `${histogram.getValueAtPercentile(p)}us` : '-';
    const report = (): void => {
      ticks++;
      const chat =
        scenario === 'chat'
          ? `in-room=${stats.entered} delivered=${stats.delivered} (${stats.delivered - lastDelivered}/s) ` +
            `delivery p50=${percentile(delivery, 50)} p99=${percentile(delivery, 99)} `
          : `recv=${stats.received} bytes out=${stats.bytesSent} in=${stats.bytesReceived} `;
      lastDelivered = stats.delivered;
      console.log(
        `[${ticks}s] sessions=${service.sessionCount} sent=${stats.sent} ${chat}` +
          `rtt p50=${percentile(window, 50)} p99=${percentile(window, 99)}`,
      );
      window.reset();
      delivery.reset();
    };
    const ticker = setInterval(report, 1000);
    const signal = waitForSignal();
    let exitCode = 0;
    try {
      await service.start();
      logger.info({ sessions: service.sessionCount, ms: Date.now() - startedAt }, 'all sessions connected');
    } catch (error) {
      if (!(error instanceof ClientStartError)) throw error;
      logger.error({ err: error }, error.message);
      exitCode = 1;
    }
    const done = durationS > 0 ? new Promise((resolve) => setTimeout(resolve, durationS * 1000)) : new Promise(() => {});
    if (exitCode === 0) await Promise.race([signal, done]);
    clearInterval(ticker);
    stats.stopping = true;
    // Every request sent gets its answer before the totals, so sent and received agree.
    const drainUntil = Date.now() + DRAIN_MS;
    while (roundTrips < stats.sent && service.sessionCount > 0 && Date.now() < drainUntil) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    finishing = true;
    await service.close();
    const elapsedS = (Date.now() - startedAt) / 1000;
    const traffic =
      scenario === 'chat'
        ? `chats sent=${stats.sent} delivered=${stats.delivered} (${Math.round(stats.delivered / elapsedS)}/s) ` +
          `delivery p50=${percentile(deliveryTotal, 50)} p99=${percentile(deliveryTotal, 99)} `
        : `sent=${stats.sent} recv=${stats.received} bytes out=${stats.bytesSent} in=${stats.bytesReceived} `;
    const unanswered = stats.sent - roundTrips;
    console.log(
      `total: ${traffic}rtt p50=${percentile(total, 50)} p99=${percentile(total, 99)} ` +
        `max=${total.totalCount > 0 ? `${total.maxValue}us` : '-'}` +
        (unanswered > 0 ? ` unanswered=${unanswered}` : '') +
        (causes.size > 0 ? ` dropped=${JSON.stringify(Object.fromEntries(causes))}` : ''),
    );
    if (unexpectedDisconnects > 0) {
      logger.error({ unexpectedDisconnects }, 'sessions ended before the run did');
      exitCode = 1;
    }
    window.destroy();
    delivery.destroy();
    deliveryTotal.destroy();
    total.destroy();
    return exitCode;
  },
};
