"""What a proctor can do to attempts: the clock, the device, the submission, the notices.

Every clock change goes through the checkpoint store, so the clock in Redis (the one the
server enforces) changes atomically with the news published to whichever worker holds the
candidate's socket, and the write-behind carries the new deadline to PostgreSQL. The pages
(``exam_server.proctor.pages``) add the confirmation, the reason and the audit entry.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Sequence

from redis.exceptions import WatchError
from sqlalchemy import column, delete, select, table, update

from exam_server.db.models import Attempt, ExamSession, Result
from exam_server.delivery.checkpoint import DEADLINES, EVENTS, CheckpointStore, attempt_key
from exam_server.proctor.presence import live_key
from exam_server.services import Services

MAX_MINUTES = 240
# Issue 12 records the minutes each attempt lost to a server-side failure in this table
# (migration 0014 creates it where issue 12's migration has not); a lightweight table
# construct, so this module needs no model of its own for it.
OUTAGES = table(
    "attempt_outages",
    column("id"),
    column("attempt_id"),
    column("lost_ms"),
    column("given_back_at"),
    column("given_back_by"),
)


def now_ms() -> int:
    return int(time.time() * 1000)


async def session_attempts(services: Services, session_id: int) -> list[int]:
    async with services.sessions() as db:
        return list(await db.scalars(select(Attempt.id).where(Attempt.session_id == session_id)))


async def _ensure_loaded(services: Services, attempt_ids: Sequence[int]) -> None:
    # An attempt Redis has lost must be rebuilt before its clock can change.
    for attempt_id in attempt_ids:
        if not await services.redis.exists(attempt_key(attempt_id)):
            await services.restore_checkpoint(attempt_id)


async def pause(services: Services, attempt_ids: Sequence[int]) -> list[int]:
    await _ensure_loaded(services, attempt_ids)
    return await services.store.change_clock(attempt_ids, now_ms(), "pause")


async def resume(services: Services, attempt_ids: Sequence[int]) -> list[int]:
    """Resume; every candidate gets back exactly the time they had when paused."""
    await _ensure_loaded(services, attempt_ids)
    return await services.store.change_clock(attempt_ids, now_ms(), "resume")


async def pause_session(services: Services, session_id: int) -> list[int]:
    return await pause(services, await session_attempts(services, session_id))


async def resume_session(services: Services, session_id: int) -> list[int]:
    return await resume(services, await session_attempts(services, session_id))


def check_minutes(minutes: int) -> None:
    if not 1 <= minutes <= MAX_MINUTES:
        raise ValueError(f"minutes must be between 1 and {MAX_MINUTES}")


async def extend_attempts(
    services: Services, attempt_ids: Sequence[int], minutes: int
) -> list[int]:
    check_minutes(minutes)
    await _ensure_loaded(services, attempt_ids)
    return await services.store.change_clock(attempt_ids, now_ms(), "extend", minutes * 60_000)


async def give_back_outages(
    services: Services, attempt_ids: Sequence[int], by: str
) -> dict[int, int]:
    """Add back every outage minute the server recorded and not yet given; ms per attempt."""
    if not attempt_ids:
        return {}
    owed: dict[int, int] = {}
    async with services.sessions() as db, db.begin():
        rows = (
            await db.execute(
                select(OUTAGES.c.id, OUTAGES.c.attempt_id, OUTAGES.c.lost_ms)
                .where(
                    OUTAGES.c.attempt_id.in_(list(attempt_ids)), OUTAGES.c.given_back_at.is_(None)
                )
                .with_for_update()
            )
        ).all()
        for _id, attempt_id, lost_ms in rows:
            owed[attempt_id] = owed.get(attempt_id, 0) + int(lost_ms)
        await _ensure_loaded(services, list(owed))
        given: dict[int, int] = {}
        for attempt_id, ms in owed.items():
            if ms > 0 and await services.store.change_clock([attempt_id], now_ms(), "extend", ms):
                given[attempt_id] = ms
        if given:
            await db.execute(
                update(OUTAGES)
                .where(OUTAGES.c.id.in_([r[0] for r in rows if r[1] in given]))
                .values(given_back_at=dt.datetime.now(dt.UTC), given_back_by=by)
            )
    return given


async def send_notice(services: Services, session_id: int, message: str) -> int:
    return await notify(services, await session_attempts(services, session_id), message)


async def notify(services: Services, attempt_ids: Sequence[int], message: str) -> int:
    text = message.strip()[:500]
    if not text:
        raise ValueError("a notice needs a message")
    for attempt_id in attempt_ids:
        await services.store.publish({"t": "notice", "a": attempt_id, "message": text})
    return len(attempt_ids)


async def reset_device(services: Services, attempt_ids: Sequence[int]) -> list[int]:
    """Free the attempt from its phone: the old socket is told ``replaced`` and closed, and
    the next phone to log in continues where the old one stopped (answers are on the server).

    HOOK (issue 13): should logins come to bind an attempt to one device, that binding is
    cleared here too.
    """
    done = []
    for attempt_id in attempt_ids:
        if not await services.redis.exists(attempt_key(attempt_id)):
            continue
        async with services.redis.pipeline(transaction=True) as pipe:
            pipe.hset(attempt_key(attempt_id), mapping={"conn": "", "device": ""})
            pipe.hset(live_key(attempt_id), mapping={"takeovers": 0, "conn": ""})
            pipe.publish(EVENTS, json.dumps({"t": "replaced", "a": attempt_id, "c": "proctor"}))
            await pipe.execute()
        done.append(attempt_id)
    return done


async def force_submit(
    services: Services, attempt_ids: Sequence[int], reason: str = "proctor"
) -> list[int]:
    """Submit attempts now, as the deadline would: graded, and the candidate is told."""
    await _ensure_loaded(services, attempt_ids)
    closed = []
    for attempt_id in attempt_ids:
        key = attempt_key(attempt_id)
        async with services.redis.pipeline(transaction=True) as pipe:
            try:
                await pipe.watch(key)
                if await pipe.hget(key, "submitted") != "0":
                    await pipe.unwatch()
                    continue
                pipe.multi()
                CheckpointStore._queue_close(pipe, attempt_id, now_ms(), reason)
                await pipe.execute()
                closed.append(attempt_id)
            except WatchError:
                continue
    return closed


async def reopen(services: Services, attempt_id: int, minutes: int) -> bool:
    """Undo a submission made by mistake: ``minutes`` to go on, the old result withdrawn.

    The candidate logs in again (on any phone) and continues with every answer they had.
    """
    check_minutes(minutes)
    from exam_server.delivery.writebehind import TO_GRADE

    async with services.sessions() as db, db.begin():
        attempt = await db.get(Attempt, attempt_id, with_for_update=True)
        if attempt is None or attempt.status != "submitted":
            return False
        await db.execute(delete(Result).where(Result.attempt_id == attempt_id))
        attempt.status, attempt.submitted_at, attempt.submit_reason = "running", None, None
        attempt.paused_at = None
        deadline = now_ms() + minutes * 60_000
        attempt.deadline_at = dt.datetime.fromtimestamp(deadline / 1000, dt.UTC)
        await _ensure_loaded(services, [attempt_id])
        clock = {"deadline_ms": deadline, "paused_at_ms": 0}
        async with services.redis.pipeline(transaction=True) as pipe:
            pipe.hset(attempt_key(attempt_id), mapping={"submitted": "0", **clock})
            pipe.zadd(DEADLINES, {str(attempt_id): deadline})
            pipe.srem(TO_GRADE, str(attempt_id))
            pipe.publish(EVENTS, json.dumps({"t": "clock", "a": attempt_id, **clock}))
            await pipe.execute()
    return True


async def disqualify(services: Services, attempt_id: int, reason: str, by: str) -> bool:
    async with services.sessions() as db, db.begin():
        attempt = await db.get(Attempt, attempt_id, with_for_update=True)
        if attempt is None or attempt.disqualified_at is not None:
            return False
        attempt.disqualified_at = dt.datetime.now(dt.UTC)
        attempt.disqualified_reason = reason
        attempt.disqualified_by = by
    if not await force_submit(services, [attempt_id], "disqualified"):
        # Submitted already (perhaps graded): grade again, so the result says it.
        from exam_server.delivery.writebehind import TO_GRADE

        await services.redis.sadd(TO_GRADE, str(attempt_id))
    return True


async def end_session(services: Services, session_id: int) -> list[int]:
    """Submit every unfinished attempt and close the session to new logins."""
    now = dt.datetime.now(dt.UTC)
    async with services.sessions() as db, db.begin():
        session = await db.get(ExamSession, session_id, with_for_update=True)
        if session is not None and session.ends_at > now:
            session.ends_at = now
    return await force_submit(services, await session_attempts(services, session_id), "ended")
