"""The proctor's live view of a session: who is in, how far along, how much time is left."""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import select

from exam_server.db.models import Attempt, Candidate, SessionCandidate
from exam_server.delivery.checkpoint import attempt_key, snapshot_from_hash
from exam_server.delivery.services import Services


@dataclass(frozen=True)
class LiveRow:
    attempt_id: int | None
    participant_no: str
    name: str
    unit: str
    status: str  # absent, waiting, running, paused, submitted
    answered: int
    questions: int
    remaining_ms: int
    device: str


async def live_rows(services: Services, session_id: int) -> list[LiveRow]:
    async with services.sessions() as db:
        rows = (
            await db.execute(
                select(Candidate, Attempt)
                .join(SessionCandidate, SessionCandidate.candidate_id == Candidate.id)
                .outerjoin(
                    Attempt,
                    (Attempt.candidate_id == Candidate.id) & (Attempt.session_id == session_id),
                )
                .where(SessionCandidate.session_id == session_id)
                .order_by(Candidate.participant_no)
            )
        ).all()
    async with services.redis.pipeline(transaction=False) as pipe:
        for _candidate, attempt in rows:
            if attempt is not None:
                pipe.hgetall(attempt_key(attempt.id))
        hashes = iter(await pipe.execute())
    now = int(time.time() * 1000)
    out = []
    for candidate, attempt in rows:
        if attempt is None:
            out.append(
                LiveRow(
                    None,
                    candidate.participant_no,
                    candidate.name,
                    candidate.unit,
                    "absent",
                    0,
                    0,
                    0,
                    "",
                )
            )
            continue
        h = next(hashes)
        if h:
            snap = snapshot_from_hash(attempt.id, h)
            status, answered, left = (
                snap.clock.status(now).value,
                len(snap.answers),
                snap.clock.remaining_ms(now),
            )
        else:  # not in Redis: what PostgreSQL knows
            status, answered, left = attempt.status, 0, 0
        out.append(
            LiveRow(attempt.id, candidate.participant_no, candidate.name, candidate.unit, status,
                    answered, len(attempt.question_ids), left, h.get("device", "") if h else "")
        )  # fmt: skip
    return out
