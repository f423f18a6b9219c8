"""Grading: from an attempt's durable answer log to its stored result.

The one place where answers become scores. It reads only PostgreSQL (the answer log is the
evidence), so grading is deterministic and can be re-run after a key correction with the
same outcome for unchanged keys. The scoring rules themselves are pure functions in
``exam_server.grading.scoring``; this module is the I/O around them.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from exam_server.bank.store import item_from_question
from exam_server.db.models import (
    AnswerLog,
    Attempt,
    Exam,
    ExamSection,
    Question,
    Result,
    ResultItem,
)
from exam_server.grading.scoring import ScoringModel, SectionRule, score_answer, score_attempt


def rule_from_section(sec: ExamSection, tiebreak_order: int) -> SectionRule:
    cfg: dict[str, Any] = sec.scoring or {}
    return SectionRule(
        code=sec.code,
        name=sec.name,
        model=ScoringModel(cfg.get("model", ScoringModel.RIGHT_WRONG.value)),
        points_correct=float(cfg.get("points_correct", 5.0)),
        points_wrong=float(cfg.get("points_wrong", 0.0)),
        points_blank=float(cfg.get("points_blank", 0.0)),
        pass_mark=sec.pass_mark,
        tiebreak_order=int(cfg.get("tiebreak_order", tiebreak_order)),
    )


def final_answers(
    log: Sequence[tuple[int, str, int | None, Any, dt.datetime]],
) -> dict[int, tuple[Any, dt.datetime]]:
    """The last choice per position from (seq, kind, q, value, saved_at) rows (pure)."""
    answers: dict[int, tuple[Any, dt.datetime]] = {}
    for _seq, kind, q, value, saved_at in sorted(log, key=lambda r: r[0]):
        if kind == "answer" and q is not None:
            answers[q] = (value, saved_at)
    return answers


def _chosen(value: Any) -> frozenset[str] | None:
    if value is None or value == []:
        return None
    return frozenset([value] if isinstance(value, str) else value)


async def grade_attempt(db: AsyncSession, attempt_id: int, now: dt.datetime) -> Result:
    """Grade one submitted attempt into ``results``/``result_items`` (idempotent)."""
    attempt = await db.get(Attempt, attempt_id)
    assert attempt is not None
    exam = await db.get(Exam, attempt.exam_id)
    assert exam is not None
    sections = list(
        await db.scalars(
            select(ExamSection).where(ExamSection.exam_id == exam.id).order_by(ExamSection.position)
        )
    )
    questions = {
        q.id: q
        for q in await db.scalars(select(Question).where(Question.id.in_(attempt.question_ids)))
    }
    log = (
        await db.execute(
            select(
                AnswerLog.seq, AnswerLog.kind, AnswerLog.q, AnswerLog.value, AnswerLog.saved_at
            ).where(AnswerLog.attempt_id == attempt_id)
        )
    ).all()
    answers = final_answers([tuple(r) for r in log])
    # National rule: ties are broken by the last section first (TKP, then TIU, then TWK).
    rules = {sec.code: rule_from_section(sec, len(sections) - i) for i, sec in enumerate(sections)}
    scoring = {sec.code: dict(sec.scoring or {}) for sec in sections}
    scored_sections = []
    items_out = []
    for layout in attempt.sections:
        rule = rules[layout["code"]]
        pairs = []
        for q in range(layout["start"], layout["start"] + layout["count"]):
            item = item_from_question(questions[attempt.question_ids[q]])
            value, changed_at = answers.get(q, (None, None))
            chosen = _chosen(value)
            pairs.append((item, chosen))
            score = score_answer(item, chosen, rule)
            items_out.append(
                {
                    "attempt_id": attempt_id,
                    "q": q,
                    "question_id": attempt.question_ids[q],
                    "choice": value,
                    "correct": score.correct,
                    "points": score.points,
                    "changed_at": changed_at,
                }
            )
        scored_sections.append((rule, pairs))
    total = score_attempt(scored_sections, total_pass_mark=exam.total_pass_mark)
    section_rows = [
        {
            "code": s.code,
            "name": s.name,
            "points": s.points,
            "max_points": s.max_points,
            "correct": s.correct,
            "wrong": s.wrong,
            "blank": s.blank,
            "passed": s.passed,
            "pass_mark": rules[s.code].pass_mark,
            "scoring": scoring[s.code],  # the rule as applied, for the slip's explanation
            "reason_id": s.reason_id,
            "reason_en": s.reason_en,
        }
        for s in total.sections
    ]
    existing = await db.get(Result, attempt_id)
    values = {
        "total": total.total,
        "max_total": total.max_total,
        "correct": sum(s.correct for s in total.sections),
        "wrong": sum(s.wrong for s in total.sections),
        "blank": sum(s.blank for s in total.sections),
        "passed": total.passed,
        "sections": section_rows,
        "total_pass_mark": exam.total_pass_mark,
        "failed_rules": [
            {"id": id_text, "en": en_text}
            for id_text, en_text in zip(total.failed_rules, total.failed_rules_en, strict=True)
        ],
        "graded_at": now,
    }
    if attempt.disqualified_at is not None:
        # A proctor's disqualification (issue 14) fails the result and says why, wherever
        # the result is shown (the page, the slip, the exports).
        reason = attempt.disqualified_reason or ""
        values["passed"] = False
        values["failed_rules"] = [
            {"id": f"Didiskualifikasi oleh pengawas: {reason}",
             "en": f"Disqualified by the proctor: {reason}"},
            *values["failed_rules"],  # type: ignore[misc]
        ]  # fmt: skip
    stmt = insert(Result).values(
        attempt_id=attempt_id,
        verify_code=existing.verify_code if existing else new_verify_code(),
        **values,
    )
    await db.execute(stmt.on_conflict_do_update(index_elements=["attempt_id"], set_=values))
    await db.execute(delete(ResultItem).where(ResultItem.attempt_id == attempt_id))
    if items_out:
        await db.execute(insert(ResultItem), items_out)
    result = await db.get(Result, attempt_id, populate_existing=True)
    assert result is not None
    return result


def new_verify_code() -> str:
    """An unguessable code for the result slip: 80 random bits, grouped for reading aloud."""
    raw = secrets.token_hex(10).upper()
    return "-".join(raw[i : i + 5] for i in range(0, len(raw), 5))


def result_message(result: Result) -> dict[str, Any]:
    return {
        "type": "result",
        "sections": [
            {
                k: s.get(k)
                for k in (
                    "code",
                    "name",
                    "points",
                    "max_points",
                    "passed",
                    "pass_mark",
                    "reason_id",
                    "reason_en",
                )
            }
            for s in result.sections
        ],
        "total": result.total,
        "max_total": result.max_total,
        "total_pass_mark": result.total_pass_mark,
        "passed": result.passed,
        # Every rule that failed, the total's included: what the result page explains.
        "reasons_id": [r["id"] for r in result.failed_rules or []],
        "reasons_en": [r["en"] for r in result.failed_rules or []],
        "verify_code": result.verify_code,
    }
