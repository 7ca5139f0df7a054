import { DEFAULTS } from '../core/defaults.js';
import { parseArgs } from 'node:util';
import { ServerService } from '../net/server-service.js';
import { BroadcastSession } from '../samples/broadcast-session.js';
import type { Command } from './command.js';
import { CLUSTER_FLAGS, CLUSTER_USAGE, runServerCommand } from './cluster-runner.js';
import { SERVER_FLAGS, SERVER_LIMIT_USAGE, serverSetup, wsOption } from './server-runner.js';

const usage = `gamewire broadcast-server [options]

Every packet received from any session goes, unchanged, to every connected session, the sender
included, each sender's packets in order: a server for measuring fan-out.

Options:
  --host HOST          address to listen on (default ${DEFAULTS.host})
  --port PORT          port to listen on, 0 for any free one (default 7777)
  --max-sessions N     most sessions at once; more are closed at once (default: ulimit -n less 64)
  --max-packet N       largest packet in bytes, header included, 4..65535 (default 65535); over
                       WebSocket the same limit, for each packet of a message (see --ws-port)
${SERVER_LIMIT_USAGE}
${CLUSTER_USAGE}
  -h, --help           show this help

Prints 'listening on HOST:PORT' when ready; SIGINT or SIGTERM closes gracefully and exits 0.`;

export const broadcastServerCommand: Command = {
  name: 'broadcast-server',
  summary: 'sends every packet received to every session, the sender included',
  usage,
  async run(args) {
    const { values } = parseArgs({ args: [...args], options: { ...SERVER_FLAGS, ...CLUSTER_FLAGS }, strict: true });
    const { logger, maxPacketSize, options, observe } = serverSetup('broadcast-server', values);
    const maxSessionCount = options.maxSessionCount;
    const ws = wsOption(values, options.tls);
    return runServerCommand({
      logger,
      values,
      maxSessionCount,
      observe,
      details: { maxSessionCount, maxPacketSize, resume: options.resume },
      driveHint: 'netload --port {port} --mode bcast',
      setup: (context) => {
        // One room over every worker (and every server with --redis).
        const room = context.rooms.room<BroadcastSession>('broadcast', { maxMembers: maxSessionCount, logger });
        const service = new ServerService<BroadcastSession>({
          ...options,
          ws,
          maxSessionCount: context.maxSessionCount ?? maxSessionCount,
          sessionFactory: () => new BroadcastSession(room),
        });
        return { service, rooms: [room], beforeClose: () => room.close() };
      },
    });
  },
};
