"""Preparing a session ahead: every seated candidate's paper and login data into Redis.

Run by ``tkd sessions prepare ID``, by the session pages after a change, and by one
worker (elected through Redis) for every session starting within ``prepare_ahead_s``
(docs/operations.md, "Prepared sessions"). PostgreSQL stays the truth: each prepared
session carries a fingerprint of the rows it was built from (session, exam, seated
candidates and their password hashes), and the preparer rebuilds it when that changes,
so a new password, token rule or time reaches the 08:00 path within ``prepare_check_s``.
A preparation keeps the papers it handed out before; only new seats get new ones.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
import secrets
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from redis.asyncio import Redis
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from exam_server.db.engine import make_async_engine, session_factory
from exam_server.db.models import (
    Attempt,
    Candidate,
    Exam,
    ExamSection,
    ExamSession,
    Question,
    SessionCandidate,
)
from exam_server.delivery.credentials import credential_version
from exam_server.delivery.loop_lag import pause
from exam_server.delivery.papers import build_paper, delivered_json, section_pools
from exam_server.delivery.prepared import (
    PREFIX,
    cand_key,
    cred_key,
    paper_key,
    questions_key,
    seats_key,
    session_key,
)
from exam_server.delivery.services import redis_client
from exam_server.display import mask_nik, session_time

if TYPE_CHECKING:
    from exam_server.delivery.services import Services

log = logging.getLogger(__name__)

LOCK = "tkd:prep:lock"
PREPARED = "tkd:prep:sessions"  # ids of the sessions prepared, to keep them up to date
KEEP_AFTER_END_S = 2 * 24 * 3600
CHUNK = 1000

FINGERPRINTS = text(
    """
    SELECT s.id, md5(concat_ws('|', s.starts_at, s.ends_at, s.token_required, s.token_period_s,
        s.name, s.room, s.time_zone, e.title, e.rules_id, e.rules_en, e.results_release,
        (SELECT string_agg(concat_ws(':', c.id, c.participant_no, c.password_hash, c.name,
                                     c.unit, c.nik), ',' ORDER BY c.id)
           FROM session_candidates sc JOIN candidates c ON c.id = sc.candidate_id
          WHERE sc.session_id = s.id)))
      FROM exam_sessions s JOIN exams e ON e.id = s.exam_id
     WHERE s.id = ANY(:ids)
    """
)


NEXT_IDS = text(
    "SELECT nextval(pg_get_serial_sequence('attempts', 'id')) FROM generate_series(1, :n)"
)


@dataclass(frozen=True, slots=True)
class Prepared:
    session_id: int
    seated: int
    new_papers: int
    prepared_at_ms: int


def to_ms(moment: dt.datetime) -> int:
    return int(moment.timestamp() * 1000)


def login_info(session: ExamSession, exam: Exam, sections: list[ExamSection]) -> dict[str, Any]:
    """The session and exam parts of the login answer (docs/protocol.md)."""
    return {
        "session": {
            "name": session.name,
            "room": session.room,
            "starts_at": session.starts_at.isoformat(),
            "ends_at": session.ends_at.isoformat(),
            # The session's own zone, and its times as people there read them (as login
            # from PostgreSQL answers: docs/protocol.md).
            "time_zone": session.time_zone,
            "starts_local": session_time(session.starts_at, session, "%d-%m-%Y %H:%M"),
            "ends_local": session_time(session.ends_at, session, "%H:%M"),
        },
        "exam": {
            "title": exam.title,
            "sections": [
                {"code": s.code, "name": s.name, "count": s.question_count, "minutes": s.minutes}
                for s in sections
            ],
            "minutes": exam.shared_minutes or sum(s.minutes or 0 for s in sections),
            "rules_id": exam.rules_id,
            "rules_en": exam.rules_en,
        },
    }


def candidate_info(c: Candidate) -> dict[str, str]:
    return {
        "name": c.name,
        "participant_no": c.participant_no,
        "nik_masked": mask_nik(c.nik),
        "unit": c.unit,
    }


async def fingerprints(db: AsyncSession, session_ids: list[int]) -> dict[int, str]:
    if not session_ids:
        return {}
    return {sid: fp for sid, fp in await db.execute(FINGERPRINTS, {"ids": session_ids})}


async def prepare_session(db: AsyncSession, redis: Redis, session_id: int) -> Prepared:
    """Build and store everything login and ``hello`` need for this session's seats.

    One preparation of a session at a time (a Redis lock): two at once could hand one seat
    two different attempt ids.
    """
    async with redis.lock(f"{PREFIX}building:{session_id}", timeout=600, blocking_timeout=300):
        return await _prepare_session(db, redis, session_id)


async def _prepare_session(db: AsyncSession, redis: Redis, session_id: int) -> Prepared:
    session = await db.get(ExamSession, session_id)
    if session is None:
        raise LookupError(f"no session {session_id}")
    exam = await db.get(Exam, session.exam_id)
    assert exam is not None
    fp = (await fingerprints(db, [session_id]))[session_id]
    sections = list(
        await db.scalars(
            select(ExamSection).where(ExamSection.exam_id == exam.id).order_by(ExamSection.position)
        )
    )
    seated = list(
        await db.scalars(
            select(Candidate)
            .join(SessionCandidate, SessionCandidate.candidate_id == Candidate.id)
            .where(SessionCandidate.session_id == session_id)
        )
    )
    started = {
        a.candidate_id: a
        for a in await db.scalars(select(Attempt).where(Attempt.session_id == session_id))
    }
    # Logins take the slow path while the session is rebuilt, never half-old data.
    await redis.delete(session_key(session_id))
    # Papers remember which Redis server they were written to: a first checkpoint made
    # from a paper that an older server wrote is compared with PostgreSQL (prepared.START).
    run = str((await redis.info("server"))["run_id"])
    old_seats = await redis.hgetall(seats_key(session_id))
    reusable = [c.id for c in seated if c.id not in started and str(c.id) in old_seats]
    exists = await _existing_papers(
        redis, [int(old_seats[str(cid)].split("|")[0]) for cid in reusable]
    )
    aids: dict[int, int] = {cid: a.id for cid, a in started.items()}
    for cid in reusable:
        aid = int(old_seats[str(cid)].split("|")[0])
        if aid in exists:
            aids[cid] = aid
    fresh = [c.id for c in seated if c.id not in aids]
    new_ids: list[int] = []
    if fresh:
        new_ids = [int(i) for i in await db.scalars(NEXT_IDS, {"n": len(fresh)})]
    pools = await section_pools(db, exam.id)
    pool_ids = {ref.id for pool in pools.values() for ref in pool}
    questions = {
        q.id: q for q in await db.scalars(select(Question).where(Question.id.in_(pool_ids)))
    }
    minutes = exam.shared_minutes or sum(s.minutes or 0 for s in sections)
    expire_at = to_ms(session.ends_at) + KEEP_AFTER_END_S * 1000
    papers: dict[int, dict[str, Any]] = {}
    for cid, aid in zip(fresh, new_ids, strict=True):
        seed = secrets.token_hex(16)
        order, opts, layout = build_paper(exam, sections, pools, questions, seed)
        papers[aid] = _paper_hash(cid, session, exam, seed, order, opts, layout, minutes, run)
        aids[cid] = aid
    for cid, a in started.items():
        papers[a.id] = {
            **_paper_hash(
                cid,
                session,
                exam,
                a.seed,
                a.question_ids,
                a.option_orders,
                a.sections,
                minutes,
                run,
            ),
            "started": "1",
        }
    pipe = redis.pipeline(transaction=False)
    if questions:
        pipe.hset(
            questions_key(exam.id),
            mapping={str(q): delivered_json(v) for q, v in questions.items()},
        )
        pipe.pexpireat(questions_key(exam.id), expire_at)
    for n, (aid, paper) in enumerate(papers.items()):
        pipe.hset(paper_key(aid), mapping=paper)
        pipe.pexpireat(paper_key(aid), expire_at)
        if n % CHUNK == CHUNK - 1:
            await pipe.execute()
    seat_numbers = {c.id: c.participant_no for c in seated}
    for cid_text, value in old_seats.items():
        if int(cid_text) not in seat_numbers:  # no longer seated here
            pipe.hdel(cand_key(value.split("|", 1)[1]), f"s:{session_id}")
    pipe.delete(seats_key(session_id))
    if seated:
        pipe.hset(
            seats_key(session_id),
            mapping={str(c.id): f"{aids[c.id]}|{c.participant_no}" for c in seated},
        )
        pipe.pexpireat(seats_key(session_id), expire_at)
    for n, c in enumerate(seated):
        pipe.hset(
            cand_key(c.participant_no),
            mapping={
                "c": c.id,
                "h": c.password_hash,
                "info": json.dumps(candidate_info(c)),
                f"s:{session_id}": aids[c.id],
            },
        )
        pipe.pexpireat(cand_key(c.participant_no), expire_at)
        pipe.set(cred_key(c.id), credential_version(c.password_hash), pxat=expire_at)
        if n % CHUNK == CHUNK - 1:
            await pipe.execute()
    now_ms = int(time.time() * 1000)
    pipe.hset(
        session_key(session_id),
        mapping={
            "starts_ms": to_ms(session.starts_at),
            "ends_ms": to_ms(session.ends_at),
            "token_required": "1" if session.token_required else "0",
            "token_period_s": session.token_period_s,
            "info": json.dumps(login_info(session, exam, sections)),
            "fp": fp,
            "prepared_at_ms": now_ms,
            "count": len(seated),
        },
    )
    pipe.pexpireat(session_key(session_id), expire_at)
    pipe.sadd(PREPARED, session_id)
    await pipe.execute()
    return Prepared(session_id, len(seated), len(fresh), now_ms)


def _paper_hash(
    cid: int,
    session: ExamSession,
    exam: Exam,
    seed: str,
    order: list[int],
    opts: list[list[str]],
    layout: list[dict[str, Any]],
    minutes: int,
    run: str,
) -> dict[str, Any]:
    return {
        "run": run,
        "c": cid,
        "s": session.id,
        "e": exam.id,
        "seed": seed,
        "qids": json.dumps(order),
        "opts": json.dumps(opts),
        "secs": json.dumps(layout),
        "minutes": minutes,
        "rr": exam.results_release,
    }


async def _existing_papers(redis: Redis, aids: list[int]) -> set[int]:
    pipe = redis.pipeline(transaction=False)
    for aid in aids:
        pipe.exists(paper_key(aid))
    found = await pipe.execute() if aids else []
    return {aid for aid, there in zip(aids, found, strict=True) if there}


def stale(starts_at: dt.datetime, now: dt.datetime, stored_fp: str | None, fp: str) -> bool:
    """Whether a session needs (re)preparing (pure).

    Not yet started and not prepared as it is now: prepare it. Already started: only keep
    a preparation up to date; a running session nobody prepared is served by PostgreSQL,
    as it was when its candidates began.
    """
    if stored_fp is None:
        return starts_at > now
    return stored_fp != fp


async def stale_sessions(db: AsyncSession, redis: Redis, ahead_s: int) -> list[int]:
    """Sessions to (re)build: those near their start, and those prepared earlier whose rows
    changed since (a time moved later, a new password); a deleted or ended one is forgotten."""
    now = dt.datetime.now(dt.UTC)
    prepared = {int(x) for x in await redis.smembers(PREPARED)}
    rows = list(
        await db.execute(
            select(ExamSession.id, ExamSession.starts_at, ExamSession.ends_at).where(
                (ExamSession.starts_at <= now + dt.timedelta(seconds=ahead_s))
                | ExamSession.id.in_(prepared)
            )
        )
    )
    live = [(sid, starts_at) for sid, starts_at, ends_at in rows if ends_at > now]
    gone = prepared - {sid for sid, _ in live}
    if gone:
        await forget_sessions(redis, gone)
    current = await fingerprints(db, [sid for sid, _ in live])
    pipe = redis.pipeline(transaction=False)
    for sid, _ in live:
        pipe.hget(session_key(sid), "fp")
    stored = await pipe.execute() if live else []
    return [
        sid
        for (sid, starts_at), fp in zip(live, stored, strict=True)
        if stale(starts_at, now, fp, current.get(sid, ""))
    ]


@dataclass(frozen=True, slots=True)
class Preparation:
    """What the session page shows: prepared or not, when, for how many, up to date."""

    prepared_at: dt.datetime | None
    count: int
    current: bool


async def preparation(db: AsyncSession, redis: Redis, session_id: int) -> Preparation:
    stored = await redis.hmget(session_key(session_id), ["prepared_at_ms", "count", "fp"])
    if stored[0] is None:
        return Preparation(None, 0, False)
    fp = (await fingerprints(db, [session_id])).get(session_id)
    when = dt.datetime.fromtimestamp(int(stored[0]) / 1000, tz=dt.UTC)
    return Preparation(when, int(stored[1] or 0), stored[2] == fp)


async def refresh_if_prepared(services: Services, session_id: int) -> None:
    """After a committee change: rebuild a prepared session now, not at the next check."""
    try:
        if await services.redis.sismember(PREPARED, session_id):
            async with services.sessions() as db:
                if await db.get(ExamSession, session_id) is None:
                    await forget_sessions(services.redis, {session_id})
                else:
                    await prepare_session(db, services.redis, session_id)
    except Exception as exc:  # the preparer rebuilds it within prepare_check_s anyway
        log.warning("refreshing prepared session %s failed: %s", session_id, exc)


async def prepare_exam_sessions(
    database_url: str, redis_url: str, exam_code: str
) -> list[Prepared]:
    """Prepare every session of one exam that has not ended (``tkd demo`` uses it)."""

    engine = make_async_engine(database_url, pool_size=1)
    redis = redis_client(redis_url, 4)
    try:
        async with session_factory(engine)() as db:
            ids = list(
                await db.scalars(
                    select(ExamSession.id)
                    .join(Exam, Exam.id == ExamSession.exam_id)
                    .where(Exam.code == exam_code, ExamSession.ends_at > dt.datetime.now(dt.UTC))
                )
            )
            return [await prepare_session(db, redis, sid) for sid in ids]
    finally:
        await redis.aclose()
        await engine.dispose()


async def forget_sessions(redis: Redis, session_ids: set[int]) -> None:
    """Deleted or over: their logins go to PostgreSQL; the rest of their keys expire."""
    pipe = redis.pipeline(transaction=False)
    for sid in session_ids:
        pipe.delete(session_key(sid))
        pipe.srem(PREPARED, sid)
    await pipe.execute()


async def run_preparer(services: Services) -> None:
    """One worker at a time keeps the coming sessions prepared; the others stand by."""
    try:
        while True:
            try:
                await prepare_due(services)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # PostgreSQL away at 08:00 is no reason to stop trying
                log.warning("preparing sessions failed, will retry: %s", exc)
            await pause(services.settings.prepare_check_s)
    finally:
        # Hand the lead over at shutdown rather than making the next worker wait a lease.
        with contextlib.suppress(Exception):
            if await services.redis.get(LOCK) == services.worker_id:
                await services.redis.delete(LOCK)


async def prepare_due(services: Services) -> None:
    settings, redis, me = services.settings, services.redis, services.worker_id
    lease_ms = int(settings.prepare_check_s * 3000)
    if not (
        await redis.set(LOCK, me, nx=True, px=lease_ms)
        or (await redis.get(LOCK) == me and await redis.pexpire(LOCK, lease_ms))
    ):
        return
    async with services.sessions() as db:
        for sid in await stale_sessions(db, redis, settings.prepare_ahead_s):
            done = await prepare_session(db, redis, sid)
            log.info(
                "prepared session %s: %s seats, %s new papers", sid, done.seated, done.new_papers
            )
