// BOTS ClientService bots join the arena; once all are in, each says one line, and each must hear
// every line. Prints one JSON line with what the bots saw, then closes everything and exits.
import { ClientService, PacketSession, type DisconnectCause } from 'gamewire';
import { startArena } from './arena.js';
import { C_JOIN, C_SAY, createClientHandlers, PacketId, S_SAID, Team, type S_WELCOME } from './generated/packets.js';

const BOTS = 3;

class Bot extends PacketSession {
  welcome: S_WELCOME | undefined;
  readonly heard: string[] = [];
  cause: DisconnectCause | undefined;

  constructor(readonly index: number) {
    super();
  }

  protected override onConnected(): void {
    C_JOIN.send(this, { name: `bot-${this.index}`, team: this.index % 2 === 0 ? Team.TEAM_RED : Team.TEAM_BLUE });
  }

  protected override onRecvPacket(id: number, body: Buffer): void {
    botHandlers.dispatch(this, id, body);
  }

  protected override onDisconnected(cause: DisconnectCause): void {
    this.cause = cause;
  }
}

const bots: Bot[] = [];
let allHeard: () => void = () => undefined;
const done = new Promise<void>((resolve) => (allHeard = resolve));

const botHandlers = createClientHandlers<Bot>({
  S_WELCOME(bot, message) {
    bot.welcome = message;
    if (bots.length === BOTS && bots.every((b) => b.welcome !== undefined)) {
      for (const b of bots) C_SAY.send(b, { text: `hello from ${b.welcome?.you?.name}`, sentAtMs: Date.now() });
    }
  },
  S_SAID(bot, message) {
    const speaker: number = message.speakerId;
    bot.heard.push(`${speaker}:${message.text}`);
    if (bots.every((b) => b.heard.length === BOTS)) allHeard();
  },
});

/** Never called: the generated types are real, and each of these lines is a type error. */
export function typeErrors(): void {
  // @ts-expect-error text is a string
  C_SAY.makeSendBuffer({ text: 42 });
  // @ts-expect-error no such field
  C_JOIN.makeSendBuffer({ nmae: 'typo' });
  // @ts-expect-error a client table handles S_* packets, not C_SAY
  createClientHandlers<Bot>({ C_SAY: () => undefined });
}

const { service, arena } = await startArena(0);
const client = new ClientService<Bot>({
  host: '127.0.0.1',
  port: service.port,
  maxSessionCount: BOTS,
  sessionFactory: () => {
    const bot = new Bot(bots.length);
    bots.push(bot);
    return bot;
  },
});
const watchdog = setTimeout(() => {
  console.error(`exchange: timed out; heard ${JSON.stringify(bots.map((b) => b.heard))}`);
  process.exit(1);
}, 15_000);
watchdog.unref();

await client.start();
await done;
console.log(
  JSON.stringify({
    sAidId: S_SAID.id === PacketId.S_SAID ? S_SAID.id : -1,
    members: bots.map((b) => b.welcome?.members.length),
    names: bots.map((b) => b.welcome?.you?.name),
    heard: bots.map((b) => [...b.heard].sort()),
  }),
);
await client.close();
await service.close();
arena.close();
clearTimeout(watchdog);
console.log(`closed: ${bots.map((b) => b.cause?.code).join(',')}`);
