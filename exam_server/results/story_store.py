"""Reading everything recorded about one attempt, for its story page, PDF and ``tkd``."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from exam_server.db.models import (
    AnswerLog,
    Attempt,
    AttemptEvent,
    AttemptOutage,
    Candidate,
    Exam,
    ExamSession,
    Question,
    Result,
    ResultItem,
)
from exam_server.db.staff_models import AuditEntry
from exam_server.results.story import (
    AttemptFacts,
    AuditRow,
    EventRow,
    Line,
    LogRow,
    OutageRow,
    SheetRow,
    answer_sheet,
    timeline,
)

PROCTOR_ACTIONS = ("proctor.pause", "proctor.resume", "proctor.extend")


@dataclass(frozen=True)
class Story:
    attempt: Attempt
    candidate: Candidate
    session: ExamSession
    exam: Exam
    result: Result | None
    lines: list[Line]
    sheet: list[SheetRow]


def final_answers(log: list[LogRow]) -> dict[int, Any]:
    """Each position's last answer in seq order, as replaying the log gives it."""
    answers: dict[int, Any] = {}
    for row in sorted(log, key=lambda r: r.seq):
        if row.kind == "answer" and row.q is not None:
            answers[row.q] = row.value
    return answers


async def load_story(db: AsyncSession, attempt_id: int) -> Story | None:
    attempt = await db.get(Attempt, attempt_id)
    if attempt is None:
        return None
    candidate = await db.get(Candidate, attempt.candidate_id)
    session = await db.get(ExamSession, attempt.session_id)
    exam = await db.get(Exam, attempt.exam_id)
    assert candidate is not None and session is not None and exam is not None
    result = await db.get(Result, attempt_id)
    log = [
        LogRow(r.seq, r.kind, r.q, r.value, r.device, r.saved_at)
        for r in await db.scalars(
            select(AnswerLog).where(AnswerLog.attempt_id == attempt_id).order_by(AnswerLog.seq)
        )
    ]
    events = [
        EventRow(e.at, e.kind, e.device, e.detail or {})
        for e in await db.scalars(
            select(AttemptEvent)
            .where(AttemptEvent.attempt_id == attempt_id)
            .order_by(AttemptEvent.at, AttemptEvent.id)
        )
    ]
    # Session-wide proctor actions while this attempt ran name who did it and why; an
    # extension aimed at another candidate is left out.
    until = attempt.submitted_at or dt.datetime.now(dt.UTC)
    audit_rows = list(
        await db.scalars(
            select(AuditEntry)
            .where(
                or_(
                    and_(
                        AuditEntry.entity == "session",
                        AuditEntry.entity_id == str(session.id),
                        AuditEntry.action.in_(PROCTOR_ACTIONS),
                        AuditEntry.at >= attempt.created_at,
                        AuditEntry.at <= until,
                    ),
                    and_(
                        AuditEntry.entity == "result",
                        AuditEntry.entity_id == str(attempt_id),
                    ),
                )
            )
            .order_by(AuditEntry.id)
        )
    )
    audit = [
        AuditRow(a.at, a.username, a.action, a.old, a.new, a.reason)
        for a in audit_rows
        if not (
            a.action == "proctor.extend"
            and isinstance(a.new, dict)
            and a.new.get("participant_no") not in (None, "", candidate.participant_no)
        )
    ]
    questions = {
        q.id: {"stem_html": q.stem_html, "options": q.options, "weighted": q.weighted}
        for q in await db.scalars(select(Question).where(Question.id.in_(attempt.question_ids)))
    }
    graded: dict[int, tuple[float, bool | None]] = {}
    if result is not None:
        for item in await db.scalars(select(ResultItem).where(ResultItem.attempt_id == attempt_id)):
            graded[item.q] = (item.points, item.correct)
    facts = AttemptFacts(
        created_at=attempt.created_at,
        starts_at=attempt.starts_at,
        deadline_at=attempt.deadline_at,
        submitted_at=attempt.submitted_at,
        submit_reason=attempt.submit_reason,
        option_orders=attempt.option_orders,
        sections=attempt.sections,
        graded_at=result.graded_at if result else None,
        total=result.total if result else None,
        passed=result.passed if result else None,
        stale_reason=result.stale_reason if result else None,
        outages=[
            OutageRow(
                o.started_at, o.ended_at, o.cause, o.lost_ms, o.given_back_at, o.given_back_by
            )
            for o in await db.scalars(
                select(AttemptOutage)
                .where(AttemptOutage.attempt_id == attempt_id)
                .order_by(AttemptOutage.started_at)
            )
        ],
    )
    sheet = answer_sheet(
        attempt.question_ids,
        attempt.option_orders,
        attempt.sections,
        questions,
        final_answers(log),
        graded,
    )
    return Story(
        attempt, candidate, session, exam, result, timeline(facts, log, events, audit), sheet
    )


async def attempt_for(db: AsyncSession, exam_id: int, participant_no: str) -> int | None:
    """The attempt of a participant in an exam (the CLI names people by number)."""
    return await db.scalar(
        select(Attempt.id)
        .join(Candidate, Candidate.id == Attempt.candidate_id)
        .where(Attempt.exam_id == exam_id, Candidate.participant_no == participant_no)
        .order_by(Attempt.id.desc())
        .limit(1)
    )
