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
from sqlalchemy import column, delete, select, table

from exam_server.db.models import Attempt, ExamSession, Result
from exam_server.delivery.checkpoint import DEADLINES, attempt_key
from exam_server.delivery.outages import give_back
from exam_server.delivery.presence import live_key
from exam_server.delivery.services import Services
from exam_server.delivery.writebehind import TO_GRADE

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


async def change_clocks(
    services: Services, attempt_ids: Sequence[int], action: str, extra_ms: int = 0
) -> dict[int, str]:
    """Change every attempt's clock atomically; attempt -> what happened to it.

    ``changed``, ``unchanged`` (already so), ``submitted``, or ``missing`` when Redis lost
    it and it could not be rebuilt: the proctor is told which candidates were not reached.
    """
    result = await services.store.change_clock(attempt_ids, now_ms(), action, extra_ms)
    missing = [a for a, word in result.items() if word == "missing"]
    for attempt_id in missing:  # Redis lost these: rebuild from PostgreSQL, then again
        await services.restore_checkpoint(attempt_id)
    if missing:
        result.update(await services.store.change_clock(missing, now_ms(), action, extra_ms))
    return result


def _changed(result: dict[int, str]) -> list[int]:
    return [a for a, word in result.items() if word == "changed"]


async def _ensure_loaded(services: Services, attempt_ids: Sequence[int]) -> None:
    # An attempt Redis has lost must be rebuilt before it can be changed.
    for attempt_id in attempt_ids:
        if not await services.redis.exists(attempt_key(attempt_id)):
            await services.restore_checkpoint(attempt_id)


async def pause(services: Services, attempt_ids: Sequence[int]) -> list[int]:
    return _changed(await change_clocks(services, attempt_ids, "pause"))


async def resume(services: Services, attempt_ids: Sequence[int]) -> list[int]:
    """Resume; every candidate gets back exactly the time they had when paused."""
    return _changed(await change_clocks(services, attempt_ids, "resume"))


async def pause_session(services: Services, session_id: int) -> list[int]:
    return await pause(services, await session_attempts(services, session_id))


async def resume_session(services: Services, session_id: int) -> list[int]:
    """Resume; every candidate gets back exactly the time they had when paused."""
    return await resume(services, await session_attempts(services, session_id))


def check_minutes(minutes: int) -> None:
    if not 1 <= minutes <= MAX_MINUTES:
        raise ValueError(f"minutes must be between 1 and {MAX_MINUTES}")


async def extend_attempts(
    services: Services, attempt_ids: Sequence[int], minutes: int
) -> list[int]:
    check_minutes(minutes)
    return _changed(await change_clocks(services, attempt_ids, "extend", minutes * 60_000))


async def give_back_outages(
    services: Services, attempt_ids: Sequence[int], by: str
) -> dict[int, int]:
    """Add back the whole minutes each attempt lost to a server-side failure and has not got
    back yet (recorded by ``exam_server.delivery.outages``); milliseconds given per attempt."""
    minutes = await give_back(services, attempt_ids, by)
    return {attempt_id: m * 60_000 for attempt_id, m in minutes.items()}


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
            pipe.publish(
                services.store.events,
                json.dumps({"t": "replaced", "a": attempt_id, "c": "proctor"}),
            )
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
                services.store._queue_close(pipe, attempt_id, now_ms(), reason)
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
            pipe.publish(
                services.store.events, json.dumps({"t": "clock", "a": attempt_id, **clock})
            )
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
