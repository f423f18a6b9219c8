"""Finding candidates: by name, NIK or number, by unit, by where they stand.

Shared by the candidate list page and ``tkd candidates list``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from exam_server.db.models import Attempt, Candidate, ExamSession, SessionCandidate

STATUSES = {
    "unscheduled": ("Belum dijadwalkan", "Not scheduled"),
    "scheduled": ("Terjadwal", "Scheduled"),
    "in_progress": ("Sedang ujian", "In progress"),
    "submitted": ("Selesai", "Submitted"),
}


@dataclass(frozen=True)
class Found:
    candidate: Candidate
    session: str | None  # the latest session they are seated in
    status: str  # a key of STATUSES


def _latest_attempt_status() -> Any:
    return (
        select(Attempt.status)
        .where(Attempt.candidate_id == Candidate.id)
        .order_by(Attempt.id.desc())
        .limit(1)
        .scalar_subquery()
    )


def _status_filter(status: str) -> ColumnElement[bool] | None:
    scheduled = exists().where(SessionCandidate.candidate_id == Candidate.id)
    attempted = exists().where(Attempt.candidate_id == Candidate.id)
    latest = _latest_attempt_status()
    return {
        "unscheduled": ~scheduled,
        "scheduled": scheduled & ~attempted,
        "in_progress": latest.in_(["running", "paused", "waiting"]),
        "submitted": latest == "submitted",
    }.get(status)


def status_of(session_name: str | None, attempt_status: str | None) -> str:
    if attempt_status == "submitted":
        return "submitted"
    if attempt_status is not None:
        return "in_progress"
    return "scheduled" if session_name else "unscheduled"


def _conditions(q: str, unit: str, status: str) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if q:
        like = f"%{q.replace('%', '').replace('_', '')}%"
        conditions.append(
            or_(
                Candidate.name.ilike(like),
                Candidate.nik.like(like),
                Candidate.participant_no.ilike(like),
            )
        )
    if unit:
        conditions.append(Candidate.unit == unit)
    chosen = _status_filter(status)
    if chosen is not None:
        conditions.append(chosen)
    return conditions


async def search_candidates(
    db: AsyncSession,
    q: str = "",
    unit: str = "",
    status: str = "",
    offset: int = 0,
    limit: int | None = None,
) -> tuple[int, list[Found]]:
    """(how many match, the matching candidates from ``offset``) by participant number."""
    session_name = (
        select(ExamSession.name)
        .join(SessionCandidate, SessionCandidate.session_id == ExamSession.id)
        .where(SessionCandidate.candidate_id == Candidate.id)
        .order_by(ExamSession.starts_at.desc())
        .limit(1)
        .scalar_subquery()
    )
    query = select(
        Candidate, session_name.label("session"), _latest_attempt_status().label("attempt")
    )
    count = select(func.count()).select_from(Candidate)
    for condition in _conditions(q.strip(), unit, status):
        query, count = query.where(condition), count.where(condition)
    total = await db.scalar(count) or 0
    rows = await db.execute(query.order_by(Candidate.participant_no).offset(offset).limit(limit))
    return total, [Found(c, s, status_of(s, a)) for c, s, a in rows]


async def units(db: AsyncSession) -> list[str]:
    return [
        u for u in await db.scalars(select(Candidate.unit).distinct().order_by(Candidate.unit)) if u
    ]
