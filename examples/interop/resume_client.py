#!/usr/bin/env python3
"""A third-party TCP client that resumes, written from docs/protocol.md ("Resume") alone: no gamewire
code, only the Python standard library. It asks for resume (HELLO), keeps the token of WELCOME, logs
in and enters the sample game's room, and records every chat it receives. When its connection drops
it reconnects with exponential backoff and jitter, sends RESUME with the count of packets it
received, sends again what the server did not have (RESUMED), and goes on. On MOVE (the session moved
to another process of the server) it takes the new token and reconnects at once. It ends once it has
--chats chats from other players, checking that each player's chats came once and in order, says
BYE and leaves. One JSON line per event.

    python3 examples/interop/resume_client.py --port 7777 --chats 60
"""
import argparse
import asyncio
import json
import random
import struct
import sys
import time

# Packet ids, from enum MsgId in proto/protocol.proto, and the transport's own (docs/protocol.md).
C_LOGIN, S_LOGIN, C_ENTER_GAME, S_ENTER_GAME, C_CHAT, S_CHAT = 1000, 1001, 1002, 1003, 1004, 1005
HELLO, WELCOME, RESUME, RESUMED, REFUSED, ACK, BYE, MOVE = range(65520, 65528)
PING, PONG = 65534, 65535
REASONS = {1: 'UNKNOWN_SESSION', 2: 'BAD_POSITION', 3: 'RETRY_LATER', 4: 'NOT_HERE', 5: 'UNSUPPORTED'}


def varint(value):
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def read_varint(data, at):
    shift = result = 0
    while True:
        byte = data[at]
        at += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, at
        shift += 7


def fields(body):
    at = 0
    while at < len(body):
        key, at = read_varint(body, at)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, at = read_varint(body, at)
        elif wire == 1:
            value, at = body[at:at + 8], at + 8
        elif wire == 2:
            length, at = read_varint(body, at)
            value, at = body[at:at + length], at + length
        elif wire == 5:
            value, at = body[at:at + 4], at + 4
        else:
            raise ValueError(f'wire type {wire}')
        yield number, value


def packet(packet_id, body=b''):
    return struct.pack('<HH', 4 + len(body), packet_id) + body


def say(event, **values):
    print(json.dumps({'event': event, **values}), flush=True)


class Lost(Exception):
    """The connection dropped."""


class Refused(Exception):
    """The server refused to resume."""


