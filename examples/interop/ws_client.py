#!/usr/bin/env python3
"""A third-party WebSocket client for the sample game, written from docs/protocol.md and
proto/protocol.proto alone: no gamewire code, no ws, no generated code. Packets are
[size u16 LE][id u16 LE][protobuf body]; the few messages it needs are encoded by hand.

It logs in, enters the room, says --message, and waits until its own chat comes back and, with
--expect TEXT, until some other player's chat with that text arrives. With --idle SECONDS it then
only listens that long, answering the server's heartbeat pings (all it takes to stay connected), and
says --message once more before it leaves. One JSON line per event.

    python3 examples/interop/ws_client.py --port 8080 --message 'hi from python' --expect 'hi from tcp'

Needs the `websockets` package (Debian: python3-websockets).
"""
import argparse
import asyncio
import json
import struct
import sys

import websockets

# Packet ids, from enum MsgId in proto/protocol.proto.
C_LOGIN, S_LOGIN, C_ENTER_GAME, S_ENTER_GAME, C_CHAT, S_CHAT = 1000, 1001, 1002, 1003, 1004, 1005
HEARTBEAT_PING, HEARTBEAT_PONG = 65534, 65535


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


def field_string(number, text):
    data = text.encode('utf-8')
    return varint(number << 3 | 2) + varint(len(data)) + data


def field_varint(number, value):
    return varint(number << 3 | 0) + varint(value)


def field_double(number, value):
    return varint(number << 3 | 1) + struct.pack('<d', value)


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
    """Yields (field number, value) of a protobuf body: ints for varints, bytes for the rest."""
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


def packets(message):
    """Cuts one WebSocket message into (id, body) pairs: a message holds whole packets."""
    at = 0
    while at < len(message):
        size, packet_id = struct.unpack_from('<HH', message, at)
        yield packet_id, message[at + 4:at + size]
        at += size


def say(event, **values):
    print(json.dumps({'event': event, **values}), flush=True)


async def play(args):
    async with websockets.connect(f'ws://{args.host}:{args.port}/ws', compression=None) as ws:
        await ws.send(packet(C_LOGIN, field_string(1, args.account)))
        me = None
        mine_back = 0
        expected = args.expect is None
        pings = 0
        idle_over = asyncio.Event()

        async def chat_after_idle():
            await asyncio.sleep(args.idle)
            say('idle-over', seconds=args.idle, pingsAnswered=pings)
            idle_over.set()
            await ws.send(packet(C_CHAT, field_string(1, args.message) + field_double(2, 2.0)))

        idler = None
        async for message in ws:
            for packet_id, body in packets(message):
                # Heartbeats first: answer a ping with its own body; neither is a game message.
                if packet_id == HEARTBEAT_PING:
                    await ws.send(packet(HEARTBEAT_PONG, body))
                    pings += 1
                elif packet_id == HEARTBEAT_PONG:
                    pass
                elif packet_id == S_LOGIN:
                    say('logged-in')
                    await ws.send(packet(C_ENTER_GAME, field_varint(1, 0)))
                elif packet_id == S_ENTER_GAME:
                    values = dict(fields(body))
                    player = dict(fields(values.get(2, b'')))
                    me = player.get(1)
                    say('entered', playerId=me, success=bool(values.get(1, 0)))
                    await ws.send(packet(C_CHAT, field_string(1, args.message) + field_double(2, 1.0)))
                elif packet_id == S_CHAT:
                    values = dict(fields(body))
                    text = values.get(2, b'').decode('utf-8')
                    sender = values.get(1, 0)
                    say('chat', playerId=sender, msg=text)
                    if sender == me and text == args.message:
                        mine_back += 1
                    elif args.expect is not None and text == args.expect:
                        expected = True
            if mine_back >= 1 and expected and args.idle > 0 and idler is None:
                say('idle', seconds=args.idle)
                idler = asyncio.create_task(chat_after_idle())
            if mine_back >= (2 if args.idle > 0 else 1) and expected and (args.idle == 0 or idle_over.is_set()):
                say('done')
                return 0
    if idler is not None:
        idler.cancel()
    say('closed-early', code=ws.close_code, reason=ws.close_reason, pingsAnswered=pings)
    return 1


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--host', default='127.0.0.1')
    parser.add_argument('--port', type=int, required=True, help="the server's WebSocket port")
    parser.add_argument('--account', default='python')
    parser.add_argument('--message', default='hello from python')
    parser.add_argument('--expect', help="wait for another player's chat with this text")
    parser.add_argument('--idle', type=float, default=0.0,
                        help='after the chats, only listen (answering pings) this many seconds, then chat again')
    parser.add_argument('--timeout', type=float, default=20.0)
    args = parser.parse_args()
    try:
        return asyncio.run(asyncio.wait_for(play(args), args.timeout + args.idle))
    except asyncio.TimeoutError:
        say('timeout')
        return 1


if __name__ == '__main__':
    sys.exit(main())
