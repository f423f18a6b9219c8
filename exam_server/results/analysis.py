"""Item analysis of one exam from its stored answers (``result_items``).

The statistics are the pure functions of :mod:`exam_server.grading.item_analysis`; this module
reads the response matrix per section and attaches what the committee needs to find the
question: its id, the start of its text and its key.
"""

from __future__ import annotations

import html
import re
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from exam_server.bank.store import item_from_question
from exam_server.db.models import Attempt, ExamQuestion, ExamSection, Question, ResultItem
from exam_server.grading.grade import rule_from_section
from exam_server.grading.item_analysis import (
    REASONS,
    ItemStats,
    Reliability,
    Response,
    analyse_items,
    analysis_rows,
    section_reliability,
)
from exam_server.grading.scoring import ScoringModel, max_points

FLAG_TEXT: dict[str, tuple[str, str]] = {
    "negative_discrimination": (
        "daya beda negatif: periksa kunci",
        "negative discrimination: check the key",
    ),
    "too_easy": ("terlalu mudah", "too easy"),
    "too_hard": ("terlalu sulit", "too hard"),
    "distractor_never_chosen": ("ada pengecoh tak pernah dipilih", "a distractor nobody chose"),
}
_TAGS = re.compile(r"<[^>]+>")


def excerpt(stem_html: str, length: int = 90) -> str:
    plain = " ".join(html.unescape(_TAGS.sub(" ", stem_html)).split())
    return plain if len(plain) <= length else plain[: length - 1] + "…"


@dataclass(frozen=True)
class ItemRow:
    section: str
    question_id: int
    excerpt: str
    key: str  # correct option ids, or "bobot" for weighted items
    stats: ItemStats


@dataclass(frozen=True)
class SectionAnalysis:
    code: str
    name: str
    candidates: int
    reliability: float | None  # KR-20 for right/wrong sections, alpha for weighted ones
    reliability_name: str
    items: list[ItemRow]
    reliability_reason: tuple[str, str] | None = None  # why it is missing, (id, en)


def _choice(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(sorted(str(v) for v in value))


async def analyse_exam(db: AsyncSession, exam_id: int) -> list[SectionAnalysis]:
    sections = list(
        await db.scalars(
            select(ExamSection).where(ExamSection.exam_id == exam_id).order_by(ExamSection.position)
        )
    )
    pool = (
        await db.execute(
            select(ExamQuestion.question_id, ExamQuestion.section_id).where(
                ExamQuestion.section_id.in_([s.id for s in sections])
            )
        )
    ).all()
    section_of_question = {qid: sid for qid, sid in pool}
    matrices: dict[int, dict[int, dict[str, Response]]] = defaultdict(lambda: defaultdict(dict))
    seen_questions: set[int] = set()
    result = await db.stream(
        select(
            ResultItem.attempt_id,
            ResultItem.question_id,
            ResultItem.choice,
            ResultItem.points,
            ResultItem.correct,
        )
        .join(Attempt, Attempt.id == ResultItem.attempt_id)
        .where(Attempt.exam_id == exam_id)
    )
    async for part in result.partitions(5000):
        for attempt_id, qid, choice, points, correct in part:
            sid = section_of_question.get(qid)
            if sid is None:
                continue  # the question left the exam after grading; nothing to fix there
            matrices[sid][attempt_id][str(qid)] = Response(_choice(choice), points, correct)
            seen_questions.add(qid)
    questions = {
        q.id: q for q in await db.scalars(select(Question).where(Question.id.in_(seen_questions)))
    }
    out = []
    for position, sec in enumerate(sections):
        rule = rule_from_section(sec, len(sections) - position)
        qids = [qid for qid, sid in pool if sid == sec.id and qid in questions]
        items = {qid: item_from_question(questions[qid]) for qid in qids}
        options = {str(qid): [o.id for o in items[qid].options] for qid in qids}
        tops = {str(qid): max_points(items[qid], rule) for qid in qids}
        matrix = list(matrices[sec.id].values())
        weighted = rule.model is ScoringModel.WEIGHTED
        # The key is never an "unused distractor", even when nobody found it.
        keys = {
            str(q): list(items[q].correct_ids) for q in qids if not (weighted or items[q].weighted)
        }
        stats = analyse_items(matrix, options, tops, keys=keys)
        # Reliability needs one set of items that everybody answered: the questions that
        # were on the papers (a pool can be larger than a paper), unless each candidate
        # drew a paper of their own.
        on_papers = [q for q in options if any(q in row for row in matrix)]
        rel = section_reliability(matrix, on_papers, weighted)
        if sec.draw == "per_candidate":
            rel = Reliability(rel.method, None, len(on_papers), 0, "different_papers")
        rows = [
            ItemRow(
                section=sec.code,
                question_id=int(s.item),
                excerpt=excerpt(questions[int(s.item)].stem_html),
                key="bobot"
                if weighted or items[int(s.item)].weighted
                else ",".join(items[int(s.item)].correct_ids),
                stats=s,
            )
            for s in stats
        ]
        out.append(
            SectionAnalysis(
                code=sec.code,
                name=sec.name,
                candidates=len(matrix),
                reliability=rel.value,
                reliability_name=rel.method,
                items=rows,
                reliability_reason=REASONS.get(rel.reason or "") if rel.value is None else None,
            )
        )
    return out


def export_rows(
    sections: list[SectionAnalysis], lang: str = "id"
) -> tuple[list[str], list[list[Any]]]:
    """Header and rows for the CSV/XLSX export of an analysis."""
    en = lang == "en"
    header = [
        "Section" if en else "Bagian",
        "Question id" if en else "ID soal",
        "Question" if en else "Soal",
        "Key" if en else "Kunci",
        "n",
        "p",
        "Point-biserial",
        "Upper-lower 27%" if en else "Atas-bawah 27%",
        "Options chosen" if en else "Sebaran pilihan",
        "Flags" if en else "Tanda",
        "Reliability" if en else "Reliabilitas bagian",
    ]
    rows: list[list[Any]] = []
    for sec in sections:
        flat = analysis_rows([r.stats for r in sec.items])
        for item, values in zip(sec.items, flat, strict=True):
            flags = "; ".join(FLAG_TEXT.get(f, (f, f))[en] for f in item.stats.flags)
            rel = None if sec.reliability is None else round(sec.reliability, 3)
            rows.append(
                [
                    sec.code,
                    item.question_id,
                    item.excerpt,
                    item.key,
                    values["n"],
                    values["p"],
                    values["point_biserial"],
                    values["upper_lower"],
                    values["distractors"],
                    flags,
                    rel,
                ]
            )
    return header, rows
