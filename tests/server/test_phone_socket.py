"""The load generator's own WebSocket client: frames as RFC 6455 has them, checked against
the `websockets` library's parser (an independent implementation), and against a real
worker in tests/server/test_loadtest.py."""

from __future__ import annotations

import asyncio

from hypothesis import given
from hypothesis import strategies as st
from websockets.frames import Frame, Opcode
from websockets.streams import StreamReader

from exam_server.cli.phone_socket import SocketClosed, _Protocol, frame


def parsed_by_websockets(data: bytes) -> Frame:
    reader = StreamReader()
    reader.feed_data(data)
    parser = Frame.parse(reader.read_exact, mask=True)
    try:
        next(parser)
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]
    raise AssertionError("the frame was incomplete")


@given(st.binary(max_size=70_000))
def test_client_frames_are_masked_and_read_back_by_another_implementation(payload: bytes) -> None:
    got = parsed_by_websockets(frame(0x1, payload))
    assert got.opcode is Opcode.TEXT and got.fin and got.data == payload


def server_frame(opcode: int, payload: bytes, fin: bool = True) -> bytes:
    n = len(payload)
    first = (0x80 if fin else 0) | opcode
    if n < 126:
        return bytes((first, n)) + payload
    if n < 65536:
        return bytes((first, 126)) + n.to_bytes(2, "big") + payload
    return bytes((first, 127)) + n.to_bytes(8, "big") + payload


class Wire:
    def __init__(self) -> None:
        self.sent: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        self.sent.append(data)

    def close(self) -> None:
        self.closed = True


async def upgraded() -> tuple[_Protocol, Wire]:
    import base64
    import hashlib

    key = b"dGhlIHNhbXBsZSBub25jZQ=="
    protocol = _Protocol(b"GET / HTTP/1.1\r\n\r\n", key)
    wire = Wire()
    protocol.connection_made(wire)  # type: ignore[arg-type]
    accept = base64.b64encode(hashlib.sha1(key + b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest())
    protocol.data_received(b"HTTP/1.1 101 Switching Protocols\r\nSec-WebSocket-Accept: " + accept)
    protocol.data_received(b"\r\n\r\n")
    await protocol.opened
    return protocol, wire


async def test_server_frames_split_anywhere_arrive_whole_and_in_order() -> None:
    protocol, _ = await upgraded()
    texts = ["a" * 5, "b" * 300, "c" * 70_000]
    stream = b"".join(server_frame(0x1, t.encode()) for t in texts)
    for i in range(0, len(stream), 7):  # seven bytes at a time
        protocol.data_received(stream[i : i + 7])
    assert [protocol.inbox.get_nowait() for _ in texts] == texts
    protocol.data_received(server_frame(0x1, b"he", fin=False) + server_frame(0x0, b"llo"))
    assert protocol.inbox.get_nowait() == "hello"


async def test_a_ping_is_answered_and_a_close_ends_the_socket_with_its_code() -> None:
    protocol, wire = await upgraded()
    protocol.data_received(server_frame(0x9, b"beat"))
    pong = parsed_by_websockets(wire.sent[-1])
    assert pong.opcode is Opcode.PONG and pong.data == b"beat"
    protocol.data_received(server_frame(0x8, (1008).to_bytes(2, "big") + b"replaced"))
    ended = protocol.inbox.get_nowait()
    assert isinstance(ended, SocketClosed) and ended.code == 1008 and wire.closed


async def test_a_refused_upgrade_fails_the_opening() -> None:
    protocol = _Protocol(b"GET / HTTP/1.1\r\n\r\n", b"key")
    protocol.connection_made(Wire())  # type: ignore[arg-type]
    protocol.data_received(b"HTTP/1.1 503 Service Unavailable\r\n\r\n")
    try:
        await asyncio.wait_for(protocol.opened, 1)
    except SocketClosed as exc:
        assert "no upgrade" in str(exc)
    else:
        raise AssertionError("the opening should have failed")
