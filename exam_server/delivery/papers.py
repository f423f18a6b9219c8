"""Each candidate's paper: which question sits at which position, as they see it.

Papers and question texts are read from PostgreSQL once per worker and kept in memory:
they never change during an attempt, and the answer path must not wait on the database.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from exam_server.db.models import (
    AnswerLog,
    Attempt,
    Exam,
    ExamQuestion,
    ExamSection,
    ExamSession,
    Question,
)
from exam_server.delivery.checkpoint import LoggedChange, hash_from_log
from exam_server.delivery.prepared import PreparedStore
from exam_server.delivery.protocol import Answer, Change, Doubt
from exam_server.delivery.seq import Clock
from question_bank.assembly import (
    Blueprint,
    ItemRef,
    SectionPlan,
    draw_questions,
    option_order,
    question_order,
)


@dataclass(frozen=True, slots=True)
class DeliveredQuestion:
    id: int
    kind: str
    section: str
    stem_html: str
    options: dict[str, str]  # option id -> html, in the bank's order


@dataclass(frozen=True, slots=True)
class Paper:
    attempt_id: int
    candidate_id: int
    session_id: int
    exam_id: int
    question_ids: tuple[int, ...]
    option_orders: tuple[tuple[str, ...], ...]
    sections: tuple[dict[str, Any], ...]
    results_release: str = "immediate"

    @property
    def n(self) -> int:
        return len(self.question_ids)

    def section_of(self, q: int) -> str:
        for sec in self.sections:
            if sec["start"] <= q < sec["start"] + sec["count"]:
                return str(sec["code"])
        return ""


def delivered(q: Question) -> DeliveredQuestion:
    return DeliveredQuestion(
        id=q.id,
        kind=q.kind,
        section=q.section,
        stem_html=q.stem_html,
        options={o["id"]: o["html"] for o in q.options},
    )


def delivered_json(q: Question) -> str:
    """A question as a prepared session keeps it in Redis."""
    return json.dumps(
        {
            "kind": q.kind,
            "section": q.section,
            "stem": q.stem_html,
            "options": [[o["id"], o["html"]] for o in q.options],
        }
    )


def delivered_from_json(qid: int, data: dict[str, Any]) -> DeliveredQuestion:
    return DeliveredQuestion(
        id=qid,
        kind=data["kind"],
        section=data["section"],
        stem_html=data["stem"],
        options={oid: html for oid, html in data["options"]},
    )


def to_ms(moment: dt.datetime) -> int:
    return int(moment.timestamp() * 1000)


class PaperCache:
    """Papers and question texts of this worker, read once and shared by its connections.

    A prepared paper and its questions come from Redis (docs/operations.md, "Prepared
    sessions"), so ``hello`` works while PostgreSQL is away; PostgreSQL is the fallback.
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        max_papers: int = 50_000,
        prepared: PreparedStore | None = None,
    ) -> None:
        self._sessions = sessions
        self._prepared = prepared
        self._papers: OrderedDict[int, Paper] = OrderedDict()
        self._questions: dict[int, DeliveredQuestion] = {}
        self._max = max_papers

    async def paper(self, attempt_id: int) -> Paper | None:
        paper = self._papers.get(attempt_id)
        if paper is not None:
            self._papers.move_to_end(attempt_id)
            return paper
        paper = await self._prepared_paper(attempt_id) or await self._db_paper(attempt_id)
        if paper is None:
            return None
        self._papers[attempt_id] = paper
        if len(self._papers) > self._max:
            self._papers.popitem(last=False)
        return paper

    async def _prepared_paper(self, attempt_id: int) -> Paper | None:
        if self._prepared is None:
            return None
        raw = await self._prepared.paper(attempt_id)
        if not raw:
            return None
        paper = Paper(
            attempt_id=attempt_id,
            candidate_id=int(raw["c"]),
            session_id=int(raw["s"]),
            exam_id=int(raw["e"]),
            question_ids=tuple(json.loads(raw["qids"])),
            option_orders=tuple(tuple(o) for o in json.loads(raw["opts"])),
            sections=tuple(json.loads(raw["secs"])),
            results_release=raw.get("rr", "never"),
        )
        missing = [qid for qid in set(paper.question_ids) if qid not in self._questions]
        for qid, q in (await self._prepared.questions(paper.exam_id, missing)).items():
            self._questions[qid] = delivered_from_json(qid, q)
        if any(qid not in self._questions for qid in paper.question_ids):
            async with self._sessions() as db:
                await self._load_questions(
                    db, [q for q in paper.question_ids if q not in self._questions]
                )
        return paper

    async def _db_paper(self, attempt_id: int) -> Paper | None:
        async with self._sessions() as db:
            row = await db.get(Attempt, attempt_id)
            if row is None:
                return None
            exam = await db.get(Exam, row.exam_id)
            paper = Paper(
                attempt_id=row.id,
                candidate_id=row.candidate_id,
                session_id=row.session_id,
                exam_id=row.exam_id,
                question_ids=tuple(row.question_ids),
                option_orders=tuple(tuple(o) for o in row.option_orders),
                sections=tuple(row.sections),
                results_release=exam.results_release if exam else "never",
            )
            missing = [qid for qid in paper.question_ids if qid not in self._questions]
            if missing:
                await self._load_questions(db, missing)
        return paper

    async def _load_questions(self, db: AsyncSession, ids: list[int]) -> None:
        rows = await db.scalars(select(Question).where(Question.id.in_(ids)))
        for q in rows:
            self._questions[q.id] = delivered(q)

    def question_message(self, paper: Paper, q: int) -> dict[str, Any]:
        question = self._questions[paper.question_ids[q]]
        return {
            "type": "question",
            "q": q,
            "section": paper.section_of(q),
            "kind": question.kind,
            "stem": question.stem_html,
            "options": [
                {"id": oid, "html": question.options[oid]} for oid in paper.option_orders[q]
            ],
            "images_base": f"/media/{question.id}/",
        }

    def invalid_change(self, paper: Paper, change: Change) -> str | None:
        """Why a change cannot apply to this paper, or None; checked before Redis is touched."""
        if isinstance(change, Answer | Doubt) and not 0 <= change.q < paper.n:
            return f"q {change.q} is out of range (0..{paper.n - 1})"
        if isinstance(change, Answer) and change.choice is not None:
            question = self._questions[paper.question_ids[change.q]]
            chosen = (change.choice,) if isinstance(change.choice, str) else change.choice
            if question.kind != "multiple" and isinstance(change.choice, tuple):
                return "this question takes one option id, not a list"
            unknown = [c for c in chosen if c not in question.options]
            if unknown:
                return f"option {unknown[0]!r} does not exist in question {change.q}"
        return None


