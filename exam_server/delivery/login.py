"""Candidate login (docs/protocol.md, "Candidate login"): ``POST /api/v1/candidate/login``.

Cheap by design for the 08:00 burst: for a prepared session, one Redis round trip and an
HMAC check (docs/operations.md, "Prepared sessions"); otherwise PostgreSQL: one indexed
lookup, the session lookup and, on the first login only, the creation of the paper.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from typing import Any

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import JSONResponse

from exam_server.db.models import Candidate, Exam, ExamSection, ExamSession, SessionCandidate
from exam_server.delivery.backpressure import busy_response, is_exhaustion
from exam_server.delivery.credentials import (
    check_password,
    credential_version,
    session_token_valid,
)
from exam_server.delivery.input_limits import InputRefused, loads_limited, read_body
from exam_server.delivery.messages import error_body
from exam_server.delivery.papers import open_attempt
from exam_server.delivery.prepare import candidate_info, login_info
from exam_server.delivery.prepared import Lookup
from exam_server.delivery.services import Services
from exam_server.delivery.throttle import (
    Throttle,
    candidate_throttle,
    is_locked,
    may_enter,
    request_address,
)

log = logging.getLogger(__name__)

STATUS = {
    "bad_request": 400,
    "too_large": 413,
    "bad_credentials": 401,
    "bad_session_token": 403,
    "not_scheduled_now": 403,
    "already_submitted": 409,
    "exam_not_ready": 409,
    "too_many_attempts": 429,
}


def request_lang(request: Request, body: dict[str, Any] | None = None) -> str:
    lang = (
        (body or {}).get("lang")
        or request.query_params.get("lang")
        or request.cookies.get("tkd_lang")
    )
    if lang in ("id", "en"):
        return str(lang)
    return request.app.state.services.settings.default_lang  # type: ignore[no-any-return]


def _fail(code: str, lang: str) -> JSONResponse:
    return JSONResponse(error_body(code, lang), status_code=STATUS[code])


async def candidate_login(request: Request) -> JSONResponse:
    services: Services = request.app.state.services
    try:
        with services.login_gate.enter():
            return await _login(request, services)
    except Exception as exc:
        if not is_exhaustion(exc):
            raise
        # Past capacity: a queue, never a 500 (docs/protocol.md, `busy`).
        log.warning("login answered busy: %s", type(exc).__name__)
        return busy_response(request_lang(request), services.settings.busy_retry_after_s)


async def _login(request: Request, services: Services) -> JSONResponse:
    settings = services.settings
    try:
        raw = await read_body(request, settings.max_body_bytes)
        body = loads_limited(raw, settings.max_body_bytes, settings.max_json_depth)
    except InputRefused as exc:
        return _fail("too_large" if exc.too_large else "bad_request", request_lang(request))
    if not isinstance(body, dict):
        return _fail("bad_request", request_lang(request))
    lang = request_lang(request, body)
    number, password = body.get("participant_no"), body.get("password")
    if (
        not isinstance(number, str)
        or not isinstance(password, str)
        or not number
        or len(number) > 64
        or len(password) > settings.max_field_chars
    ):
        return _fail("bad_request", lang)
    number = number.strip().upper()
    # Counted per (number, address) and per address: docs/security.md, "Lockouts".
    throttle = Guard(candidate_throttle(services.redis, settings), number, request_address(request))
    await throttle.check()
    now_ms = int(time.time() * 1000)
    found = await services.prepared.lookup(number, now_ms, settings.early_login_s * 1000)
    if found.login is not None:
        return await _prepared_login(services, body, password, lang, throttle, found)
    return await _database_login(services, body, number, password, lang, throttle)


class Guard:
    """One login's lockout: whether its number and address were locked when it began, and
    the failures and success it reports (docs/security.md, "Lockouts")."""

    def __init__(self, throttle: Throttle, number: str, address: str) -> None:
        self.throttle, self.number, self.address = throttle, number, address
        self.locked = False
        self.failed_before = False

    async def check(self) -> None:
        counts = await self.throttle.counts(self.number, self.address)
        self.locked = is_locked(self.throttle.budget, counts)
        self.failed_before = counts.pair > 0

    async def bad_password(self, lang: str) -> JSONResponse:
        await self.throttle.fail(self.number, self.address)
        return _fail("too_many_attempts" if self.locked else "bad_credentials", lang)

    async def refused_room(self, room_token_ok: bool | None, lang: str) -> JSONResponse | None:
        """None when the candidate may enter; a locked number needs the right room token."""
        if may_enter(self.locked, True, room_token_ok):
            return None
        if room_token_ok is False:  # a guessed room token counts like a guessed password
            await self.throttle.fail(self.number, self.address)
        return _fail("too_many_attempts" if self.locked else "bad_session_token", lang)

    async def succeeded(self) -> None:
        # Most logins had no failure to forget: no round trip for them at 08:00.
        if self.failed_before:
            await self.throttle.succeed(self.number, self.address)


def _room_token_ok(
    body: dict[str, Any], secret: str, required: bool, session_id: int, period_s: int
) -> bool | None:
    if not required:
        return None
    given = body.get("session_token")
    return isinstance(given, str) and session_token_valid(secret, session_id, period_s, given[:64])


async def _prepared_login(
    services: Services,
    body: dict[str, Any],
    password: str,
    lang: str,
    throttle: Guard,
    found: Lookup,
) -> JSONResponse:
    """The 08:00 path: the lookup's one Redis round trip plus an HMAC, no PostgreSQL."""
    secret = services.settings.secret_key_value
    login = found.login
    assert login is not None
    if not check_password(secret, password.strip(), login.password_hash):
        return await throttle.bad_password(lang)
    seat = login.seat
    room_ok = _room_token_ok(
        body, secret, seat.token_required, seat.session_id, seat.token_period_s
    )
    refused = await throttle.refused_room(room_ok, lang)
    if refused is not None:
        return refused
    if seat.submitted:
        return _fail("already_submitted", lang)
    await throttle.succeeded()
    version = credential_version(login.password_hash)
    return JSONResponse(
        {
            "token": services.tokens.issue(seat.attempt_id, login.candidate_id, lang, version),
            "ws_url": "/ws/v1/exam",
            "lang": lang,
            "candidate": login.info,
            **seat.info,
        }
    )


