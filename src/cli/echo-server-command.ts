import { DEFAULTS } from '../core/defaults.js';
import { parseArgs } from 'node:util';
import { ServerService } from '../net/server-service.js';
import type { Session } from '../net/session.js';
import { EchoSession, PacketEchoSession, RawEchoSession } from '../samples/echo-session.js';
import type { Command } from './command.js';
import { CLUSTER_FLAGS, CLUSTER_USAGE, runServerCommand } from './cluster-runner.js';
import { SERVER_FLAGS, SERVER_LIMIT_USAGE, serverSetup, wsOption } from './server-runner.js';

const usage = `gamewire echo-server [options]

Echoes every packet [size u16 LE][id u16 LE][body] back unchanged: a server to try clients,
bots and load tests against.

Options:
  --host HOST          address to listen on (default ${DEFAULTS.host})
  --port PORT          port to listen on, 0 for any free one (default 7777)
  --max-sessions N     most sessions at once; more are closed at once (default: ulimit -n less 64)
  --max-packet N       largest packet in bytes, header included, 4..65535 (default 65535); over
                       WebSocket the same limit, for each packet of a message (see --ws-port)
  --raw                echo bytes as they come, without packet framing
  --dispatch           echo through PacketSession.onRecvPacket/sendPacket, packet by packet
${SERVER_LIMIT_USAGE}
${CLUSTER_USAGE}
  -h, --help           show this help

Prints 'listening on HOST:PORT' when ready; SIGINT or SIGTERM closes gracefully and exits 0.
Logs are readable lines on a terminal and JSON lines (pino) when piped (--log-format to choose);
set GAMEWIRE_LOG_LEVEL=debug for more.`;

export const echoServerCommand: Command = {
  name: 'echo-server',
  summary: 'echoes packets back (or raw bytes with --raw)',
  usage,
  async run(args) {
    const { values } = parseArgs({
      args: [...args],
      options: { ...SERVER_FLAGS, ...CLUSTER_FLAGS, raw: { type: 'boolean', default: false }, dispatch: { type: 'boolean', default: false } },
      strict: true,
    });
    const { logger, maxPacketSize, options, observe } = serverSetup('echo-server', values);
    const maxSessionCount = options.maxSessionCount;
    const ws = wsOption(values, options.tls);
    const sessionFactory = values.raw
      ? () => new RawEchoSession()
      : values.dispatch
        ? () => new PacketEchoSession()
        : () => new EchoSession();
    return runServerCommand({
      logger,
      values,
      maxSessionCount,
      observe,
      details: { maxSessionCount, raw: values.raw, dispatch: values.dispatch, maxPacketSize, resume: options.resume },
      driveHint: 'npx gamewire dummy-client --host {host} --port {port} --sessions 10 --interval-ms 100',
      setup: (context) => ({
        service: new ServerService<Session>({ ...options, ws, maxSessionCount: context.maxSessionCount ?? maxSessionCount, sessionFactory }),
      }),
    });
  },
};
