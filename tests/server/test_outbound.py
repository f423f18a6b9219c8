"""One socket's writer (exam_server/delivery/outbound.py): what is queued leaves in order
under one deadline, and a socket that stops taking messages is given up, not awaited."""

from __future__ import annotations

import asyncio

from starlette.websockets import WebSocketState

from exam_server.delivery.outbound import Outbound


class Phone:
    """Stands in for Starlette's WebSocket: takes ``takes`` messages, then stops reading."""

    application_state = WebSocketState.CONNECTED

    def __init__(self, takes: int = 1_000) -> None:
        self.takes = takes
        self.got: list[str] = []
        self.closed_with: int | None = None

    async def send_text(self, text: str) -> None:
        if len(self.got) >= self.takes:
            await asyncio.sleep(3600)  # a phone whose buffer is full
        self.got.append(text)

    async def close(self, code: int) -> None:
        self.closed_with = code


async def test_what_is_queued_at_once_leaves_in_order_then_the_close() -> None:
    phone, gave_up = Phone(), []
    out = Outbound(phone, 16, 1.0, lambda: gave_up.append(True), "test")  # type: ignore[arg-type]
    for text in ("state", "ack", "durable"):
        out.put(text)
    out.close(1008)
    await asyncio.sleep(0.05)
    assert phone.got == ["state", "ack", "durable"] and phone.closed_with == 1008
    assert not gave_up


async def test_a_send_past_the_deadline_gives_the_socket_up() -> None:
    phone, gave_up = Phone(takes=1), []
    out = Outbound(phone, 16, 0.2, lambda: gave_up.append(True), "test")  # type: ignore[arg-type]
    out.put("ack 1")
    out.put("ack 2")
    await asyncio.sleep(0.5)
    assert phone.got == ["ack 1"] and gave_up == [True]
    await out.stop()


async def test_a_full_queue_gives_the_socket_up_without_waiting() -> None:
    phone, gave_up = Phone(takes=0), []
    out = Outbound(phone, 2, 5.0, lambda: gave_up.append(True), "test")  # type: ignore[arg-type]
    for n in range(4):  # the first is stuck in the send, two wait, the fourth has no room
        out.put(f"msg {n}")
        await asyncio.sleep(0)
    assert gave_up == [True]