async def _database_login(
    services: Services,
    body: dict[str, Any],
    number: str,
    password: str,
    lang: str,
    throttle: Guard,
) -> JSONResponse:
    """Not prepared (a late seat, a lost Redis): PostgreSQL decides; correct, just slower."""
    settings = services.settings
    now = dt.datetime.now(dt.UTC)
    async with services.sessions() as db:
        candidate = await db.scalar(select(Candidate).where(Candidate.participant_no == number))
        if candidate is None or not check_password(
            settings.secret_key_value, password.strip(), candidate.password_hash
        ):
            return await throttle.bad_password(lang)
        session = await db.scalar(
            select(ExamSession)
            .join(SessionCandidate, SessionCandidate.session_id == ExamSession.id)
            .where(
                SessionCandidate.candidate_id == candidate.id,
                ExamSession.starts_at - dt.timedelta(seconds=settings.early_login_s) <= now,
                ExamSession.ends_at > now,
            )
            .order_by(ExamSession.starts_at)
            .limit(1)
        )
        if session is None:
            return _fail("not_scheduled_now", lang)
        room_ok = _room_token_ok(
            body,
            settings.secret_key_value,
            session.token_required,
            session.id,
            session.token_period_s,
        )
        refused = await throttle.refused_room(room_ok, lang)
        if refused is not None:
            return refused
        prepared_id = await services.prepared.prepared_attempt(session.id, candidate.id)
        paper = await services.prepared.paper(prepared_id) if prepared_id else {}
        try:
            attempt = await open_attempt(
                db,
                candidate.id,
                session,
                now,
                (prepared_id, paper) if prepared_id and paper else None,
            )
        except ValueError as exc:  # a pool too small for its blueprint: the committee's to fix
            log.error(
                "exam %s cannot be drawn for candidate %s: %s", session.exam_id, candidate.id, exc
            )
            return _fail("exam_not_ready", lang)
        exam = await db.get(Exam, session.exam_id)
        assert exam is not None
        sections = list(
            await db.scalars(
                select(ExamSection)
                .where(ExamSection.exam_id == exam.id)
                .order_by(ExamSection.position)
            )
        )
    await throttle.succeeded()
    # The checkpoint is the live truth: a submit is there before PostgreSQL hears of it.
    snapshot = await services.store.load(attempt.id) or await services.restore_checkpoint(
        attempt.id
    )
    if snapshot.clock.submitted:
        return _fail("already_submitted", lang)
    return JSONResponse(
        {
            "token": services.tokens.issue(
                attempt.id, candidate.id, lang, credential_version(candidate.password_hash)
            ),
            "ws_url": "/ws/v1/exam",
            "lang": lang,
            "candidate": candidate_info(candidate),
            **login_info(session, exam, sections),
        }
    )