class Client:
    def __init__(self, args):
        self.args = args
        self.token = None
        self.grace_ms = 0
        self.received = 0        # packets received that count (not resume packets)
        self.last_ack_sent = 0
        self.server_received = 0  # our packets the server has, from its ACK or RESUMED
        self.unacked = []         # our packets after the first server_received, in order
        self.writer = None
        self.me = None
        self.chats = {}           # player id -> seqs received, in order
        self.chat_count = 0
        self.resumes = 0
        self.moving = False       # MOVE came: the next reconnect goes at once

    def send(self, packet_id, body=b''):
        """A packet of the stream: counted, kept until the server acknowledges it."""
        data = packet(packet_id, body)
        self.unacked.append(data)
        if self.writer is not None:
            self.writer.write(data)

    def send_control(self, packet_id, body=b''):
        if self.writer is not None:
            self.writer.write(packet(packet_id, body))

    def acknowledged(self, count):
        if count > self.server_received:
            del self.unacked[:count - self.server_received]
            self.server_received = count

    async def read_packet(self, reader):
        try:
            head = await reader.readexactly(4)
            size, packet_id = struct.unpack('<HH', head)
            body = await reader.readexactly(size - 4)
        except (asyncio.IncompleteReadError, ConnectionError) as error:
            raise Lost(str(error)) from error
        return packet_id, body

    async def run(self):
        reader, self.writer = await asyncio.open_connection(self.args.host, self.args.port)
        self.writer.write(packet(HELLO, b'\x01'))
        self.send(C_LOGIN, varint(1 << 3 | 2) + varint(len(self.args.account)) + self.args.account.encode())
        while True:
            try:
                done = await self.session(reader)
                if done:
                    return 0
            except Lost as lost:
                if self.token is None:
                    say('lost-not-resumable', error=str(lost))
                    return 1
                say('lost', error=str(lost))
                try:
                    reader = await self.reconnect()
                except Refused as refused:
                    say('refused', reason=str(refused))
                    return 1

    async def reconnect(self):
        lost_at = time.monotonic()
        attempt = 0
        while True:
            ceiling = min(self.args.max_delay, self.args.delay * 2 ** attempt)
            delay = ceiling / 2 + random.random() * ceiling / 2
            if self.moving:
                self.moving = False
                delay = 0
            if (time.monotonic() - lost_at) * 1000 + delay * 1000 >= self.grace_ms:
                raise Refused('RESUME_EXPIRED: the grace period is over')
            say('reconnecting', attempt=attempt, delayMs=round(delay * 1000))
            attempt += 1
            await asyncio.sleep(delay)
            try:
                reader, writer = await asyncio.open_connection(self.args.host, self.args.port)
            except OSError:
                continue
            self.writer = writer
            writer.write(packet(RESUME, self.token + struct.pack('<Q', self.received)))
            try:
                packet_id, body = await self.read_packet(reader)
            except Lost:
                continue
            if packet_id == RESUMED:
                self.token = body[:24]
                self.acknowledged(struct.unpack_from('<Q', body, 24)[0])
                for data in self.unacked:
                    writer.write(data)
                self.last_ack_sent = self.received
                self.resumes += 1
                say('resumed', received=self.received, serverReceived=self.server_received, resent=len(self.unacked))
                return reader
            if packet_id == REFUSED:
                reason = REASONS.get(body[0], str(body[0]))
                retry_ms = struct.unpack_from('<I', body, 1)[0]
                writer.close()
                if reason == 'RETRY_LATER':
                    await asyncio.sleep(retry_ms / 1000)
                    continue
                raise Refused(f'{reason}: {body[5:].decode()}')
            raise Refused(f'unexpected answer {packet_id}')

    async def acks(self):
        """ACK at least every 250 ms while something is unacknowledged either way."""
        while True:
            await asyncio.sleep(0.25)
            if self.token is not None and (self.received > self.last_ack_sent or self.unacked):
                self.last_ack_sent = self.received
                self.send_control(ACK, struct.pack('<Q', self.received))

    async def session(self, reader):
        acker = asyncio.create_task(self.acks())
        try:
            while True:
                packet_id, body = await self.read_packet(reader)
                if 65520 <= packet_id <= 65533:
                    if packet_id == WELCOME:
                        self.token = body[:24]
                        self.grace_ms = struct.unpack_from('<I', body, 24)[0]
                        say('welcome', graceMs=self.grace_ms)
                    elif packet_id == ACK:
                        self.acknowledged(struct.unpack_from('<Q', body, 0)[0])
                    elif packet_id == BYE:
                        say('bye', cause=body.decode())
                        return False
                    elif packet_id == MOVE:
                        # The session moved to another process of the server: resume there at once.
                        self.token = body[:24]
                        self.moving = True
                        say('move')
                        self.writer.close()
                        raise Lost('the server moved the session')
                    continue
                self.received += 1
                if self.received - self.last_ack_sent >= 32:
                    self.last_ack_sent = self.received
                    self.send_control(ACK, struct.pack('<Q', self.received))
                if packet_id == PING:
                    self.send(PONG, body)
                elif packet_id == S_LOGIN:
                    self.send(C_ENTER_GAME, varint(1 << 3 | 0) + varint(0))
                elif packet_id == S_ENTER_GAME:
                    player = dict(fields(dict(fields(body)).get(2, b'')))
                    self.me = player.get(1)
                    say('entered', playerId=self.me)
                elif packet_id == S_CHAT:
                    values = dict(fields(body))
                    sender, text = values.get(1, 0), values.get(2, b'').decode()
                    if sender == self.me:
                        continue
                    self.chats.setdefault(sender, []).append(int(text.split(':')[1]))
                    self.chat_count += 1
                    if self.chat_count % 10 == 0:
                        say('chats', count=self.chat_count)
                    if self.chat_count >= self.args.chats:
                        in_order = all(seqs == list(range(len(seqs))) for seqs in self.chats.values())
                        say('done', chats=self.chat_count, inOrder=in_order, resumes=self.resumes, playerId=self.me)
                        self.send_control(BYE, b'done')
                        await self.writer.drain()
                        self.writer.close()
                        return True
        finally:
            acker.cancel()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--host', default='127.0.0.1')
    parser.add_argument('--port', type=int, required=True, help="the server's TCP port")
    parser.add_argument('--account', default='python-resume')
    parser.add_argument('--chats', type=int, default=60, help="chats of other players to receive before leaving")
    parser.add_argument('--delay', type=float, default=0.25, help='first reconnect delay, s (doubles, with jitter)')
    parser.add_argument('--max-delay', type=float, default=5.0, help='longest reconnect delay, s')
    parser.add_argument('--timeout', type=float, default=30.0)
    args = parser.parse_args()
    try:
        return asyncio.run(asyncio.wait_for(Client(args).run(), args.timeout))
    except asyncio.TimeoutError:
        say('timeout')
        return 1


if __name__ == '__main__':
    sys.exit(main())
