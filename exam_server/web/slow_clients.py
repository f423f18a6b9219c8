"""uvicorn protocols that drop a client which does not finish its request headers in time.

uvicorn times out idle keep-alive connections but not a connection that has not yet sent
its headers: a client that connects and sends nothing, or one header line every few
seconds (slowloris), holds a socket and a file descriptor for ever. These subclasses arm
a timer when a connection opens, and again when a new request starts arriving, and close
the connection if the headers are not complete by then (docs/security.md, "Limits").
A WebSocket, once upgraded, is not affected.
"""

from __future__ import annotations

import asyncio
from functools import lru_cache
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from exam_server.settings import Settings


@lru_cache(maxsize=1)
def header_timeout_s() -> float:
    # Worker processes rebuild their settings from the environment, as the app does.
    return Settings.from_env().header_timeout_s


class _HeaderDeadline:
    cycle: Any
    loop: asyncio.AbstractEventLoop
    transport: asyncio.Transport
    _header_timer: asyncio.TimerHandle | None = None

    def _request_in_progress(self) -> bool:
        return self.cycle is not None and not self.cycle.response_complete

    def _arm(self) -> None:
        if self._header_timer is None:
            self._header_timer = self.loop.call_later(header_timeout_s(), self._too_slow)

    def _disarm(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _upgraded(self) -> bool:
        return self.transport.get_protocol() is not self  # type: ignore[comparison-overlap]

    def _too_slow(self) -> None:
        self._header_timer = None
        if self.transport.is_closing() or self._upgraded() or self._request_in_progress():
            return
        self.transport.close()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)  # type: ignore[misc]
        self._arm()

    def data_received(self, data: bytes) -> None:
        if not self._request_in_progress():
            self._arm()  # a new request is starting: its headers have the same deadline
        super().data_received(data)  # type: ignore[misc]
        if self._request_in_progress() or self._upgraded():
            self._disarm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)  # type: ignore[misc]


class TimedHttpToolsProtocol(_HeaderDeadline, HttpToolsProtocol):
    pass


class TimedH11Protocol(_HeaderDeadline, H11Protocol):
    pass


def protocol_class() -> type[asyncio.Protocol]:
    """httptools where installed (as uvicorn's "auto" chooses), else h11."""
    try:
        import httptools  # noqa: F401  # optional: uvicorn[standard] brings it where it builds
    except ImportError:  # pragma: no cover - depends on the install
        return TimedH11Protocol
    return TimedHttpToolsProtocol
