// A user's game server, built only from the installed gamewire package and the packets generated
// from proto/arena.proto: players join the arena (a Room) and what one says reaches everyone.
import { PacketSession, Room, ServerService } from 'gamewire';
import { createServerHandlers, S_SAID, S_WELCOME, type Member } from './generated/packets.js';

/** The arena: a Room of the players that joined. */
export class Arena extends Room<ArenaSession> {
  private nextId = 1;

  /** Gives a joining player its id. */
  allocateId(): number {
    return this.nextId++;
  }
}

/** A player's session; `member` is set once it joined. */
export class ArenaSession extends PacketSession {
  member: Member | undefined;

  constructor(readonly arena: Arena) {
    super();
  }

  protected override onRecvPacket(id: number, body: Buffer): void {
    arenaHandlers.dispatch(this, id, body);
  }
}

const arenaHandlers = createServerHandlers<ArenaSession>({
  C_JOIN(session, message) {
    const arena = session.arena;
    arena.doAsync(() => {
      if (session.member !== undefined || !arena.enter(session)) {
        session.disconnect('join refused');
        return;
      }
      const you: Member = { id: arena.allocateId(), name: message.name, team: message.team };
      session.member = you;
      const members = [...arena.members].flatMap((s) => (s.member === undefined ? [] : [s.member]));
      S_WELCOME.send(session, { you, members });
    });
  },
  C_SAY(session, message) {
    const { text, sentAtMs } = message;
    session.arena.doAsync(() => {
      const speaker = session.member;
      if (speaker !== undefined) session.arena.broadcastMessage(S_SAID, { speakerId: speaker.id, text, sentAtMs });
    });
  },
});

/** A started arena server on 127.0.0.1:`port` (0: a free port). */
export async function startArena(port = 0): Promise<{ service: ServerService<ArenaSession>; arena: Arena }> {
  const arena = new Arena({ maxMembers: 100 });
  const service = new ServerService<ArenaSession>({
    host: '127.0.0.1',
    port,
    maxSessionCount: 100,
    sessionFactory: () => new ArenaSession(arena),
  });
  await service.start();
  return { service, arena };
}
