// The sample game in a browser: each player is a dot that moves with the arrow keys (C_MOVE/S_MOVE),
// with a chat box (C_CHAT/S_CHAT). It speaks the same packets as the TCP bots, through gamewire's
// browser client and the packets generated from proto/protocol.proto. Bundled by esbuild at build time.
import { GameClient, type ClientDisconnectCause } from '../../src/client/index.js';
import {
  C_CHAT,
  C_ENTER_GAME,
  C_LOGIN,
  C_MOVE,
  createClientHandlers,
  type Player,
  type Vector3,
} from '../../src/samples/protocol/packets.js';

const FIELD_W = 640;
const FIELD_H = 400;
const STEP = 10;
/** Dots stay this far inside the field, so a whole dot is always seen. */
const MARGIN = 12;
const COLORS = ['#2f6feb', '#d1242f', '#1a7f37', '#9a6700', '#8250df', '#bf3989', '#0a7ea4'];

interface Dot {
  readonly id: number;
  readonly name: string;
  x: number;
  y: number;
}

const canvas = element<HTMLCanvasElement>('field');
const context = canvas.getContext('2d') as CanvasRenderingContext2D;
const status = element<HTMLDivElement>('status');
const playerList = element<HTMLUListElement>('players');
const chatLog = element<HTMLUListElement>('chat-log');
const chatForm = element<HTMLFormElement>('chat-form');
const chatInput = element<HTMLInputElement>('chat-input');

const dots = new Map<number, Dot>();
let me: Dot | undefined;
let moveSeq = 0;

const handlers = createClientHandlers<DemoClient>({
  S_LOGIN(client, message) {
    if (message.success) client.sendMessage(C_ENTER_GAME, { playerIndex: 0 });
    else setStatus(`login refused: ${message.error}`, 'disconnected', 'disconnected');
  },
  S_ENTER_GAME(_client, message) {
    const player = message.player;
    if (!message.success || player === null) {
      setStatus('the room is full', 'disconnected', 'disconnected');
      return;
    }
    // Start somewhere on the field, so two windows do not stack their dots.
    me = addDot(player, { x: 40 + Math.floor(Math.random() * (FIELD_W - 80)), y: 40 + Math.floor(Math.random() * (FIELD_H - 80)), z: 0 });
    setStatus(`connected as ${player.name} (player ${player.id})`, 'connected', 'connected');
    sendMove();
    canvas.focus();
  },
  S_SPAWN(_client, message) {
    for (const player of message.players) if (player.id !== me?.id) addDot(player, player.position);
    render();
  },
  S_DESPAWN(_client, message) {
    for (const id of message.playerIds) dots.delete(id);
    render();
  },
  S_MOVE(_client, message) {
    const dot = dots.get(message.playerId);
    if (dot === undefined || message.position === null) return;
    dot.x = message.position.x;
    dot.y = message.position.y;
    render();
  },
  S_CHAT(_client, message) {
    const from = dots.get(message.playerId)?.name ?? `player ${message.playerId}`;
    appendChat(`${from}: ${message.msg}`);
  },
  S_CHAT_REJECTED(_client, message) {
    appendChat(`(not sent: ${message.reason})`);
  },
});

class DemoClient extends GameClient {
  protected override onConnected(): void {
    setStatus('logging in…', '', 'logging-in');
    this.sendMessage(C_LOGIN, { account: `web-${Math.random().toString(36).slice(2, 7)}`, token: '' });
  }

  protected override onRecvPacket(id: number, body: Uint8Array): void {
    handlers.dispatch(this, id, body);
  }

  // Resume (docs/resume.md): the player stays in the room while the client reconnects by itself, and
  // the chats and moves sent meanwhile arrive once it is back, in order; what this page sends while
  // away is kept and sent then too.
  protected override onConnectionLost(cause: ClientDisconnectCause): void {
    setStatus(`connection lost (${cause.code}): reconnecting…`, 'reconnecting', 'reconnecting');
    appendNotice(`connection lost (${cause.code}): reconnecting…`);
  }

  protected override onReconnecting(attempt: number, delayMs: number): void {
    if (attempt > 0) setStatus(`reconnecting: attempt ${attempt + 1} in ${(delayMs / 1000).toFixed(1)} s…`, 'reconnecting', 'reconnecting');
  }

