// bench/protobuf-libs/fixtures.mjs - realistic, deterministic sample messages of proto/protocol.proto.
//
// makeInstances(lib, msg) returns COUNT (a power of two) different instances of one message, built
// from the same values for every library: only the uint64 representation (number vs bigint) and the
// container (plain object vs create(Schema, init)) differ, as each library expects.

export const COUNT = 64;

// Small deterministic PRNG (mulberry32) so every process and library sees the same values.
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const f32 = Math.fround;
const WORDS = ['gg', 'heal', 'me', 'pls', 'boss', 'at', 'north', 'gate', 'need', 'tank', 'mage', 'lfg',
  'raid', 'in', '5', 'min', 'ok', 'wait', 'for', 'loot', 'drop', 'rare', 'sword', 'nice', 'run', 'team'];
const HANGUL = '안녕하세요오늘같이레이드가실분있나요북쪽성문앞에서만나요힐러구합니다';
const NAMES = ['Arwen', 'Borin', 'Caelum', 'Dagny', 'Eldric', 'Fenna', 'Gorak', 'Hild'];

// ~40-character ASCII chat line (36..44 chars).
function chatLine(rnd) {
  const target = 36 + Math.floor(rnd() * 9);
  let s = '';
  while (s.length < target) s += (s ? ' ' : '') + WORDS[Math.floor(rnd() * WORDS.length)];
  return s.slice(0, target);
}
// 16..24 Hangul syllables: 48..72 UTF-8 bytes.
function hangulLine(rnd) {
  const n = 16 + Math.floor(rnd() * 9);
  const start = Math.floor(rnd() * (HANGUL.length - n));
  return HANGUL.slice(start, start + n);
}

const vec = (rnd) => ({ x: f32(rnd() * 1000 - 500), y: f32(rnd() * 50), z: f32(rnd() * 1000 - 500) });
const player = (lib, rnd, i) => ({
  id: lib.u64(100_000 + i * 7919),                    // 3-byte varint
  name: `${NAMES[i % NAMES.length]}_${10 + (i % 90)}`,  // 8..9 chars
  playerType: 1 + (i % 3),                            // KNIGHT, MAGE, ARCHER
  position: vec(rnd),
});

export function makeInit(lib, msg, i) {
  const rnd = prng(0x9e3779b9 ^ (i * 2654435761) ^ msg.length * 97);
  switch (msg) {
    case 'C_MOVE':
      return { position: vec(rnd), yaw: f32(rnd() * 360), seq: 1000 + i * 17 };
    case 'S_MOVE':
      return { playerId: lib.u64(100_000 + i * 7919), position: vec(rnd), yaw: f32(rnd() * 360), seq: 1000 + i * 17 };
    case 'C_CHAT':
      return { msg: chatLine(rnd) };
    case 'C_CHAT_UTF8':
      return { msg: hangulLine(rnd) };
    case 'S_CHAT':
      // sent_at_ms is a real epoch-ms timestamp: > 2^32, a 6-byte varint.
      return { playerId: lib.u64(100_000 + i * 7919), msg: chatLine(rnd), sentAtMs: lib.u64(1_767_225_600_000 + i * 37) };
    case 'S_LOGIN':
      return { success: true, players: [player(lib, rnd, i), player(lib, rnd, i + 1), player(lib, rnd, i + 2)], error: '' };
    case 'S_ENTER_GAME':
      return { success: true, player: player(lib, rnd, i), roomId: 1 + (i % 100) };
    default:
      throw new Error(`no fixture for ${msg}`);
  }
}

export function makeInstances(lib, msg) {
  const out = [];
  for (let i = 0; i < COUNT; i++) out.push(lib.make(msg, makeInit(lib, msg, i)));
  return out;
}

// A cheap field read on a decoded message (same field names in both libraries), so the result of
// every decode is used.
export const PROBES = {
  C_MOVE: (m) => m.seq,
  S_MOVE: (m) => m.seq,
  C_CHAT: (m) => m.msg.length,
  C_CHAT_UTF8: (m) => m.msg.length,
  S_CHAT: (m) => m.msg.length,
  S_LOGIN: (m) => m.players.length,
  S_ENTER_GAME: (m) => m.roomId,
};
