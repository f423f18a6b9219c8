"""Reading stored results: one as a slip, by attempt (the candidate) or by verify code;
and how many were graded and passed per exam."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from exam_server.db.models import Attempt, Candidate, Exam, ExamSection, ExamSession, Result
from exam_server.display import mask_nik_public as mask_nik
from exam_server.results.slip import Slip, is_released, slip_sections


@dataclass(frozen=True)
class Lookup:
    """A slip, or why there is none: ``not_graded``, ``not_released`` or ``not_found``."""

    slip: Slip | None
    problem: str | None = None


async def exam_result_counts(db: AsyncSession) -> list[tuple[int, str, str, int, int]]:
    """Each exam by code, as (id, code, title, results graded, results passed)."""
    rows = await db.execute(
        select(
            Exam.id,
            Exam.code,
            Exam.title,
            func.count(Result.attempt_id),
            func.count(Result.attempt_id).filter(Result.passed.is_(True)),
        )
        .outerjoin(Attempt, Attempt.exam_id == Exam.id)
        .outerjoin(Result, Result.attempt_id == Attempt.id)
        .group_by(Exam.id)
        .order_by(Exam.code)
    )
    return [(i, code, title, graded, passed) for i, code, title, graded, passed in rows]


async def _slip_for(db: AsyncSession, result: Result, attempt: Attempt) -> Slip:
    exam = await db.get(Exam, attempt.exam_id)
    candidate = await db.get(Candidate, attempt.candidate_id)
    session = await db.get(ExamSession, attempt.session_id)
    assert exam is not None and candidate is not None and session is not None
    scoring = {
        sec.code: sec.scoring
        for sec in await db.scalars(select(ExamSection).where(ExamSection.exam_id == exam.id))
    }
    return Slip(
        verify_code=result.verify_code,
        exam_code=exam.code,
        exam_title=exam.title,
        session=session.name,
        participant_no=candidate.participant_no,
        name=candidate.name,
        nik_masked=mask_nik(candidate.nik),
        submitted_at=attempt.submitted_at,
        graded_at=result.graded_at,
        total=result.total,
        max_total=result.max_total,
        total_pass_mark=result.total_pass_mark,
        passed=result.passed,
        sections=slip_sections(result.sections, scoring),
        failed_id=[r["id"] for r in result.failed_rules or []],
        failed_en=[r["en"] for r in result.failed_rules or []],
        time_zone=session.time_zone,
    )


async def _released(db: AsyncSession, attempt: Attempt, now: dt.datetime) -> bool:
    exam = await db.get(Exam, attempt.exam_id)
    return exam is not None and is_released(exam.results_release, exam.release_at, now)


async def slip_for_attempt(db: AsyncSession, attempt_id: int, now: dt.datetime) -> Lookup:
    """The candidate's own slip, once their attempt is graded and the exam releases it."""
    attempt = await db.get(Attempt, attempt_id)
    if attempt is None:
        return Lookup(None, "not_found")
    result = await db.get(Result, attempt_id)
    if attempt.status != "submitted" or result is None:
        return Lookup(None, "not_graded")
    if not await _released(db, attempt, now):
        return Lookup(None, "not_released")
    return Lookup(await _slip_for(db, result, attempt))


async def slip_for_code(db: AsyncSession, code: str, now: dt.datetime) -> Lookup:
    """The slip behind a canonical verify code; an unreleased result reads as not found,
    so the page never confirms that a code exists before its result is public."""
    result = await db.scalar(select(Result).where(Result.verify_code == code))
    if result is None:
        return Lookup(None, "not_found")
    attempt = await db.get(Attempt, result.attempt_id)
    if attempt is None or not await _released(db, attempt, now):
        return Lookup(None, "not_found")
    return Lookup(await _slip_for(db, result, attempt))
