"""Graded exams built straight in PostgreSQL, so results tests need no browser or socket.

The exam: TWK (3 items, key A, 5/0/0, pass mark 15: all three right), TIU (3 items, key A, 5/0/0, pass
mark 10) and TKP (2 weighted items, A=5 .. E=1, pass mark 4). A candidate's answers are
one letter (or None) per position, in paper order.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from exam_server.bank.store import correct_key, row_values
from exam_server.db.models import (
    AnswerLog,
    Attempt,
    Candidate,
    Exam,
    ExamQuestion,
    ExamSection,
    ExamSession,
    Question,
    SessionCandidate,
)
from exam_server.delivery.services import Services
from question_bank.items import Item, ItemKind, Option

LAYOUT = [
    ("TWK", 3, {"model": "right_wrong", "points_correct": 5, "points_wrong": 0}, 15.0),
    ("TIU", 3, {"model": "right_wrong", "points_correct": 5, "points_wrong": 0}, 10.0),
    ("TKP", 2, {"model": "weighted"}, 4.0),
]
N = sum(count for _, count, _, _ in LAYOUT)


def new_nik() -> str:
    return "77" + "".join(secrets.choice("0123456789") for _ in range(14))


@dataclass
class Built:
    exam_id: int
    session_ids: list[int]
    question_ids: list[int]  # in paper order
    attempts: dict[str, int] = field(default_factory=dict)  # participant_no -> attempt id
    candidates: dict[str, int] = field(default_factory=dict)  # participant_no -> candidate id
    niks: dict[str, str] = field(default_factory=dict)


def _question(section: str, weighted: bool) -> Question:
    scores = [5, 4, 3, 2, 1] if weighted else [1, 0, 0, 0, 0]
    tag = secrets.token_hex(8)
    item = Item(
        kind=ItemKind.SINGLE,
        stem_html=f"<p>{section} soal {tag}</p>",
        section=section,
        weighted=weighted,
        options=tuple(
            Option(o, f"<p>{o}</p>", float(s)) for o, s in zip("ABCDE", scores, strict=True)
        ),
    )
    # The real content hash: the bank must stay exportable and re-importable as it is.
    return Question(**row_values(item))


def build_exam(
    db_engine,  # type: ignore[no-untyped-def]
    *,
    sessions: int = 1,
    release: str = "immediate",
    total_pass_mark: float | None = None,
) -> Built:
    now = dt.datetime.now(dt.UTC)
    with Session(db_engine) as db, db.begin():
        exam = Exam(
            code=f"UJI-{secrets.token_hex(3)}",
            title="Seleksi Uji Hasil",
            shared_minutes=90,
            shuffle_questions=False,
            shuffle_options=False,
            results_release=release,
            total_pass_mark=total_pass_mark,
        )
        db.add(exam)
        db.flush()
        qids: list[int] = []
        for position, (code, count, scoring, mark) in enumerate(LAYOUT):
            section = ExamSection(
                exam_id=exam.id,
                position=position,
                code=code,
                name=f"Bagian {code}",
                question_count=count,
                scoring=scoring,
                pass_mark=mark,
            )
            db.add(section)
            db.flush()
            for i in range(count):
                q = _question(code, code == "TKP")
                db.add(q)
                db.flush()
                db.add(ExamQuestion(section_id=section.id, question_id=q.id, position=i))
                qids.append(q.id)
        session_ids = []
        for i in range(sessions):
            s = ExamSession(
                exam_id=exam.id,
                name=f"Sesi {i + 1} {exam.code}",
                room="Aula",
                starts_at=now - dt.timedelta(hours=1),
                ends_at=now + dt.timedelta(hours=5),
            )
            db.add(s)
            db.flush()
            session_ids.append(s.id)
        return Built(exam.id, session_ids, qids)


def _layout() -> list[dict[str, object]]:
    out, start = [], 0
    for code, count, _, _ in LAYOUT:
        out.append(
            {
                "code": code,
                "name": f"Bagian {code}",
                "start": start,
                "count": count,
                "minutes": None,
            }
        )
        start += count
    return out


def add_candidate(
    db_engine,  # type: ignore[no-untyped-def]
    built: Built,
    name: str,
    answers: list[str | None] | None,
    *,
    session: int = 0,
    unit: str = "Dinas Uji",
    status: str = "submitted",
) -> str:
    """A candidate in ``built``'s session; ``answers=None`` leaves them absent."""
    now = dt.datetime.now(dt.UTC)
    pno = f"R-{secrets.token_hex(5)}"
    nik = new_nik()
    with Session(db_engine) as db, db.begin():
        c = Candidate(nik=nik, name=name, unit=unit, participant_no=pno, password_hash="x")
        db.add(c)
        db.flush()
        db.add(SessionCandidate(session_id=built.session_ids[session], candidate_id=c.id))
        built.candidates[pno], built.niks[pno] = c.id, nik
        if answers is None:
            return pno
        assert len(answers) == N
        a = Attempt(
            candidate_id=c.id,
            session_id=built.session_ids[session],
            exam_id=built.exam_id,
            seed="0" * 32,
            question_ids=built.question_ids,
            option_orders=[list("ABCDE")] * N,
            sections=_layout(),
            status=status,
            starts_at=now - dt.timedelta(minutes=30),
            deadline_at=now + dt.timedelta(minutes=60),
            submitted_at=now if status == "submitted" else None,
            submit_reason="candidate" if status == "submitted" else None,
        )
        db.add(a)
        db.flush()
        seq = 0
        for q, choice in enumerate(answers):
            if choice is not None:
                seq += 1
                db.add(
                    AnswerLog(
                        attempt_id=a.id,
                        seq=seq,
                        kind="answer",
                        q=q,
                        value=choice,
                        saved_at=now - dt.timedelta(minutes=20 - q),
                    )
                )
        built.attempts[pno] = a.id
    return pno


async def grade_all(services: Services, built: Built) -> None:
    from exam_server.grading.grade import grade_attempt

    async with services.sessions() as db, db.begin():
        for attempt_id in built.attempts.values():
            status = (await db.get(Attempt, attempt_id)).status  # type: ignore[union-attr]
            if status == "submitted":
                await grade_attempt(db, attempt_id, dt.datetime.now(dt.UTC))


async def set_key(services: Services, question_id: int, key: str) -> None:
    """A key correction, as the bank page makes it: ``key`` becomes the one right option."""
    async with services.sessions() as db, db.begin():
        q = await db.get(Question, question_id)
        assert q is not None
        await correct_key(
            db, question_id, {o["id"]: 1.0 if o["id"] == key else 0.0 for o in q.options}
        )
