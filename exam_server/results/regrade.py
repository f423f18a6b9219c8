"""Re-grading an exam after a key correction, with a report of whose result changed.

Grading reads only the answer log and the current keys, so running it again is safe: an
unchanged key gives the same points. Every result that changed gets one audit entry
(old and new total, pass status and section points) in the same transaction as the new
results, so the report and the log cannot disagree.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from exam_server.db.audit import Actor, record
from exam_server.db.models import Attempt, Candidate, Result
from exam_server.grading.grade import grade_attempt


@dataclass(frozen=True)
class Change:
    attempt_id: int
    candidate_id: int
    participant_no: str
    name: str
    old_total: float | None  # None: the attempt had never been graded
    new_total: float
    old_passed: bool | None
    new_passed: bool | None
    old_sections: dict[str, float]
    new_sections: dict[str, float]


@dataclass(frozen=True)
class RegradeReport:
    exam_id: int
    graded: int
    changes: list[Change]


def _points(sections: list[dict[str, Any]] | None) -> dict[str, float]:
    return {s["code"]: float(s["points"]) for s in sections or []}


def _summary(
    total: float | None, passed: bool | None, sections: dict[str, float]
) -> dict[str, Any]:
    return {"total": total, "passed": passed, "sections": sections}


async def regrade_exam(
    db: AsyncSession, exam_id: int, actor: Actor, *, now: dt.datetime | None = None
) -> RegradeReport:
    """Grade every submitted attempt of the exam again; the caller commits.

    Returns every attempt whose total, pass status or section points changed.
    """
    now = now or dt.datetime.now(dt.UTC)
    rows = (
        await db.execute(
            select(Attempt.id, Attempt.candidate_id, Candidate.participant_no, Candidate.name)
            .join(Candidate, Candidate.id == Attempt.candidate_id)
            .where(Attempt.exam_id == exam_id, Attempt.status == "submitted")
            .order_by(Attempt.id)
        )
    ).all()
    old = {
        r.attempt_id: (r.total, r.passed, _points(r.sections))
        for r in (
            await db.execute(
                select(Result.attempt_id, Result.total, Result.passed, Result.sections)
                .join(Attempt, Attempt.id == Result.attempt_id)
                .where(Attempt.exam_id == exam_id)
            )
        ).all()
    }
    changes: list[Change] = []
    for done, (attempt_id, candidate_id, participant_no, name) in enumerate(rows, start=1):
        result = await grade_attempt(db, attempt_id, now)
        before = old.get(attempt_id, (None, None, {}))
        after = (result.total, result.passed, _points(result.sections))
        if before != after:
            changes.append(
                Change(
                    attempt_id,
                    candidate_id,
                    participant_no,
                    name,
                    before[0],
                    after[0],
                    before[1],
                    after[1],
                    before[2],
                    after[2],
                )
            )
            record(
                db,
                actor,
                "result.regrade",
                "result",
                attempt_id,
                old=_summary(*before),
                new=_summary(*after),
                reason=f"exam {exam_id}",
            )
        if done % 500 == 0:
            # grade_attempt loads rows into this session: write what is pending and let go
            # of them, so a 50,000-attempt exam does not hold every object until commit.
            await db.flush()
            db.expunge_all()
    record(
        db,
        actor,
        "exam.regrade",
        "exam",
        exam_id,
        new={"graded": len(rows), "changed": len(changes)},
    )
    return RegradeReport(exam_id, len(rows), changes)