  protected override onResumed(): void {
    const who = me === undefined ? '' : ` as ${me.name} (player ${me.id})`;
    setStatus(`resumed${who}`, 'connected', 'resumed');
    appendNotice('back: what was sent meanwhile follows');
  }

  protected override onDisconnected(cause: ClientDisconnectCause): void {
    setStatus(`disconnected: ${cause.code}${cause.reason === '' ? '' : ` (${cause.reason})`}`, 'disconnected', 'disconnected');
    dots.clear();
    me = undefined;
    render();
  }
}

const wsUrl = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`;
// Keepalive is GameClient's (its defaults): it answers the server's heartbeat pings and pings the
// server after 15 s of sending nothing, so a player who only watches is not cut as idle. `resume`
// asks the server to keep the player through a dropped connection (a server without resume gives a
// plain one).
const client = new DemoClient(wsUrl, { resume: {} });
// Leaving the page is leaving the game: say so (BYE), or a resuming server would keep the player in
// the room for its grace period, waiting for a page that will not come back.
addEventListener('pagehide', () => client.disconnect('left the page'));

canvas.addEventListener('keydown', (event) => {
  if (me === undefined) return;
  const delta = ARROWS[event.key];
  if (delta === undefined) return;
  event.preventDefault();
  me.x = clamp(me.x + delta[0] * STEP, MARGIN, FIELD_W - MARGIN);
  me.y = clamp(me.y + delta[1] * STEP, MARGIN, FIELD_H - MARGIN);
  sendMove();
  render();
});

chatForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const text = chatInput.value.trim();
  if (text === '') return;
  client.sendMessage(C_CHAT, { msg: text, sentAtMs: performance.timeOrigin + performance.now() });
  chatInput.value = '';
});

const ARROWS: Readonly<Record<string, readonly [number, number]>> = {
  ArrowLeft: [-1, 0],
  ArrowRight: [1, 0],
  ArrowUp: [0, -1],
  ArrowDown: [0, 1],
};

function sendMove(): void {
  if (me === undefined) return;
  client.sendMessage(C_MOVE, { position: { x: me.x, y: me.y, z: 0 }, yaw: 0, seq: ++moveSeq });
}

function addDot(player: Player, position: Vector3 | null): Dot {
  const dot: Dot = { id: player.id, name: player.name, x: position?.x ?? 0, y: position?.y ?? 0 };
  dots.set(player.id, dot);
  render();
  return dot;
}

function render(): void {
  context.clearRect(0, 0, FIELD_W, FIELD_H);
  playerList.replaceChildren();
  for (const dot of dots.values()) {
    const color = COLORS[dot.id % COLORS.length] as string;
    context.beginPath();
    context.arc(dot.x, dot.y, dot === me ? 10 : 8, 0, Math.PI * 2);
    context.fillStyle = color;
    context.fill();
    if (dot === me) {
      context.lineWidth = 3;
      context.strokeStyle = '#1d2330';
      context.stroke();
    }
    context.fillStyle = '#1d2330';
    context.font = '12px system-ui, sans-serif';
    context.fillText(dot === me ? `${dot.name} (you)` : dot.name, dot.x + 12, dot.y + 4);
    const item = document.createElement('li');
    item.dataset['playerId'] = String(dot.id);
    item.dataset['x'] = String(Math.round(dot.x));
    item.dataset['y'] = String(Math.round(dot.y));
    item.textContent = `${dot === me ? '★ ' : ''}${dot.name} (${Math.round(dot.x)}, ${Math.round(dot.y)})`;
    item.style.color = color;
    playerList.append(item);
  }
}

function appendChat(text: string): void {
  const item = document.createElement('li');
  item.textContent = text;
  chatLog.append(item);
  chatLog.scrollTop = chatLog.scrollHeight;
}

/** A line of the page's own in the chat log (not a chat). */
function appendNotice(text: string): void {
  const item = document.createElement('li');
  item.className = 'notice';
  item.textContent = text;
  chatLog.append(item);
  chatLog.scrollTop = chatLog.scrollHeight;
}

/** The status line: its text, its colour, and the connection state in `data-state`. */
function setStatus(
  text: string,
  kind: '' | 'connected' | 'reconnecting' | 'disconnected',
  state: 'logging-in' | 'connected' | 'reconnecting' | 'resumed' | 'disconnected',
): void {
  status.textContent = text;
  status.className = kind;
  status.dataset['state'] = state;
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}

function element<T extends HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (found === null) throw new Error(`the page has no #${id}`);
  return found as T;
}
