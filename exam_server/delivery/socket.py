"""The exam WebSocket (docs/protocol.md, "Exam delivery"): one connection, one attempt, one state machine.

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

from redis.exceptions import RedisError
from sqlalchemy.exc import SQLAlchemyError
from starlette import status
from starlette.websockets import WebSocket, WebSocketDisconnect

from exam_server.db.models import Result
from exam_server.delivery import presence
from exam_server.delivery.attempt_events import note, queue_note
from exam_server.delivery.backpressure import is_exhaustion, retry_after_s
from exam_server.delivery.checkpoint import Claim, Outcome, Snapshot
from exam_server.delivery.credentials import CandidateClaims, TokenError
from exam_server.delivery.messages import message
from exam_server.delivery.outbound import Outbound
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
from exam_server.delivery.revocation import token_is_current
from exam_server.delivery.seq import Clock, Status, Verdict
from exam_server.delivery.services import Services
from exam_server.delivery.watch import note_takeover
from exam_server.grading.grade import result_message

log = logging.getLogger(__name__)


class ConnState(StrEnum):
    AWAITING_HELLO = "awaiting_hello"
    ACTIVE = "active"
    REPLACED = "replaced"
    CLOSED = "closed"  # abandoned: too slow to take its messages


def now_ms() -> int:
    return int(time.time() * 1000)


class Connection:
    """One candidate's socket; everything it is sent goes through its own queue and writer.

    Nobody ever awaits this socket but its writer task (``Outbound``): a phone that stops
    reading fills only its own queue and is closed; it reconnects and resends.
    """

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
        self.clock_v = 0
        # Highest seq this device was told is durable: Redis below it is an older copy.
        self.durable_seen = 0
        # Which claim made this connection the writer; None until the claim returns.
        self.claim_g: int | None = None
        self._later_claim = 0  # a claim by another connection seen before ours returned
        settings = services.settings
        self.out = Outbound(
            ws,
            settings.outbound_queue,
            settings.send_timeout_s,
            self.abandon,
            f"attempt {self.attempt_id}",
        )
        self._reader: asyncio.Task[Any] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        # News that arrives before the first ``state`` waits, so ``state`` is always first.
        self._held: list[dict[str, Any]] | None = []
        # The seq of a change answered `busy`, and until when later ones wait for it.
        self._busy_from = 0
        self._busy_until = 0

    @property
    def opening(self) -> bool:
        """Registered for news, but its hello has not sent ``state`` yet."""
        return self._held is not None

    async def send(self, msg: dict[str, Any]) -> None:
        """Queue a message for this socket; never waits for the socket itself."""
        if self._held is not None and msg.get("type") != "state":
            self._held.append(msg)
            return
        self.out.put(dumps(msg))

    def abandon(self) -> None:
        """Stop serving a socket that does not keep up; its phone reconnects and resends."""
        if self.state is ConnState.ACTIVE:
            self.state = ConnState.CLOSED
        self.services.hub.unregister(self)
        if self._reader is not None:
            self._reader.cancel()

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await self.out.stop()

    def _spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

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

    def claimed(self, generation: int) -> None:
        self.claim_g = generation
        if self._later_claim > generation:
            self._replace()

    def _replace(self) -> None:
        if self.state is not ConnState.ACTIVE:
            return
        self.state = ConnState.REPLACED
        self._held = None
        self.out.put(
            dumps({"type": "error", "code": "replaced", "message": message("replaced", self.lang)})
        )
        self.out.close(status.WS_1008_POLICY_VIOLATION)

    # -- news from other workers -------------------------------------------------------
    async def on_event(self, event: dict[str, Any]) -> None:
        """News for this attempt; only queues messages, never waits on the socket or a DB."""
        kind = event.get("t")
        if kind == "replaced":
            if event.get("c") == self.conn_id:
                return
            g = int(event.get("g", 0) or 0)
            if self.claim_g is None:  # our claim has not returned: decide when it does
                self._later_claim = max(self._later_claim, g)
            elif g == 0 or g > self.claim_g:  # g 0: this connection's own write was refused
                self._replace()
        elif kind == "durable":
            self.durable_seen = max(self.durable_seen, int(event["s"]))
            await self.send({"type": "durable", "seq": int(event["s"])})
        elif kind == "closed":
            self.clock = Clock(True, self.clock.starts_ms, self.clock.deadline_ms)
            await self.send_time()
        elif kind == "clock":
            v = int(event.get("v", 0) or 0)
            if v and v < self.clock_v:
                return  # an older clock delivered late
            self.clock_v = max(self.clock_v, v)
            self.clock = Clock(
                self.clock.submitted,
                self.clock.starts_ms,
                int(event["deadline_ms"]),
                int(event["paused_at_ms"]),
            )
            await self.send_time()
        elif kind == "resync":
            # Redis was rebuilt from PostgreSQL: a fresh state tells the phone which of its
            # acknowledged changes the server holds, and it resends the rest.
            if self._held is None and self.state is ConnState.ACTIVE:
                self._spawn(self.send_state())
        elif kind == "graded":
            self._spawn(self.send_result())
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
    async def send_state(self, snap: Snapshot | None = None) -> None:
        snap = snap or await self.services.store.load(self.attempt_id)
        if snap is None:
            snap, _ = await self.services.resync(self.attempt_id, conn=self.conn_id)
        self.clock = snap.clock
        self.clock_v = max(self.clock_v, snap.clock_v)
        self.durable_seen = max(self.durable_seen, snap.durable_seq)
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

    async def handle(self, text: str, received_ms: int) -> None:
        """One message from the phone; ``received_ms``: when it arrived (a change that
        arrived before the deadline counts, however long its turn took)."""
        settings = self.services.settings
        msg = parse(text, settings.max_message_bytes, settings.max_json_depth)
        if isinstance(msg, BadMessage):
            await self.error("bad_message", msg.seq, detail=msg.reason)
        elif isinstance(msg, Ping):
            await self.send({"type": "pong", "t": msg.t})
        elif isinstance(msg, Get):
            # The paper is shown only while the clock runs: not in the waiting room, not
            # during a pause, not after submitting (docs/protocol.md, ``not_running``).
            status_now = self.clock.status(now_ms())
            if status_now is not Status.RUNNING:
                await self.error("not_running", status=status_now.value)
            elif not 0 <= msg.q < self.paper.n:
                await self.error("bad_message", detail=f"q {msg.q} is out of range")
            else:
                question = self.services.papers.question_message(self.paper, msg.q)
                qid = self.paper.question_ids[msg.q]
                grant = self.services.tokens.media_grant(self.attempt_id, qid)
                await self.send({**question, "images_base": f"/media/{qid}/{grant}/"})
        elif isinstance(msg, Hello):
            await self.error("bad_message", detail="hello was already received")
        elif isinstance(msg, Focus):  # news for the proctor's room view (issue 14)
            await presence.safely(
                presence.focus(
                    self.services.redis,
                    self.paper.session_id,
                    self.attempt_id,
                    msg.hidden,
                    now_ms(),
                )
            )
        elif self._busy_from and msg.seq > self._busy_from and received_ms < self._busy_until:
            # An earlier change was answered `busy` and will come again first: this one
            # would only be out of order. `busy` at once, without a Redis round trip.
            await self._busy(msg.seq)
        else:
            self._busy_from = 0
            try:
                await self.change(msg, received_ms)
            except Exception as exc:
                if not is_exhaustion(exc):
                    raise
                # Not applied; the page keeps the change and sends it again (docs/protocol.md).
                wait_ms = self._retry_ms()
                self._busy_from = msg.seq
                self._busy_until = received_ms + 3 * wait_ms
                await self._busy(msg.seq, wait_ms, exc)

    async def _busy(
        self, seq: int, wait_ms: int | None = None, exc: Exception | None = None
    ) -> None:
        services = self.services
        services.busy_changes += 1
        if services.busy_changes % 1000 == 1:  # one line per thousand, not one per change
            log.warning(
                "changes answered busy: %d so far (%s)",
                services.busy_changes,
                type(exc).__name__ if exc else "an earlier change was",
            )
        await self.error("busy", seq, retry_after_ms=wait_ms or self._retry_ms())

    def _retry_ms(self) -> int:
        return retry_after_s(self.services.settings.busy_retry_after_s) * 1000

    async def change(self, change: Change, received_ms: int) -> None:
        problem = self.services.papers.invalid_change(self.paper, change)
        if problem:
            await self.error("bad_message", change.seq, detail=problem)
            return
        store = self.services.store
        outcome = await store.apply(self.attempt_id, self.conn_id, change, received_ms, self.device)
        if outcome.missing or outcome.verdict is Verdict.OUT_OF_ORDER:
            # Redis lost this attempt, or a gap: Redis may hold an older copy than
            # PostgreSQL, and a seq it would hand out again is already taken there.
            # Compare, rebuild what is older, then decide again.
            snap = None if outcome.missing else await store.load(self.attempt_id)
            _, mask = await self.services.resync(
                self.attempt_id, snap, conn=self.conn_id, device=self.device
            )
            if mask:
                outcome = await store.apply(
                    self.attempt_id, self.conn_id, change, received_ms, self.device
                )
        await self._answer(change, outcome)

    async def _answer(self, change: Change, outcome: Outcome) -> None:
        if outcome.replaced:
            self._replace()
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
    hello = parse(first, services.settings.max_message_bytes, services.settings.max_json_depth)
    if not isinstance(hello, Hello):
        await _refuse(ws, "bad_message", "id")
        return
    try:
        claims = services.tokens.read(hello.token)
    except TokenError as exc:
        await _refuse(ws, exc.code, "id")
        return
    try:
        with services.hello_gate.enter():
            conn = await _open(ws, services, claims, hello.device)
    except Exception as exc:
        if not is_exhaustion(exc) and not isinstance(
            exc, SQLAlchemyError | RedisError | LookupError
        ):
            raise
        # Past capacity, or PostgreSQL unreachable for an attempt Redis cannot serve alone:
        # `busy` with a time to retry, then 1013 "try again later" (docs/protocol.md).
        log.warning("hello for attempt %s answered busy: %s", claims.attempt_id, exc)
        await _retry_later(ws, services, claims.lang)
        return
    if conn is None:
        await _refuse(ws, "bad_token", claims.lang)
        return
    try:
        while conn.state is ConnState.ACTIVE:
            frame = await ws.receive()
            if frame["type"] == "websocket.disconnect":
                break
            text = frame.get("text")
            if text is None:
                await conn.error("bad_message", detail="binary frames are not part of the protocol")
                continue
            await conn.handle(text, now_ms())
    except WebSocketDisconnect:
        pass
    except asyncio.CancelledError:
        if conn.state is not ConnState.CLOSED:
            raise  # a shutdown, not our own abandoning of a slow socket
    finally:
        services.hub.unregister(conn)
        await conn.stop()
        gone = "replaced" if conn.state is ConnState.REPLACED else "disconnect"
        with contextlib.suppress(Exception):  # the story may miss a line; the socket must close
            await note(services.redis, conn.attempt_id, gone, conn.device)
        await presence.safely(
            presence.bye(
                services.redis, conn.paper.session_id, conn.attempt_id, conn.conn_id, now_ms()
            )
        )


def _where(ws: WebSocket) -> dict[str, str]:
    # Which machine and browser, for the attempt's story (docs/results.md).
    host = ws.client.host if ws.client else ""
    return {"ip": host, "ua": ws.headers.get("user-agent", "")[:200]}


async def _open(
    ws: WebSocket, services: Services, claims: CandidateClaims, device: str
) -> Connection | None:
    """Paper, checkpoint and claim: from Redis for a prepared session (docs/operations.md),
    compared with PostgreSQL when it answers (docs/protocol.md, "Redis lost or behind").
    None: no such paper, or a token of a password reissued since (docs/security.md)."""
    paper = await services.papers.paper(claims.attempt_id)
    if paper is None or not await token_is_current(services, claims):
        return None
    conn = Connection(ws, services, paper, claims.lang, device)
    conn._reader = asyncio.current_task()
    services.hub.register(conn)
    try:
        snap = await _take_over(services, conn)
        # News for the attempt's story and the proctor's room: one round trip, and never a
        # reason to fail the socket.
        async with services.redis.pipeline(transaction=False) as pipe:
            queue_note(pipe, conn.attempt_id, "connect", device, _where(ws))
            presence.queue_hello(
                pipe, paper.session_id, conn.attempt_id, conn.conn_id, device, now_ms()
            )
            with contextlib.suppress(RedisError):
                await pipe.execute()
        await conn.send_state(snap)
    except BaseException:
        conn.state = ConnState.REPLACED
        services.hub.unregister(conn)
        await conn.stop()
        raise
    if conn.clock.submitted:
        conn._spawn(conn.send_result())
    return conn


async def _take_over(services: Services, conn: Connection) -> Snapshot:
    """Claim the attempt; compare it with PostgreSQL only when Redis cannot vouch for it.

    Redis vouches for a checkpoint that this Redis server made from a prepared paper or
    compared with PostgreSQL, and that is not behind the write-behind's last commit
    (``Claim.trusted``): the 08:00 hello then reads Redis only (docs/operations.md,
    "Prepared sessions"). Otherwise PostgreSQL is asked and what Redis holds older is
    rebuilt (docs/protocol.md, "Redis lost or behind"); PostgreSQL down: Redis's copy is
    used as it is (answers keep being acknowledged), unless Redis has none either. The
    claim only takes an existing checkpoint, so a Redis loss meanwhile means: again.
    """
    store, attempt_id = services.store, conn.attempt_id
    for _ in range(3):
        claim, snap = await store.open(
            attempt_id, conn.conn_id, conn.device, services.worker_id, now_ms()
        )
        if claim.generation and claim.trusted:
            return await _claimed(services, conn, claim, snap)
        try:
            snap, _mask = await services.resync(attempt_id, snap, conn.conn_id, conn.device)
        except (SQLAlchemyError, OSError) as exc:
            if snap is None:
                raise
            log.warning("attempt %s: PostgreSQL unreachable, Redis copy used (%s)", attempt_id, exc)
        if claim.generation:
            loaded = await store.load(attempt_id)
            return await _claimed(services, conn, claim, loaded or snap)
    raise LookupError(f"attempt {attempt_id} keeps vanishing from Redis")


async def _claimed(
    services: Services, conn: Connection, claim: Claim, snap: Snapshot | None
) -> Snapshot:
    conn.claimed(claim.generation)
    await note_takeover(services, conn.attempt_id, claim.previous_worker)
    if snap is None:
        raise LookupError(f"attempt {conn.attempt_id} vanished from Redis")
    return snap


async def _retry_later(ws: WebSocket, services: Services, lang: str) -> None:
    with contextlib.suppress(Exception):
        body = {
            "type": "error",
            "code": "busy",
            "message": message("busy", lang),
            "retry_after_ms": retry_after_s(services.settings.busy_retry_after_s) * 1000,
        }
        await ws.send_text(json.dumps(body))
        await ws.close(code=status.WS_1013_TRY_AGAIN_LATER)


async def _refuse(
    ws: WebSocket, code: str, lang: str, *, code_close: int | None = None, **extra: Any
) -> None:
    with contextlib.suppress(Exception):
        await ws.send_text(
            json.dumps({"type": "error", "code": code, "message": message(code, lang), **extra})
        )
        await ws.close(code=code_close or status.WS_1008_POLICY_VIOLATION)
