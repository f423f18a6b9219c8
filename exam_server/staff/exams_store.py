"""Exams and sections in PostgreSQL: the changes the exam pages and ``tkd exams`` share.

Each function checks, changes and writes its audit entry inside the caller's transaction;
a refusal raises ``FormError`` before anything is written, so the caller's rollback is moot.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from exam_server.db.audit import Actor, changed, record, snapshot
from exam_server.db.models import Attempt, Exam, ExamQuestion, ExamSection, Question, Result
from exam_server.delivery.papers import paper_ids
from exam_server.staff.exam_forms import ExamValues, FormError, section_values
from question_bank.assembly import ItemRef

EXAM_FIELDS = (
    "code",
    "title",
    "shared_minutes",
    "results_release",
    "release_at",
    "total_pass_mark",
    "shuffle_questions",
    "shuffle_options",
    "rules_id",
    "rules_en",
    "show_answer_sheet",
)
SECTION_FIELDS = (
    "code",
    "name",
    "question_count",
    "minutes",
    "scoring",
    "pass_mark",
    "draw",
    "balance_difficulty",
    "category_quota",
)


def _taken(code: str) -> FormError:
    return FormError(f"Kode {code} sudah dipakai.", f"The code {code} is taken.")


async def get_exam(db: AsyncSession, exam_id: int, lock: bool = False) -> Exam | None:
    """The exam, or None; ``lock`` holds its row (FOR UPDATE) until the caller commits, so
    changes to one exam happen one at a time."""
    return await db.get(Exam, exam_id, with_for_update=lock)


async def exams_by_code(db: AsyncSession) -> list[Exam]:
    return list(await db.scalars(select(Exam).order_by(Exam.code)))


async def exams_newest_first(db: AsyncSession) -> list[Exam]:
    return list(await db.scalars(select(Exam).order_by(Exam.created_at.desc())))


async def find_exam(db: AsyncSession, ref: str | int) -> Exam:
    """An exam by id or by code (the command line accepts either)."""
    text = str(ref).strip()
    exam = await db.get(Exam, int(text)) if text.isdigit() else None
    if exam is None:
        exam = await db.scalar(select(Exam).where(Exam.code == text))
    if exam is None:
        raise FormError(f"Ujian {text} tidak ada.", f"No exam {text}.")
    return exam


async def create_exam(db: AsyncSession, actor: Actor, values: ExamValues) -> Exam:
    if await db.scalar(select(Exam.id).where(Exam.code == values.code)):
        raise _taken(values.code)
    exam = Exam(**asdict(values))
    db.add(exam)
    await db.flush()
    record(db, actor, "exam.create", "exam", exam.id, new=snapshot(exam, EXAM_FIELDS))
    return exam


# The fields that decide a result: fixed once the first candidate starts (docs/scoring.md).
RULE_EXAM_FIELDS = ("total_pass_mark",)


@dataclass(frozen=True)
class RuleOverride:
    """Who asks to change a locked rule, and why: only an admin, only with a reason."""

    admin: bool = False
    reason: str = ""


async def rules_locked(db: AsyncSession, exam_id: int) -> bool:
    return bool(await db.scalar(select(Attempt.id).where(Attempt.exam_id == exam_id).limit(1)))


async def guard_rules(
    db: AsyncSession, actor: Actor, exam: Exam, fields: list[str], override: RuleOverride | None
) -> str:
    """Refuse a rule change on a started exam unless an admin gives a reason; when allowed,
    mark every graded result of the exam for re-grade. Returns the reason ("" if unlocked)."""
    if not fields or not await rules_locked(db, exam.id):
        return ""
    if override is None or not override.admin:
        raise FormError(
            "Aturan penilaian terkunci: peserta sudah mulai. Hanya admin yang dapat mengubahnya, "
            f"dengan alasan, lalu menilai ulang ({', '.join(fields)}).",
            "Scoring rules are locked: candidates have started. Only an admin may change them, "
            f"with a reason, then re-grade ({', '.join(fields)}).",
        )
    reason = override.reason.strip()
    if not reason:
        raise FormError(
            "Alasan perubahan aturan wajib diisi.", "A reason for the rule change is required."
        )
    mark = f"{', '.join(fields)} ({actor.username}: {reason})"
    await db.execute(
        update(Result)
        .where(Result.attempt_id.in_(select(Attempt.id).where(Attempt.exam_id == exam.id)))
        .values(stale_reason=mark)
    )
    record(db, actor, "exam.rules_changed", "exam", exam.id, new={"fields": fields}, reason=reason)
    return reason


async def mark_question_results_stale(db: AsyncSession, question_id: int, why: str) -> int:
    """After a key or text correction: every graded result of an exam that uses the question
    shows that it awaits the explicit re-grade. Returns how many results were marked."""
    exams = (
        select(ExamSection.exam_id)
        .join(ExamQuestion, ExamQuestion.section_id == ExamSection.id)
        .where(ExamQuestion.question_id == question_id)
    )
    done = await db.execute(
        update(Result)
        .where(Result.attempt_id.in_(select(Attempt.id).where(Attempt.exam_id.in_(exams))))
        .values(stale_reason=why)
    )
    return int(done.rowcount or 0)  # type: ignore[attr-defined]


async def update_exam(
    db: AsyncSession,
    actor: Actor,
    exam: Exam,
    values: ExamValues,
    override: RuleOverride | None = None,
) -> bool:
    """Whether anything changed; the exam must be locked by the caller."""
    clash = await db.scalar(select(Exam.id).where(Exam.code == values.code, Exam.id != exam.id))
    if clash:
        raise _taken(values.code)
    old, new = changed(snapshot(exam, EXAM_FIELDS), asdict(values))
    reason = await guard_rules(db, actor, exam, [k for k in new if k in RULE_EXAM_FIELDS], override)
    for key, value in asdict(values).items():
        setattr(exam, key, value)
    if new:
        record(db, actor, "exam.update", "exam", exam.id, old=old, new=new, reason=reason)
    return bool(new)


async def exam_sections(db: AsyncSession, exam_id: int) -> list[ExamSection]:
    return list(
        await db.scalars(
            select(ExamSection).where(ExamSection.exam_id == exam_id).order_by(ExamSection.position)
        )
    )


async def get_section(db: AsyncSession, section_id: int, lock: bool = False) -> ExamSection | None:
    """The section, or None; ``lock`` holds its row (FOR UPDATE) until the caller commits."""
    return await db.get(ExamSection, section_id, with_for_update=lock)


async def find_section(db: AsyncSession, exam: Exam, ref: str | int) -> ExamSection:
    text = str(ref).strip()
    for section in await exam_sections(db, exam.id):
        if str(section.id) == text or section.code == text.upper():
            return section
    raise FormError(
        f"Bagian {text} tidak ada di ujian {exam.code}.", f"No section {text} in exam {exam.code}."
    )


async def save_section(
    db: AsyncSession,
    actor: Actor,
    exam: Exam,
    form: Mapping[str, Any],
    section: ExamSection | None = None,
    override: RuleOverride | None = None,
) -> ExamSection:
    """Add a section (``section`` None) or change one, from the section form's fields."""
    values = section_values(form, shared_clock=exam.shared_minutes is not None)
    if section is None:
        await guard_rules(db, actor, exam, ["section"], override)
    clash = await db.scalar(
        select(ExamSection.id).where(
            ExamSection.exam_id == exam.id,
            ExamSection.code == values.code,
            ExamSection.id != (section.id if section else 0),
        )
    )
    if clash:
        raise FormError(
            f"Kode bagian {values.code} sudah ada.",
            f"The section code {values.code} is already used.",
        )
    if section is None:
        position = await db.scalar(
            select(func.coalesce(func.max(ExamSection.position) + 1, 0)).where(
                ExamSection.exam_id == exam.id
            )
        )
        section = ExamSection(exam_id=exam.id, position=position, **asdict(values))
        db.add(section)
        await db.flush()
        record(
            db,
            actor,
            "section.create",
            "exam",
            exam.id,
            new={"section": snapshot(section, SECTION_FIELDS)},
        )
        return section
    old, new = changed(snapshot(section, SECTION_FIELDS), asdict(values))
    reason = await guard_rules(db, actor, exam, [f"{section.code}.{k}" for k in new], override)
    for key, value in asdict(values).items():
        setattr(section, key, value)
    if new:
        record(
            db,
            actor,
            "section.update",
            "exam",
            exam.id,
            old={"section": section.code, **old},
            new=new,
            reason=reason,
        )
    return section


