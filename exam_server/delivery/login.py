"""Candidate login (CONTRACT section 4): ``POST /api/v1/candidate/login``.

Cheap by design for the 08:00 burst: one indexed lookup, an HMAC check, the session
lookup and, on the first login only, the creation of the candidate's paper.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from typing import Any

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import JSONResponse

from exam_server.db.models import Candidate, Exam, ExamSection, ExamSession, SessionCandidate
from exam_server.delivery.credentials import check_password, session_token_valid
from exam_server.delivery.messages import error_body
from exam_server.delivery.papers import open_attempt
from exam_server.services import Services
from exam_server.web.rendering import session_time

log = logging.getLogger(__name__)

STATUS = {
    "bad_request": 400,
    "bad_credentials": 401,
    "bad_session_token": 403,
    "not_scheduled_now": 403,
    "already_submitted": 409,
    "exam_not_ready": 409,
    "too_many_attempts": 429,
}


def mask_nik(nik: str) -> str:
    """Show enough to recognise one's own NIK on screen, not enough to copy it."""
    return nik[:4] + "*" * 8 + nik[-4:] if len(nik) == 16 else "*" * len(nik)


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
    settings = services.settings
    try:
        body = json.loads(await request.body())
    except ValueError:
        return _fail("bad_request", request_lang(request))
    if not isinstance(body, dict):
        return _fail("bad_request", request_lang(request))
    lang = request_lang(request, body)
    number, password = body.get("participant_no"), body.get("password")
    if (
        not isinstance(number, str)
        or not isinstance(password, str)
        or not number
        or len(number) > 64
    ):
        return _fail("bad_request", lang)
    number = number.strip().upper()
    fail_key = f"tkd:login:fail:{number}"
    failures = int(await services.redis.get(fail_key) or 0)
    if failures >= settings.login_failures_allowed:
        return _fail("too_many_attempts", lang)

    now = dt.datetime.now(dt.UTC)
    async with services.sessions() as db:
        candidate = await db.scalar(select(Candidate).where(Candidate.participant_no == number))
        if candidate is None or not check_password(
            settings.secret_key_value, password.strip(), candidate.password_hash
        ):
            async with services.redis.pipeline(transaction=True) as pipe:
                pipe.incr(fail_key)
                pipe.expire(fail_key, settings.login_lockout_s)
                await pipe.execute()
            return _fail("bad_credentials", lang)
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
        if session.token_required:
            given = body.get("session_token")
            if not isinstance(given, str) or not session_token_valid(
                settings.secret_key_value, session.id, session.token_period_s, given
            ):
                return _fail("bad_session_token", lang)
        try:
            attempt = await open_attempt(db, candidate.id, session, now)
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
    await services.redis.delete(fail_key)
    # The checkpoint is the live truth: a submit is there before PostgreSQL hears of it.
    snapshot = await services.store.load(attempt.id) or await services.restore_checkpoint(
        attempt.id
    )
    if snapshot.clock.submitted:
        return _fail("already_submitted", lang)
    return JSONResponse(
        {
            "token": services.tokens.issue(attempt.id, candidate.id, lang),
            "ws_url": "/ws/v1/exam",
            "lang": lang,
            "candidate": {
                "name": candidate.name,
                "participant_no": candidate.participant_no,
                "nik_masked": mask_nik(candidate.nik),
                "unit": candidate.unit,
            },
            "session": {
                "name": session.name,
                "room": session.room,
                "starts_at": session.starts_at.isoformat(),
                "ends_at": session.ends_at.isoformat(),
                # Issue 15: the session's own zone, and its times as people there read them.
                "time_zone": session.time_zone,
                "starts_local": session_time(session.starts_at, session, "%d-%m-%Y %H:%M"),
                "ends_local": session_time(session.ends_at, session, "%H:%M"),
            },
            "exam": {
                "title": exam.title,
                "sections": [
                    {
                        "code": s.code,
                        "name": s.name,
                        "count": s.question_count,
                        "minutes": s.minutes,
                    }
                    for s in sections
                ],
                "minutes": exam.shared_minutes or sum(s.minutes or 0 for s in sections),
                "rules_id": exam.rules_id,
                "rules_en": exam.rules_en,
            },
        }
    )
