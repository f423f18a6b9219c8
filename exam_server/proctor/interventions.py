"""What a proctor can do to a running session: pause, resume, add time, send a notice.

Every intervention goes through the checkpoint store, so the clock in Redis (the one the
server enforces) changes atomically with the news sent to each candidate's socket, and
the write-behind carries the new deadline to PostgreSQL.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from sqlalchemy import select

from exam_server.db.models import Attempt
from exam_server.delivery.services import Services


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


async def pause_session(services: Services, session_id: int) -> list[int]:
    ids = await session_attempts(services, session_id)
    return _changed(await change_clocks(services, ids, "pause"))


async def resume_session(services: Services, session_id: int) -> list[int]:
    """Resume; every candidate gets back exactly the time they had when paused."""
    ids = await session_attempts(services, session_id)
    return _changed(await change_clocks(services, ids, "resume"))


async def extend_attempts(
    services: Services, attempt_ids: Sequence[int], minutes: int
) -> list[int]:
    if not 1 <= minutes <= 240:
        raise ValueError("minutes must be between 1 and 240")
    return _changed(await change_clocks(services, attempt_ids, "extend", minutes * 60_000))


async def send_notice(services: Services, session_id: int, message: str) -> int:
    text = message.strip()[:500]
    if not text:
        raise ValueError("a notice needs a message")
    ids = await session_attempts(services, session_id)
    for attempt_id in ids:
        await services.store.publish({"t": "notice", "a": attempt_id, "message": text})
    return len(ids)
