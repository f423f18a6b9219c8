"""A WebSocket client as small as a phone's: text frames, pings answered, nothing else.

``tkd loadtest`` plays thousands of phones on the machine it measures, so its own cost
is taken from the server's: with a general client library it spent 0.49 ms of CPU per
answer at 20,000 phones, with this one 0.33 ms (docs/benchmarks.md, "20,000
candidates"). It parses and builds frames in a few lines per message. It speaks RFC 6455 as a browser does: masked
frames from the client, no extensions, no keep-alive pings of its own.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import random
from typing import Any, cast
from urllib.parse import urlsplit

_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
_TEXT, _BINARY, _CLOSE, _PING, _PONG = 0x1, 0x2, 0x8, 0x9, 0xA


class SocketClosed(Exception):
    """The connection ended: by the server (with its close code), or without a goodbye."""

    def __init__(self, why: str, code: int | None = None) -> None:
        super().__init__(why)
        self.code = code


def frame(opcode: int, payload: bytes) -> bytes:
    """One final, masked client frame."""
    n = len(payload)
    if n < 126:
        head = bytes((0x80 | opcode, 0x80 | n))
    elif n < 65536:
        head = bytes((0x80 | opcode, 0x80 | 126)) + n.to_bytes(2, "big")
    else:
        head = bytes((0x80 | opcode, 0x80 | 127)) + n.to_bytes(8, "big")
    mask = random.randbytes(4)
    if not n:
        return head + mask
    key = int.from_bytes((mask * (n // 4 + 1))[:n], "big")
    return head + mask + (int.from_bytes(payload, "big") ^ key).to_bytes(n, "big")


class _Protocol(asyncio.Protocol):
    def __init__(self, handshake: bytes, key: bytes) -> None:
        self.handshake, self.key = handshake, key
        self.transport: asyncio.Transport | None = None
        self.opened: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.inbox: asyncio.Queue[str | SocketClosed] = asyncio.Queue()
        self.buf = b""
        self.upgraded = False
        self.closed: SocketClosed | None = None
        self.parts: list[bytes] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass
        self.transport.write(self.handshake)

    def data_received(self, data: bytes) -> None:
        self.buf += data
        if not self.upgraded:
            head, sep, rest = self.buf.partition(b"\r\n\r\n")
            if not sep:
                return
            accept = base64.b64encode(hashlib.sha1(self.key + _GUID).digest())
            if not head.startswith(b"HTTP/1.1 101") or accept not in head:
                self._end(SocketClosed(f"no upgrade: {head[:60]!r}"))
                return
            self.upgraded, self.buf = True, rest
            self.opened.set_result(None)
        self._frames()

    def _frames(self) -> None:
        buf = self.buf
        while len(buf) >= 2:
            fin, opcode, n, at = bool(buf[0] & 0x80), buf[0] & 0x0F, buf[1] & 0x7F, 2
            if n == 126:
                if len(buf) < 4:
                    break
                n, at = int.from_bytes(buf[2:4], "big"), 4
            elif n == 127:
                if len(buf) < 10:
                    break
                n, at = int.from_bytes(buf[2:10], "big"), 10
            if len(buf) < at + n:
                break
            payload, buf = buf[at : at + n], buf[at + n :]
            self._frame(opcode, fin, payload)
        self.buf = buf

    def _frame(self, opcode: int, fin: bool, payload: bytes) -> None:
        if opcode in (_TEXT, _BINARY, 0x0):  # 0x0: a continuation
            self.parts.append(payload)
            if fin:
                self.inbox.put_nowait(b"".join(self.parts).decode())
                self.parts = []
        elif opcode == _PING and self.transport is not None:
            self.transport.write(frame(_PONG, payload))
        elif opcode == _CLOSE:
            code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else None
            if self.transport is not None:
                self.transport.write(frame(_CLOSE, payload[:2]))
                self.transport.close()
            self._end(SocketClosed(f"closed by the server ({code})", code))

    def connection_lost(self, exc: Exception | None) -> None:
        self._end(SocketClosed("connection lost without a closing handshake"))

    def _end(self, why: SocketClosed) -> None:
        if self.closed is not None:
            return
        self.closed = why
        if not self.opened.done():
            self.opened.set_exception(why)
        self.inbox.put_nowait(why)
        if self.transport is not None:
            self.transport.close()


class PhoneSocket:
    """``async with PhoneSocket.connect(url) as ws``: ``send``, ``recv``, ``async for``."""

    def __init__(self, protocol: _Protocol) -> None:
        self._p = protocol

    @classmethod
    async def connect(cls, url: str, open_timeout: float = 30) -> PhoneSocket:
        parts = urlsplit(url)
        key = base64.b64encode(random.randbytes(16))
        handshake = (
            f"GET {parts.path or '/'} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key.decode()}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
        loop = asyncio.get_running_loop()

        async def opening() -> _Protocol:
            _, protocol = await loop.create_connection(
                lambda: _Protocol(handshake, key), parts.hostname or "127.0.0.1", parts.port or 80
            )
            await protocol.opened
            return protocol

        return cls(await asyncio.wait_for(opening(), open_timeout))

    async def __aenter__(self) -> PhoneSocket:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        self.close()

    async def send(self, text: str) -> None:
        if self._p.closed is not None:
            raise self._p.closed
        assert self._p.transport is not None
        self._p.transport.write(frame(_TEXT, text.encode()))

    async def recv(self) -> str:
        item = await self._p.inbox.get()
        if isinstance(item, SocketClosed):
            self._p.inbox.put_nowait(item)  # every later recv sees it too
            raise item
        return item

    def __aiter__(self) -> PhoneSocket:
        return self

    async def __anext__(self) -> str:
        try:
            return await self.recv()
        except SocketClosed as closed:
            if closed.code in (1000, 1001):
                raise StopAsyncIteration from None
            raise

    def close(self) -> None:
        """Leave without a goodbye, as a phone losing its signal does."""
        if self._p.transport is not None:
            self._p.transport.close()