async def open_attempt(
    db: AsyncSession,
    candidate_id: int,
    session: ExamSession,
    now: dt.datetime,
    prepared: tuple[int, dict[str, str]] | None = None,
) -> Attempt:
    """The candidate's attempt for this session, creating it (and its paper) on first login.

    ``prepared``: the attempt id and paper a session preparation set aside for this seat
    (docs/operations.md); the row then takes exactly those, whichever path creates it.
    """
    existing = await db.scalar(
        select(Attempt).where(
            Attempt.candidate_id == candidate_id, Attempt.session_id == session.id
        )
    )
    if existing is not None:
        return existing
    exam = await db.get(Exam, session.exam_id)
    assert exam is not None
    sections = list(
        await db.scalars(
            select(ExamSection).where(ExamSection.exam_id == exam.id).order_by(ExamSection.position)
        )
    )
    values: dict[str, Any] = {}
    if prepared is not None:
        attempt_id, paper = prepared
        values = {
            "id": attempt_id,
            "seed": paper["seed"],
            "question_ids": json.loads(paper["qids"]),
            "option_orders": json.loads(paper["opts"]),
            "sections": json.loads(paper["secs"]),
        }
    else:
        pools = await section_pools(db, exam.id)
        seed = secrets.token_hex(16)
        ids = {ref.id for pool in pools.values() for ref in pool}
        questions = {
            q.id: q for q in await db.scalars(select(Question).where(Question.id.in_(ids)))
        }
        order, option_orders, layout = build_paper(exam, sections, pools, questions, seed)
        values = {
            "seed": seed,
            "question_ids": order,
            "option_orders": option_orders,
            "sections": layout,
        }
    minutes = exam.shared_minutes or sum(sec.minutes or 0 for sec in sections)
    starts_at = max(now, session.starts_at)
    deadline = min(starts_at + dt.timedelta(minutes=minutes), session.ends_at)
    stmt = (
        insert(Attempt)
        .values(
            candidate_id=candidate_id,
            session_id=session.id,
            exam_id=exam.id,
            status="running",
            starts_at=starts_at,
            deadline_at=deadline,
            paused_ms=0,
            durable_seq=0,
            **values,
        )
        .on_conflict_do_nothing()
    )
    await db.execute(stmt)
    await db.commit()
    attempt = await db.scalar(
        select(Attempt).where(
            Attempt.candidate_id == candidate_id, Attempt.session_id == session.id
        )
    )
    assert attempt is not None
    return attempt


