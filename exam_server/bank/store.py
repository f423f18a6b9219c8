"""Storing question-bank items in PostgreSQL (used by the CLI, the demo and staff pages).

Items are keyed by their content hash, so importing the same file twice adds nothing.
Every function takes the caller's ``AsyncSession`` and leaves committing (and auditing) to
the caller, so an import, a key correction or a text edit is all or nothing with the
caller's other work.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from exam_server.db.models import Attempt, Exam, ExamQuestion, ExamSection, Question, QuestionImage
from question_bank.items import Image, Item, ItemKind, Option
from question_bank.sanitize import cell_to_html, html_to_cell
from question_bank.validation import Finding, item_findings


@dataclass(frozen=True)
class SaveReport:
    ids: list[int]  # one per item, in order, new or existing
    imported: int
    duplicates: int


def option_value(option: Option) -> dict[str, object]:
    """An option as the ``questions.options`` JSON holds it."""
    return {"id": option.id, "html": option.html, "score": option.score, "fixed": option.fixed}


def row_values(item: Item) -> dict[str, object]:
    return {
        "content_hash": item.content_hash(),
        "kind": item.kind.value,
        "section": item.section,
        "category": item.category,
        "tags": list(item.tags),
        "difficulty": item.difficulty,
        "weighted": item.weighted,
        "all_or_nothing": item.all_or_nothing,
        "external_id": item.external_id,
        "stem_html": item.stem_html,
        "options": [option_value(o) for o in item.options],
        "lower_bound": item.lower_bound,
        "upper_bound": item.upper_bound,
    }


def item_from_question(q: Question, images: Sequence[QuestionImage] = ()) -> Item:
    """The item as imported; pass its images when they matter (exports, hashes)."""
    return Item(
        kind=ItemKind(q.kind),
        stem_html=q.stem_html,
        options=tuple(
            Option(
                id=o["id"],
                html=o["html"],
                score=float(o.get("score", 0)),
                fixed=bool(o.get("fixed")),
            )
            for o in q.options
        ),
        section=q.section,
        category=q.category,
        tags=tuple(q.tags or ()),
        difficulty=q.difficulty,
        weighted=q.weighted,
        all_or_nothing=q.all_or_nothing,
        external_id=q.external_id,
        images=tuple(Image(i.name, i.media_type, i.data) for i in images),
        lower_bound=q.lower_bound,
        upper_bound=q.upper_bound,
    )


async def save_items(db: AsyncSession, items: Sequence[Item]) -> SaveReport:
    """Insert items whose content hash is new; the caller commits (all or nothing)."""
    hashes = [item.content_hash() for item in items]
    existing = dict(
        (
            await db.execute(
                select(Question.content_hash, Question.id).where(Question.content_hash.in_(hashes))
            )
        ).all()
    )
    imported = 0
    for item, digest in zip(items, hashes, strict=True):
        if digest in existing:
            continue
        new_id = (
            await db.execute(
                insert(Question)
                .values(**row_values(item))
                .on_conflict_do_nothing(index_elements=["content_hash"])
                .returning(Question.id)
            )
        ).scalar()
        if new_id is None:  # a concurrent import won the race
            new_id = (
                await db.scalars(select(Question.id).where(Question.content_hash == digest))
            ).one()
        else:
            imported += 1
            for image in item.images:
                db.add(
                    QuestionImage(
                        question_id=new_id,
                        name=image.name,
                        media_type=image.media_type,
                        data=image.data,
                    )
                )
        existing[digest] = new_id
    return SaveReport(
        ids=[existing[h] for h in hashes], imported=imported, duplicates=len(items) - imported
    )


@dataclass(frozen=True)
class KeyCorrection:
    """What a key correction changed: option id -> score, before and after."""

    question_id: int
    old: dict[str, float]
    new: dict[str, float]


class KeyRefused(Exception):
    """The corrected item breaks a rule, or would be the same as another bank question."""

    def __init__(self, findings: list[Finding]) -> None:
        super().__init__(findings)
        self.findings = findings


async def question_images(db: AsyncSession, question_id: int) -> list[QuestionImage]:
    """The question's images, as an item's content hash counts them."""
    return list(
        await db.scalars(select(QuestionImage).where(QuestionImage.question_id == question_id))
    )


async def _refuse_copy(db: AsyncSession, digest: str, question_id: int) -> None:
    """Raise ``KeyRefused`` when another question already has this content hash: two bank
    questions may not become the same question by a correction."""
    other = await db.scalar(
        select(Question.id).where(Question.content_hash == digest, Question.id != question_id)
    )
    if other is not None:
        raise KeyRefused(
            [("duplicate", {"first_id": f"soal #{other}", "first_en": f"question #{other}"})]
        )


async def correct_key(
    db: AsyncSession, question_id: int, scores: Mapping[str, float]
) -> KeyCorrection:
    """Give the question new option scores, keeping its content hash true; the caller commits.

    The question keeps its id, so exams that use it and answers already given stay attached
    and a re-grade applies the new key. Raises ``KeyRefused`` (and changes nothing) when the
    new scores break a rule or turn it into a copy of another question in the bank.
    """
    question = await db.get(Question, question_id, with_for_update=True)
    if question is None:
        raise LookupError(f"question {question_id} does not exist")
    before = item_from_question(question, await question_images(db, question_id))
    after = before.with_scores(scores)
    findings = item_findings(after)
    if findings:
        raise KeyRefused(findings)
    digest = after.content_hash()
    await _refuse_copy(db, digest, question_id)
    question.options = [option_value(o) for o in after.options]
    question.content_hash = digest
    return KeyCorrection(
        question_id,
        old={o.id: o.score for o in before.options},
        new={o.id: o.score for o in after.options},
    )


async def bank_counts(db: AsyncSession) -> list[tuple[str, str, int]]:
    """How many questions the bank holds per section and category."""
    rows = await db.execute(
        select(Question.section, Question.category, func.count())
        .group_by(Question.section, Question.category)
        .order_by(Question.section, Question.category)
    )
    return [(str(section), str(category), int(n)) for section, category, n in rows]


async def bank_items(db: AsyncSession, section: str | None = None) -> list[Item]:
    """Every question (or a section's) as an item with its images, in id order: what an
    export writes."""
    query = select(Question).order_by(Question.id)
    images_query = select(QuestionImage)
    if section:
        query = query.where(Question.section == section)
        # A subquery, not a list of ids: a large bank would pass the driver's parameter limit.
        images_query = images_query.where(
            QuestionImage.question_id.in_(select(Question.id).where(Question.section == section))
        )
    questions = list(await db.scalars(query))
    images: dict[int, list[QuestionImage]] = {}
    for image in await db.scalars(images_query):
        images.setdefault(image.question_id, []).append(image)
    return [item_from_question(q, images.get(q.id, ())) for q in questions]


@dataclass(frozen=True)
class QuestionSearch:
    """One page of the bank's question list and how many questions matched in all."""

    total: int
    questions: list[Question]


async def search_questions(
    db: AsyncSession, text: str, section: str, page_no: int, page_size: int
) -> QuestionSearch:
    """Questions whose text, external id or category holds ``text`` (or whose id it is),
    in ``section`` when one is given, in id order, page ``page_no`` (from 1)."""
    query = select(Question)
    if text:
        pattern = f"%{text}%"
        matches: list[ColumnElement[bool]] = [
            Question.stem_html.ilike(pattern),
            Question.external_id.ilike(pattern),
            Question.category.ilike(pattern),
        ]
        if text.isdigit():
            matches.append(Question.id == int(text))
        query = query.where(or_(*matches))
    if section:
        query = query.where(Question.section == section)
    total = int(await db.scalar(select(func.count()).select_from(query.subquery())) or 0)
    page_query = query.order_by(Question.id).offset((page_no - 1) * page_size).limit(page_size)
    return QuestionSearch(total, list(await db.scalars(page_query)))


async def bank_sections(db: AsyncSession) -> list[str]:
    """The section codes the bank's questions carry, sorted, without the empty one."""
    return sorted(s for s in await db.scalars(select(Question.section).distinct()) if s)


async def get_question(db: AsyncSession, question_id: int) -> Question | None:
    return await db.get(Question, question_id)


async def exam_sections_using(db: AsyncSession, question_id: int) -> list[tuple[int, str]]:
    """(exam id, section code) of every exam section that draws the question."""
    rows = await db.execute(
        select(ExamSection.exam_id, ExamSection.code)
        .join(ExamQuestion)
        .where(ExamQuestion.question_id == question_id)
        .distinct()
    )
    return [(exam_id, code) for exam_id, code in rows]


async def exam_codes_using(db: AsyncSession, question_id: int) -> list[str]:
    """The codes of the exams that use the question, sorted: the ones to re-grade after a
    key correction."""
    return list(
        await db.scalars(
            select(Exam.code)
            .join(ExamSection, ExamSection.exam_id == Exam.id)
            .join(ExamQuestion, ExamQuestion.section_id == ExamSection.id)
            .where(ExamQuestion.question_id == question_id)
            .distinct()
            .order_by(Exam.code)
        )
    )


async def started_exams_using(db: AsyncSession, question_id: int) -> list[int]:
    """The exams that use the question and that some candidate has started: their rules,
    this question's text included, are fixed (docs/scoring.md)."""
    rows = await db.scalars(
        select(ExamSection.exam_id)
        .join(ExamQuestion, ExamQuestion.section_id == ExamSection.id)
        .where(ExamQuestion.question_id == question_id)
        .where(ExamSection.exam_id.in_(select(Attempt.exam_id)))
        .distinct()
    )
    return list(rows)


@dataclass(frozen=True)
class TextEdit:
    """What a text edit changed: the stem and each option's text, before and after."""

    question_id: int
    old: dict[str, str]
    new: dict[str, str]


async def edit_text(
    db: AsyncSession, question_id: int, stem: str, options: Mapping[str, str]
) -> TextEdit:
    """Give the question a corrected stem and option texts (typo fixes), keeping its id,
    scores and content hash true; the caller commits and audits.

    Texts are plain text or HTML, cleaned as an import cleans them. Raises ``KeyRefused``
    (and changes nothing) when the edit breaks a rule or copies another bank question.
    """
    question = await db.get(Question, question_id, with_for_update=True)
    if question is None:
        raise LookupError(f"question {question_id} does not exist")
    before = item_from_question(question, await question_images(db, question_id))
    after = replace(
        before,
        stem_html=cell_to_html(stem.strip()),
        options=tuple(
            replace(o, html=cell_to_html(options.get(o.id, html_to_cell(o.html)).strip()))
            for o in before.options
        ),
    )
    findings = item_findings(after)
    if findings:
        raise KeyRefused(findings)
    digest = after.content_hash()
    await _refuse_copy(db, digest, question_id)
    values = row_values(after)
    question.stem_html = str(values["stem_html"])
    question.options = values["options"]  # type: ignore[assignment]
    question.content_hash = digest

    def texts(item: Item) -> dict[str, str]:
        return {"soal": item.stem_html, **{f"opsi {o.id}": o.html for o in item.options}}

    old, new = texts(before), texts(after)
    changed = [k for k in new if old.get(k) != new[k]]
    return TextEdit(question_id, {k: old[k] for k in changed}, {k: new[k] for k in changed})
