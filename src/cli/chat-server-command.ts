import { DEFAULTS } from '../core/defaults.js';
import { parseArgs } from 'node:util';
import { ServerService } from '../net/server-service.js';
import { chatServerHandlers } from '../samples/chat/chat-server-handlers.js';
import { ChatRoom } from '../samples/chat/chat-room.js';
import { ChatSession } from '../samples/chat/chat-session.js';
import { serveDemoPage } from '../samples/chat/demo-page.js';
import type { Command } from './command.js';
import { CLUSTER_FLAGS, CLUSTER_USAGE, runServerCommand } from './cluster-runner.js';
import { SERVER_FLAGS, SERVER_LIMIT_USAGE, serverSetup, wsOption } from './server-runner.js';

const usage = `gamewire chat-server [options]

The sample game server on proto/protocol.proto: players log in (C_LOGIN), enter the room
(C_ENTER_GAME), chat (C_CHAT, broadcast to the room as S_CHAT) and move (C_MOVE, broadcast to the
others as S_MOVE).

Options:
  --host HOST          address to listen on (default ${DEFAULTS.host})
  --port PORT          port to listen on, 0 for any free one (default 7777)
  --max-sessions N     most sessions (and room members) at once (default: ulimit -n less 64)
  --max-packet N       largest packet in bytes, header included, 4..65535 (default 65535); over
                       WebSocket the same limit, for each packet of a message (see --ws-port)
${SERVER_LIMIT_USAGE}
${CLUSTER_USAGE}
  -h, --help           show this help

Prints 'listening on HOST:PORT' when ready; SIGINT or SIGTERM closes gracefully and exits 0.`;

export const chatServerCommand: Command = {
  name: 'chat-server',
  summary: 'the sample game server: login, enter a room, chat and move',
  usage,
  async run(args) {
    const { values } = parseArgs({ args: [...args], options: { ...SERVER_FLAGS, ...CLUSTER_FLAGS }, strict: true });
    const { logger, maxPacketSize, options, observe } = serverSetup('chat-server', values);
    const maxSessionCount = options.maxSessionCount;
    const ws = wsOption(values, options.tls, serveDemoPage);
    return runServerCommand({
      logger,
      values,
      maxSessionCount,
      observe,
      page: ws !== undefined,
      details: { maxSessionCount, maxPacketSize, resume: options.resume },
      driveHint: 'npx gamewire dummy-client --scenario chat --host {host} --port {port} --sessions 100',
      setup: (context) => {
        // The same room name in every worker is one room: every chat reaches every player, wherever it is.
        const room = context.rooms.room<ChatSession>('chat', { maxMembers: maxSessionCount, logger }, (n, b, o) => new ChatRoom(n, b, o));
        const service = new ServerService<ChatSession>({
          ...options,
          ws,
          maxSessionCount: context.maxSessionCount ?? maxSessionCount,
          sessionFactory: () => new ChatSession(room, chatServerHandlers),
        });
        return { service, rooms: [room], beforeClose: () => room.close() };
      },
    });
  },
};
