import { DEFAULTS } from '../core/defaults.js';
import { parseArgs } from 'node:util';
import { intFlag, UsageError, type Command } from './command.js';
import { loadtestCommand, transportFlag } from './loadtest-command.js';

const usage = `gamewire dummy-client [options]

A few sessions to try a server with: the load tester in its simplest form, one worker process and
no reconnects ('gamewire loadtest --workers 1 --no-reconnect'), with the same bots, status lines and
summary. Scenario 'echo' (against echo-server): each session sends a stamped packet and, --interval-ms
after its echo arrives, the next. Scenario 'chat' (against chat-server): each bot logs in, enters the
room and chats every --interval-ms; every chat goes to every bot (N^2 deliveries). At the end it stops
sending, waits for the answers in flight, prints the totals and exits 0 (1 if a session failed, dropped
or an answer never came).

Options:
  --scenario NAME      echo or chat (default echo)
  --host HOST          server address (default ${DEFAULTS.host})
  --port PORT          server port (default 7777; the WebSocket port with --transport ws)
  --transport tcp|ws   connect over TCP or WebSocket (default tcp)
  --sessions N         sessions to open (default 1)
  --interval-ms MS     pause between a session's requests (default 1000)
  --message TEXT       the text each packet carries (default "Hello World")
  --duration-s N       seconds to run; 0 runs until SIGINT/SIGTERM (default 0)
  -h, --help           show this help

For more sessions, worker processes, ramp-up, reconnects and reports: 'gamewire loadtest --help'.`;

/** The dummy client as a preset of the load tester: one bot implementation for both commands. */
export const dummyClientCommand: Command = {
  name: 'dummy-client',
  summary: 'a few sessions that echo or chat and time each answer (a loadtest preset)',
  usage,
  async run(args) {
    const { values } = parseArgs({
      args: [...args],
      options: {
        scenario: { type: 'string', default: 'echo' },
        host: { type: 'string', default: DEFAULTS.host },
        port: { type: 'string' },
        transport: { type: 'string', default: 'tcp' },
        sessions: { type: 'string' },
        'interval-ms': { type: 'string' },
        message: { type: 'string', default: 'Hello World' },
        'duration-s': { type: 'string' },
      },
      strict: true,
    });
    const scenario = values.scenario;
    if (scenario !== 'echo' && scenario !== 'chat') throw new UsageError(`--scenario must be echo or chat, got '${scenario}'`);
    // Checked here so that errors name this command's flags and defaults.
    const port = intFlag('port', values.port, 7777, 1, 65535);
    const sessions = intFlag('sessions', values.sessions, 1, 1);
    const intervalMs = intFlag('interval-ms', values['interval-ms'], 1000, 0);
    const durationS = intFlag('duration-s', values['duration-s'], 0, 0);
    return loadtestCommand.run([
      '--bot', scenario,
      '--host', values.host,
      '--port', String(port),
      '--transport', transportFlag(values.transport),
      '--sessions', String(sessions),
      '--interval-ms', String(intervalMs),
      '--message', values.message,
      '--duration-s', String(durationS),
      '--workers', '1',
      '--no-reconnect',
    ]);
  },
};
