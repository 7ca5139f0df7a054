// A user's load-test bot for the arena server, in plain JavaScript, run by
//   npx gamewire loadtest --bot ./bot.js --port PORT
// It joins (timed as a request), then says a line every --interval-ms; the round trip of a line is its
// own S_SAID coming back. Lines of the other bots are counted under 'heard'.
import { performance } from 'node:perf_hooks';
import { PacketSession } from 'gamewire';
import { defineBot } from 'gamewire/loadtest';
import { C_JOIN, C_SAY, createClientHandlers, Team } from './build/generated/packets.js';

const handlers = createClientHandlers({
  S_WELCOME(bot, message) {
    bot.joined(message.you?.id ?? 0);
  },
  S_SAID(bot, message) {
    bot.said(message.speakerId);
  },
});

class ArenaBot extends PacketSession {
  constructor(context) {
    super();
    this.context = context;
    this.id = 0;
    this.sentAt = 0;
    this.timer = undefined;
  }

  onConnected() {
    this.request(C_JOIN.makeSendBuffer({ name: this.context.name, team: Team.TEAM_BLUE }));
  }

  onRecvPacket(id, body) {
    this.context.recordReceived(4 + body.length);
    handlers.dispatch(this, id, body);
  }

  onDisconnected() {
    clearTimeout(this.timer);
  }

  request(bytes) {
    this.sentAt = performance.now();
    if (this.send(bytes)) this.context.recordRequest(bytes.length);
  }

  answered() {
    this.context.recordRoundTrip((performance.now() - this.sentAt) * 1000);
    this.timer = setTimeout(() => this.say(), this.context.options.intervalMs);
  }

  joined(id) {
    this.id = id;
    this.answered();
  }

  said(speakerId) {
    if (speakerId !== this.id) {
      this.context.count('heard');
      return;
    }
    this.context.count('said');
    this.answered();
  }

  say() {
    if (this.context.stopping) return;
    this.request(C_SAY.makeSendBuffer({ text: this.context.options.message, sentAtMs: Date.now() }));
  }
}

export default defineBot({ name: 'arena', createSession: (context) => new ArenaBot(context) });