async def delete_section(db: AsyncSession, actor: Actor, section: ExamSection) -> None:
    """Remove a section (and its pool) before anybody has started; the rest close ranks."""
    if await db.scalar(select(Attempt.id).where(Attempt.exam_id == section.exam_id).limit(1)):
        raise FormError(
            "Ujian sudah dimulai peserta; bagian tidak dapat dihapus.",
            "Candidates have started this exam; its sections cannot be removed.",
        )
    pool = list(
        await db.scalars(
            select(ExamQuestion.question_id)
            .where(ExamQuestion.section_id == section.id)
            .order_by(ExamQuestion.position)
        )
    )
    old = {"section": snapshot(section, SECTION_FIELDS), "question_ids": pool}
    exam_id = section.exam_id
    await db.delete(section)  # its pool goes with it (ON DELETE CASCADE)
    await db.flush()
    for position, rest in enumerate(await exam_sections(db, exam_id)):
        if rest.position != position:
            rest.position = position
            await db.flush()  # one at a time, upwards: (exam, position) stays unique
    record(db, actor, "section.delete", "exam", exam_id, old=old)


async def fill_section(
    db: AsyncSession,
    actor: Actor,
    section: ExamSection,
    bank_section: str,
    category: str = "",
    count: int | None = None,
    order: str = "first",
) -> list[int]:
    """Set a section's pool from the bank (by bank section and category); the chosen ids.

    ``count`` None takes every matching question; ``order`` "random" samples them.
    """
    if await db.scalar(select(Attempt.id).where(Attempt.exam_id == section.exam_id).limit(1)):
        raise FormError(
            "Ujian sudah dimulai peserta; soal tidak dapat diganti.",
            "Candidates have started this exam; its questions cannot change.",
        )
    query = select(Question.id).where(Question.section == bank_section)
    if category:
        query = query.where(Question.category == category)
    ids = list(await db.scalars(query.order_by(Question.id)))
    count = len(ids) if count is None else count
    where = f"{bank_section}/{category or '*'}"
    if count > len(ids) or not ids or count < 1:
        raise FormError(
            f"Bank hanya punya {len(ids)} soal untuk {where}, diminta {count}.",
            f"The bank has only {len(ids)} questions for {where}, {count} asked.",
        )
    chosen = random.SystemRandom().sample(ids, count) if order == "random" else ids[:count]
    old_ids = list(
        await db.scalars(
            select(ExamQuestion.question_id)
            .where(ExamQuestion.section_id == section.id)
            .order_by(ExamQuestion.position)
        )
    )
    await db.execute(delete(ExamQuestion).where(ExamQuestion.section_id == section.id))
    db.add_all(
        ExamQuestion(section_id=section.id, question_id=q, position=i) for i, q in enumerate(chosen)
    )
    note = ""
    if section.question_count > len(chosen):
        section.question_count = len(chosen)  # a paper cannot draw more than its pool
        note = f" question_count={len(chosen)}"
    record(
        db,
        actor,
        "section.questions",
        "exam",
        section.exam_id,
        old={"section": section.code, "question_ids": old_ids},
        new={"section": section.code, "question_ids": chosen, "from": f"{where} {order}{note}"},
    )
    return chosen


def draw_problems(
    sections: list[ExamSection], pools: dict[int, list[ItemRef]], lang: str
) -> dict[int, str]:
    """Why a section's pool cannot give every candidate a full paper, by section id."""
    problems = {}
    for section in sections:
        try:
            (ids,) = paper_ids([section], pools, "check", exam_seed="check")
        except ValueError as exc:
            problems[section.id] = str(exc).split(" / ")[lang == "en"]
            continue
        if len(ids) < section.question_count:
            problems[section.id] = (
                f"Kumpulan soal hanya {len(ids)}, kurang dari {section.question_count} per peserta."
                if lang == "id"
                else f"The pool holds only {len(ids)}, fewer than {section.question_count} per candidate."
            )
    return problems
