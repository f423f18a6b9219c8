"""One socket's outbound queue and writer task: nobody else ever awaits the socket.

A phone that stops reading fills only its own queue; when the queue is full or one send
takes longer than the timeout, the socket is given up (``on_give_up``), and the phone
reconnects and resends (docs/protocol.md, "One writer, one queue").
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

log = logging.getLogger(__name__)

_CLOSE = object()  # close the socket after what is queued


class Outbound:
    def __init__(
        self,
        ws: WebSocket,
        max_queued: int,
        send_timeout_s: float,
        on_give_up: Callable[[], None],
        label: str,
    ) -> None:
        self.ws = ws
        self.timeout = send_timeout_s
        self.on_give_up = on_give_up
        self.label = label
        self._queue: asyncio.Queue[Any] = asyncio.Queue(max_queued)
        self._writer = asyncio.create_task(self._write(), name=f"ws-writer-{label}")

    def put(self, text: str) -> None:
        """Queue one frame; never waits."""
        self._put(text)

    def close(self, code: int) -> None:
        self._put((_CLOSE, code))

    def _put(self, item: Any) -> None:
        try:
            self._queue.put_nowait(item)
        except asyncio.QueueFull:
            log.warning("%s: socket not reading, closing it", self.label)
            self.give_up()

    def give_up(self) -> None:
        self._writer.cancel()
        self.on_give_up()

    async def _write(self) -> None:
        while True:
            item = await self._queue.get()
            try:
                # One deadline for all that is queued now, not a task per message: at
                # thousands of sockets ``wait_for``'s task per send was a measurable share
                # of a worker's CPU (docs/benchmarks.md, "20,000 candidates").
                async with asyncio.timeout(self.timeout):
                    while True:
                        if isinstance(item, tuple) and item[0] is _CLOSE:
                            await self.ws.close(code=item[1])
                            return
                        if self.ws.application_state != WebSocketState.CONNECTED:
                            return
                        await self.ws.send_text(item)
                        if self._queue.empty():
                            break
                        item = self._queue.get_nowait()
            except TimeoutError:
                log.warning("%s: a send took over %s s, closing", self.label, self.timeout)
                self.on_give_up()
                return
            except (WebSocketDisconnect, RuntimeError, OSError):
                return

    async def stop(self) -> None:
        """Let the writer finish what is queued (for a second at most), then stop it."""
        if not self._writer.done():
            with contextlib.suppress(TimeoutError, asyncio.CancelledError, Exception):
                await asyncio.wait_for(asyncio.shield(self._drain()), 1.0)
            self._writer.cancel()

    async def _drain(self) -> None:
        while not self._queue.empty() and not self._writer.done():
            await asyncio.sleep(0.01)
