"""The exam WebSocket (CONTRACT section 5): one connection, one attempt, one state machine.

States: ``AWAITING_HELLO`` until a valid ``hello`` (10 s at most), then ``ACTIVE`` until the
socket closes or another device takes the attempt over (``REPLACED``). Every change goes
through the checkpoint store before it is acknowledged; a bad message gets ``bad_message``
and changes nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
from enum import StrEnum
from typing import Any

from starlette import status
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from exam_server.db.models import Result
from exam_server.delivery.checkpoint import Outcome
from exam_server.delivery.credentials import TokenError
from exam_server.delivery.messages import message
from exam_server.delivery.papers import Paper
from exam_server.delivery.protocol import (
    BadMessage,
    Change,
    Focus,
    Get,
    Hello,
    Ping,
    Submit,
    dumps,
    parse,
)
from exam_server.delivery.seq import Clock, Verdict
from exam_server.grading.grade import result_message
from exam_server.proctor import presence
from exam_server.services import Services

log = logging.getLogger(__name__)


class ConnState(StrEnum):
    AWAITING_HELLO = "awaiting_hello"
    ACTIVE = "active"
    REPLACED = "replaced"


def now_ms() -> int:
    return int(time.time() * 1000)


class Connection:
    def __init__(
        self, ws: WebSocket, services: Services, paper: Paper, lang: str, device: str
    ) -> None:
        self.ws = ws
        self.services = services
        self.paper = paper
        self.attempt_id = paper.attempt_id
        self.lang = lang
        self.device = device
        self.conn_id = uuid.uuid4().hex
        self.state = ConnState.ACTIVE
        self.clock = Clock(False, 0, 0)
        self._send_lock = asyncio.Lock()
        # News that arrives before the first ``state`` waits, so ``state`` is always first.
        self._held: list[dict[str, Any]] | None = []

    async def send(self, msg: dict[str, Any]) -> None:
        if self._held is not None and msg.get("type") != "state":
            self._held.append(msg)
            return
        if self.ws.application_state != WebSocketState.CONNECTED:
            return
        async with self._send_lock:
            with contextlib.suppress(WebSocketDisconnect, RuntimeError, OSError):
                await self.ws.send_text(dumps(msg))

    async def error(self, code: str, seq: int | None = None, **extra: Any) -> None:
        body: dict[str, Any] = {"type": "error", "code": code, "message": message(code, self.lang)}
        if seq is not None:
            body["seq"] = seq
        await self.send({**body, **extra})

    async def send_time(self) -> None:
        t = now_ms()
        await self.send(
            {
                "type": "time",
                "remaining_ms": self.clock.remaining_ms(t),
                "status": self.clock.status(t).value,
                # Without it a waiting room would take every time message as "starting now".
                "starts_in_ms": max(0, self.clock.starts_ms - t),
            }
        )

    # -- news from other workers -------------------------------------------------------
    async def on_event(self, event: dict[str, Any]) -> None:
        kind = event.get("t")
        if kind == "replaced" and event.get("c") != self.conn_id and self.state is ConnState.ACTIVE:
            self.state = ConnState.REPLACED
            self._held = None
            await self.error("replaced")
            with contextlib.suppress(Exception):
                await self.ws.close(code=status.WS_1008_POLICY_VIOLATION)
        elif kind == "durable":
            await self.send({"type": "durable", "seq": int(event["s"])})
        elif kind == "closed":
            self.clock = Clock(True, self.clock.starts_ms, self.clock.deadline_ms)
            await self.send_time()
        elif kind == "clock":
            self.clock = Clock(
                self.clock.submitted,
                self.clock.starts_ms,
                int(event["deadline_ms"]),
                int(event["paused_at_ms"]),
            )
            await self.send_time()
        elif kind == "graded":
            await self.send_result()
        elif kind == "notice":
            await self.send({"type": "notice", "message": event.get("message", "")})

    async def send_result(self) -> None:
        if self.paper.results_release != "immediate":
            return
        async with self.services.sessions() as db:
            result = await db.get(Result, self.attempt_id)
        if result is not None:
            await self.send(result_message(result))

    # -- the candidate's messages --------------------------------------------------------
    async def send_state(self) -> None:
        snap = await self.services.store.load(self.attempt_id)
        if snap is None:
            snap = await self.services.restore_checkpoint(self.attempt_id)
        self.clock = snap.clock
        t = now_ms()
        await self.send(
            {
                "type": "state",
                "status": snap.clock.status(t).value,
                "remaining_ms": snap.clock.remaining_ms(t),
                "starts_in_ms": max(0, snap.clock.starts_ms - t),
                "questions": self.paper.n,
                "sections": [
                    {k: s[k] for k in ("code", "name", "start", "count")}
                    for s in self.paper.sections
                ],
                "answers": {str(q): v for q, v in sorted(snap.answers.items())},
                "doubts": sorted(snap.doubts),
                "last_seq": snap.last_seq,
                "durable_seq": snap.durable_seq,
                "result_available": snap.clock.submitted
                and self.paper.results_release == "immediate",
                "server_time_ms": t,
            }
        )
        held, self._held = self._held or [], None
        for msg in held:
            await self.send(msg)

    async def handle(self, text: str) -> None:
        msg = parse(text, self.services.settings.max_message_bytes)
        if isinstance(msg, BadMessage):
            await self.error("bad_message", msg.seq, detail=msg.reason)
        elif isinstance(msg, Ping):
            await self.send({"type": "pong", "t": msg.t})
        elif isinstance(msg, Get):
            if not 0 <= msg.q < self.paper.n:
                await self.error("bad_message", detail=f"q {msg.q} is out of range")
            else:
                await self.send(self.services.papers.question_message(self.paper, msg.q))
        elif isinstance(msg, Hello):
            await self.error("bad_message", detail="hello was already received")
        elif isinstance(msg, Focus):  # news for the proctor's room view (issue 14)
            await presence.safely(
                presence.focus(self.services.redis, self.paper.session_id, self.attempt_id,
                               msg.hidden, now_ms())
            )  # fmt: skip
        else:
            await self.change(msg)

    async def change(self, change: Change) -> None:
        problem = self.services.papers.invalid_change(self.paper, change)
        if problem:
            await self.error("bad_message", change.seq, detail=problem)
            return
        store = self.services.store
        outcome = await store.apply(self.attempt_id, self.conn_id, change, now_ms(), self.device)
        if outcome.missing:  # Redis lost this attempt: rebuild from PostgreSQL, then decide
            await self.services.restore_checkpoint(self.attempt_id)
            await store.claim(self.attempt_id, self.conn_id, self.device)
            outcome = await store.apply(
                self.attempt_id, self.conn_id, change, now_ms(), self.device
            )
        await self._answer(change, outcome)

    async def _answer(self, change: Change, outcome: Outcome) -> None:
        if outcome.replaced:
            await self.on_event({"t": "replaced", "c": ""})
            return
        if outcome.clock is not None:
            self.clock = outcome.clock
        verdict = outcome.verdict
        if verdict in (Verdict.APPLY, Verdict.DUPLICATE):
            await self.send({"type": "ack", "seq": change.seq})
            if isinstance(change, Submit) and verdict is Verdict.APPLY:
                self.clock = Clock(True, self.clock.starts_ms, self.clock.deadline_ms)
                await self.send_time()
        elif verdict is Verdict.OUT_OF_ORDER:
            await self.error("out_of_order", change.seq, expected=outcome.last_seq + 1)
        elif verdict is Verdict.TIME_OVER:
            self.clock = Clock(True, self.clock.starts_ms, self.clock.deadline_ms)
            await self.error("time_over", change.seq)
            await self.send_time()
        elif verdict is not None:
            await self.error(verdict.value, change.seq)


async def exam_socket(ws: WebSocket) -> None:
    services: Services = ws.app.state.services
    await ws.accept()
    try:
        first = await asyncio.wait_for(ws.receive_text(), services.settings.hello_timeout_s)
    except (TimeoutError, WebSocketDisconnect, KeyError, RuntimeError):
        with contextlib.suppress(Exception):
            await ws.close(code=status.WS_1008_POLICY_VIOLATION)
        return
    hello = parse(first, services.settings.max_message_bytes)
    if not isinstance(hello, Hello):
        await _refuse(ws, "bad_message", "id")
        return
    try:
        claims = services.tokens.read(hello.token)
    except TokenError as exc:
        await _refuse(ws, exc.code, "id")
        return
    paper = await services.papers.paper(claims.attempt_id)
    if paper is None:
        await _refuse(ws, "bad_token", claims.lang)
        return
    conn = Connection(ws, services, paper, claims.lang, hello.device)
    services.hub.register(conn)
    try:
        if await services.store.load(paper.attempt_id) is None:
            await services.restore_checkpoint(paper.attempt_id)
        await services.store.claim(paper.attempt_id, conn.conn_id, hello.device)
        await presence.safely(presence.hello(services.redis, paper.session_id, paper.attempt_id,
                                             conn.conn_id, hello.device, now_ms()))  # fmt: skip
        await conn.send_state()
        if conn.clock.submitted:
            await conn.send_result()
        while conn.state is ConnState.ACTIVE:
            frame = await ws.receive()
            if frame["type"] == "websocket.disconnect":
                break
            text = frame.get("text")
            if text is None:
                await conn.error("bad_message", detail="binary frames are not part of the protocol")
                continue
            await conn.handle(text)
    except WebSocketDisconnect:
        pass
    finally:
        services.hub.unregister(conn)
        await presence.safely(presence.bye(services.redis, paper.session_id, paper.attempt_id,
                                           conn.conn_id, now_ms()))  # fmt: skip


async def _refuse(ws: WebSocket, code: str, lang: str) -> None:
    with contextlib.suppress(Exception):
        await ws.send_text(
            json.dumps({"type": "error", "code": code, "message": message(code, lang)})
        )
        await ws.close(code=status.WS_1008_POLICY_VIOLATION)