def build_paper(
    exam: Exam,
    sections: list[ExamSection],
    pools: dict[int, list[ItemRef]],
    questions: dict[int, Question],
    seed: str,
) -> tuple[list[int], list[list[str]], list[dict[str, Any]]]:
    """One candidate's paper from the seed: question order, option orders, section layout.

    ValueError when a pool cannot fill its section. Shared by the first login and by
    preparing a session ahead (docs/operations.md), so both give the same kind of paper.
    """
    ids_by_section = paper_ids(sections, pools, seed, exam_seed=f"exam:{exam.id}")
    order = question_order(ids_by_section, seed, shuffle=exam.shuffle_questions)
    option_orders = []
    for qid in order:
        opts = questions[qid].options
        ids = [o["id"] for o in opts]
        if exam.shuffle_options and questions[qid].kind != "true_false":
            ids = option_order(ids, [bool(o.get("fixed")) for o in opts], seed, qid)
        option_orders.append(ids)
    layout, start = [], 0
    for sec, ids in zip(sections, ids_by_section, strict=True):
        layout.append(
            {
                "code": sec.code,
                "name": sec.name,
                "start": start,
                "count": len(ids),
                "minutes": sec.minutes,
            }
        )
        start += len(ids)
    return order, option_orders, layout


async def section_pools(db: AsyncSession, exam_id: int) -> dict[int, list[ItemRef]]:
    """Each section's pool in the committee's order, with what a blueprint draw needs."""
    rows = await db.execute(
        select(
            ExamQuestion.section_id,
            ExamSection.code,
            Question.id,
            Question.category,
            Question.difficulty,
        )
        .join(ExamSection, ExamSection.id == ExamQuestion.section_id)
        .join(Question, Question.id == ExamQuestion.question_id)
        .where(ExamSection.exam_id == exam_id)
        .order_by(ExamQuestion.section_id, ExamQuestion.position)
    )
    pools: dict[int, list[ItemRef]] = {}
    for section_id, code, qid, category, difficulty in rows:
        pools.setdefault(section_id, []).append(ItemRef(qid, code, category, difficulty))
    return pools


def section_plan(section: ExamSection) -> SectionPlan:
    return SectionPlan(
        name=section.name,
        code=section.code,
        count=section.question_count,
        categories=tuple((str(c), int(n)) for c, n in section.category_quota or ()),
        same_for_everybody=section.draw == "same",
        balance_difficulty=section.balance_difficulty,
    )


def paper_ids(
    sections: list[ExamSection], pools: dict[int, list[ItemRef]], seed: str, *, exam_seed: str
) -> list[list[int]]:
    """Question ids per section for one candidate; ValueError when a pool cannot fill it.

    A 'pool' section takes its pool in order; the others draw by blueprint, either once for
    the whole exam ('same', from ``exam_seed``) or per candidate (from the attempt's seed).
    """
    papers: list[list[int]] = []
    for section in sections:
        pool = pools.get(section.id, [])
        if section.draw == "pool":
            papers.append([ref.id for ref in pool][: section.question_count])
            continue
        # One blueprint per section, labelled by its code, so two sections never share a draw.
        blueprint = Blueprint((section_plan(section),), exam_seed=f"{exam_seed}:{section.code}")
        papers.extend(draw_questions(pool, blueprint, f"{seed}:{section.code}"))
    return papers


async def checkpoint_from_db(db: AsyncSession, attempt: Attempt) -> dict[str, str]:
    """Rebuild an attempt's Redis checkpoint from PostgreSQL: the row plus its answer log."""
    rows = await db.execute(
        select(AnswerLog.seq, AnswerLog.kind, AnswerLog.q, AnswerLog.value, AnswerLog.saved_at)
        .where(AnswerLog.attempt_id == attempt.id)
        .order_by(AnswerLog.seq)
    )
    log = [LoggedChange(r.seq, r.kind, r.q, r.value, to_ms(r.saved_at)) for r in rows]
    clock = Clock(
        submitted=attempt.status == "submitted",
        starts_ms=to_ms(attempt.starts_at),
        deadline_ms=to_ms(attempt.deadline_at),
        paused_at_ms=to_ms(attempt.paused_at) if attempt.paused_at else 0,
    )
    durable = max([attempt.durable_seq, *(r.seq for r in log)])
    return hash_from_log(clock, len(attempt.question_ids), durable, log, attempt.clock_version)
