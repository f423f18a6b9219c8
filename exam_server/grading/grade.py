"""Grading: from an attempt's durable answer log to its stored result.

The one place where answers become scores. It reads only PostgreSQL (the answer log is the
evidence), so grading is deterministic and can be re-run after a key correction with the
same outcome for unchanged keys. The scoring rules themselves are pure functions in
``exam_server.grading.scoring``; this module is the I/O around them.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
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

# SQLAlchemy sends each chunk as multi-row INSERTs (its "insertmanyvalues" pages).
ITEM_ROWS_PER_INSERT = 20_000


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


@dataclass(frozen=True, slots=True)
class Graded:
    """One attempt's result row values and its result_items rows (pure output)."""

    attempt_id: int
    values: dict[str, Any]
    items: list[dict[str, Any]]


def grade_one(
    attempt: Attempt,
    exam: Exam,
    sections: list[ExamSection],
    items: Mapping[int, Any],
    log: Sequence[tuple[int, str, int | None, Any, dt.datetime]],
    now: dt.datetime,
) -> Graded:
    """Grade one attempt from what was loaded for its exam (pure: no database here).

    ``items``: question id -> scoring item, made once per exam and shared by every attempt.
    """
    answers = final_answers(log)
    # National rule: ties are broken by the last section first (TKP, then TIU, then TWK).
    rules = {sec.code: rule_from_section(sec, len(sections) - i) for i, sec in enumerate(sections)}
    scoring = {sec.code: dict(sec.scoring or {}) for sec in sections}
    scored_sections = []
    items_out = []
    for layout in attempt.sections:
        rule = rules[layout["code"]]
        pairs = []
        for q in range(layout["start"], layout["start"] + layout["count"]):
            item = items[attempt.question_ids[q]]
            value, changed_at = answers.get(q, (None, None))
            chosen = _chosen(value)
            pairs.append((item, chosen))
            score = score_answer(item, chosen, rule)
            items_out.append(
                {
                    "attempt_id": attempt.id,
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
        "stale_reason": None,  # graded under today's rules: nothing awaits a re-grade
    }
    if attempt.disqualified_at is not None:
        # A proctor's disqualification (issue 14) fails the result and says why, wherever
        # the result is shown (the page, the slip, the exports).
        reason = attempt.disqualified_reason or ""
        values["passed"] = False
        values["failed_rules"] = [
            {
                "id": f"Didiskualifikasi oleh pengawas: {reason}",
                "en": f"Disqualified by the proctor: {reason}",
            },
            *values["failed_rules"],  # type: ignore[misc]
        ]
    return Graded(attempt.id, values, items_out)


async def grade_attempt(db: AsyncSession, attempt_id: int, now: dt.datetime) -> Result:
    """Grade one submitted attempt into ``results``/``result_items`` (idempotent)."""
    await grade_attempts(db, [attempt_id], now)
    result = await db.get(Result, attempt_id, populate_existing=True)
    assert result is not None
    return result


async def grade_attempts(db: AsyncSession, attempt_ids: Sequence[int], now: dt.datetime) -> int:
    """Grade many attempts with a handful of statements (idempotent); returns how many.

    Per exam the sections and questions are loaded once; answer logs for the whole batch
    in one query; results in one multi-row upsert and result_items in one multi-row insert
    (docs/operations.md, "Grading at scale").
    """
    attempts = list(await db.scalars(select(Attempt).where(Attempt.id.in_(attempt_ids))))
    if not attempts:
        return 0
    ids = [a.id for a in attempts]
    logs: dict[int, list[tuple[int, str, int | None, Any, dt.datetime]]] = {i: [] for i in ids}
    rows = await db.execute(
        select(
            AnswerLog.attempt_id,
            AnswerLog.seq,
            AnswerLog.kind,
            AnswerLog.q,
            AnswerLog.value,
            AnswerLog.saved_at,
        ).where(AnswerLog.attempt_id.in_(ids))
    )
    for attempt_id, *rest in rows:
        logs[attempt_id].append(tuple(rest))
    found = await db.execute(
        select(Result.attempt_id, Result.verify_code).where(Result.attempt_id.in_(ids))
    )
    codes = {attempt_id: code for attempt_id, code in found}
    graded: list[Graded] = []
    for exam_id in sorted({a.exam_id for a in attempts}):
        exam = await db.get(Exam, exam_id)
        assert exam is not None
        sections = list(
            await db.scalars(
                select(ExamSection)
                .where(ExamSection.exam_id == exam_id)
                .order_by(ExamSection.position)
            )
        )
        mine = [a for a in attempts if a.exam_id == exam_id]
        qids = {q for a in mine for q in a.question_ids}
        items = {
            q.id: item_from_question(q)
            for q in await db.scalars(select(Question).where(Question.id.in_(qids)))
        }
        graded.extend(grade_one(a, exam, sections, items, logs[a.id], now) for a in mine)
    stmt = insert(Result).values(
        [
            {
                "attempt_id": g.attempt_id,
                "verify_code": codes.get(g.attempt_id) or new_verify_code(),
                **g.values,
            }
            for g in graded
        ]
    )
    update = {k: stmt.excluded[k] for k in graded[0].values}
    await db.execute(stmt.on_conflict_do_update(index_elements=["attempt_id"], set_=update))
    await db.execute(delete(ResultItem).where(ResultItem.attempt_id.in_(ids)))
    await _write_items([item for g in graded for item in g.items], db)
    return len(graded)


ITEM_COLUMNS = ("attempt_id", "q", "question_id", "choice", "correct", "points", "changed_at")


async def _write_items(items: list[dict[str, Any]], db: AsyncSession) -> None:
    """result_items by COPY on asyncpg (110 rows per attempt, 1.1 million for 10,000)."""
    if not items:
        return
    conn = await db.connection()
    raw = (await conn.get_raw_connection()).driver_connection
    if raw is not None and hasattr(raw, "copy_records_to_table"):
        records = [
            (
                i["attempt_id"],
                i["q"],
                i["question_id"],
                json.dumps(i["choice"]),
                i["correct"],
                float(i["points"]),
                i["changed_at"],
            )
            for i in items
        ]
        await raw.copy_records_to_table("result_items", columns=ITEM_COLUMNS, records=records)
        return
    for start in range(0, len(items), ITEM_ROWS_PER_INSERT):  # another driver: multi-row INSERTs
        await db.execute(insert(ResultItem), items[start : start + ITEM_ROWS_PER_INSERT])


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
