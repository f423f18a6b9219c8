"""Minutes an attempt lost to a server-side failure, and giving them back in one action.

A candidate's clock runs on the server. When Redis or PostgreSQL is unreachable, or the
worker holding a candidate's socket dies, the candidate may sit in front of a spinner
while their time runs; those minutes are recorded per attempt (``attempt_outages``) so a
proctor can return them with one action, and the incident record shows them
(docs/operations.md, "What each failure costs").
"""

from __future__ import annotations

import datetime as dt
import math
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from sqlalchemy import func, insert, select, update

from exam_server.db.models import Attempt, AttemptOutage

if TYPE_CHECKING:
    from exam_server.delivery.services import Services

CAUSES = ("redis", "postgres", "worker")
MIN_RECORDED_MS = 1000  # shorter gaps are below what any candidate notices


def _utc(ms: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC)


def minutes_owed(lost_ms: int) -> int:
    """Whole minutes to give back for ``lost_ms``: any started minute counts (pure)."""
    return math.ceil(lost_ms / 60_000) if lost_ms > 0 else 0


async def record_outage(
    services: Services, attempt_ids: Sequence[int], cause: str, started_ms: int, ended_ms: int
) -> int:
    """Record a server-side gap for these attempts; returns how many rows were written."""
    if cause not in CAUSES:
        raise ValueError(f"cause must be one of {CAUSES}")
    lost = ended_ms - started_ms
    if lost < MIN_RECORDED_MS or not attempt_ids:
        return 0
    rows = [
        {
            "attempt_id": a,
            "cause": cause,
            "started_at": _utc(started_ms),
            "ended_at": _utc(ended_ms),
            "lost_ms": lost,
        }
        for a in dict.fromkeys(attempt_ids)
    ]
    async with services.sessions() as db, db.begin():
        await db.execute(insert(AttemptOutage), rows)
    return len(rows)


async def running_attempts(services: Services) -> list[int]:
    async with services.sessions() as db:
        return list(await db.scalars(select(Attempt.id).where(Attempt.status == "running")))


async def outstanding(services: Services, attempt_ids: Sequence[int]) -> dict[int, int]:
    """Lost milliseconds not yet given back, per attempt (only attempts that have some)."""
    async with services.sessions() as db:
        rows = await db.execute(
            select(AttemptOutage.attempt_id, func.sum(AttemptOutage.lost_ms))
            .where(
                AttemptOutage.attempt_id.in_(list(attempt_ids)),
                AttemptOutage.given_back_at.is_(None),
            )
            .group_by(AttemptOutage.attempt_id)
        )
        return {int(a): int(ms) for a, ms in rows}


async def give_back(services: Services, attempt_ids: Sequence[int], by: str) -> dict[int, int]:
    """Extend each attempt by the whole minutes it lost and not yet got back.

    Returns attempt -> minutes given. Outages of attempts already submitted stay open
    (nothing to extend); each one given back is stamped with who gave it and when.
    """
    owed = await outstanding(services, attempt_ids)
    given: dict[int, int] = {}
    now = int(time.time() * 1000)
    for attempt_id, lost_ms in owed.items():
        minutes = minutes_owed(lost_ms)
        if not await services.redis.exists(f"tkd:attempt:{attempt_id}"):
            await services.restore_checkpoint(attempt_id)
        result = await services.store.change_clock([attempt_id], now, "extend", minutes * 60_000)
        if result.get(attempt_id) != "changed":
            continue
        async with services.sessions() as db, db.begin():
            await db.execute(
                update(AttemptOutage)
                .where(
                    AttemptOutage.attempt_id == attempt_id, AttemptOutage.given_back_at.is_(None)
                )
                .values(given_back_at=_utc(now), given_back_by=by[:200])
            )
        given[attempt_id] = minutes
    return given
