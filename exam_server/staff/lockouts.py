"""A proctor or admin ends a candidate's log-in lockout, with a reason, in the audit log.

The lockout itself lives in Redis (``exam_server/delivery/throttle.py``); this is the one
way a person clears it, for a candidate of a session they may see (docs/security.md).
"""

from __future__ import annotations

from redis.asyncio import Redis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from exam_server.db.audit import Actor, record
from exam_server.db.models import Candidate, ExamSession, SessionCandidate
from exam_server.delivery.throttle import candidate_throttle
from exam_server.settings import Settings
from exam_server.staff.exam_forms import FormError


async def clear_candidate_lockout(
    db: AsyncSession,
    redis: Redis,
    settings: Settings,
    actor: Actor,
    session: ExamSession,
    participant_no: str,
    reason: str,
) -> dict[str, int]:
    """The failures cleared, per address; refused for a candidate not in ``session``."""
    number = participant_no.strip().upper()
    reason = reason.strip()
    if not reason:
        raise FormError("Alasan wajib diisi.", "A reason is required.")
    found = await db.scalar(
        select(Candidate.id)
        .join(SessionCandidate, SessionCandidate.candidate_id == Candidate.id)
        .where(Candidate.participant_no == number, SessionCandidate.session_id == session.id)
    )
    if found is None:
        raise FormError(
            f"{number} bukan peserta sesi ini.", f"{number} is not a candidate of this session."
        )
    cleared = await candidate_throttle(redis, settings).clear(number)
    record(db, actor, "login.unlock", "candidate", found, old={"failures": cleared}, reason=reason)
    return cleared
