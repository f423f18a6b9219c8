"""The PostgreSQL schema as SQLAlchemy 2.0 models: the durable truth behind every attempt.

Redis holds the live checkpoint of each attempt; these tables hold everything that must
survive Redis: who may sit which session, each candidate's paper (question and option
order from a stored seed), the append-only answer log, and graded results.
Schema changes go through Alembic migrations in ``exam_server/db/migrations``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

JsonB = JSON().with_variant(JSONB(), "postgresql")


class Base(DeclarativeBase):
    pass


def _now() -> Any:
    return mapped_column(DateTime(timezone=True), server_default=func.now(), nullable=False)


class Candidate(Base):
    __tablename__ = "candidates"
    __table_args__ = (CheckConstraint("nik ~ '^[0-9]{16}$'", name="nik_is_16_digits"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    nik: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    birth_date: Mapped[dt.date | None]
    unit: Mapped[str] = mapped_column(String(200), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    email: Mapped[str] = mapped_column(String(200), default="")
    photo: Mapped[str] = mapped_column(String(200), default="")
    participant_no: Mapped[str] = mapped_column(String(32), unique=True)
    # HMAC-SHA256 of the generated password: see exam_server.passwords for why not argon2.
    password_hash: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[dt.datetime] = _now()


class Question(Base):
    __tablename__ = "questions"

    id: Mapped[int] = mapped_column(primary_key=True)
    content_hash: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    section: Mapped[str] = mapped_column(String(40), default="", index=True)
    category: Mapped[str] = mapped_column(String(200), default="")
    tags: Mapped[list[str]] = mapped_column(JsonB, default=list)
    difficulty: Mapped[float | None] = mapped_column(Float)
    weighted: Mapped[bool] = mapped_column(Boolean, default=False)
    # Multiple-answer: full credit only for exactly the keyed set (QTI custom processing).
    all_or_nothing: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    external_id: Mapped[str | None] = mapped_column(String(200))
    stem_html: Mapped[str] = mapped_column(Text)
    # [{"id": "A", "html": "...", "score": 1.0, "fixed": false}, ...]; the key is in "score".
    options: Mapped[list[dict[str, Any]]] = mapped_column(JsonB)
    lower_bound: Mapped[float | None] = mapped_column(Float)
    upper_bound: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[dt.datetime] = _now()


class QuestionImage(Base):
    __tablename__ = "question_images"
    __table_args__ = (UniqueConstraint("question_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    media_type: Mapped[str] = mapped_column(String(100))
    data: Mapped[bytes] = mapped_column(LargeBinary)


class Exam(Base):
    __tablename__ = "exams"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    # Total minutes when sections share one clock; None when each section has its own.
    shared_minutes: Mapped[int | None] = mapped_column(Integer)
    shuffle_questions: Mapped[bool] = mapped_column(Boolean, default=True)
    shuffle_options: Mapped[bool] = mapped_column(Boolean, default=True)
    # "immediate": shown at submit; "never": staff only; "after": after release_at.
    results_release: Mapped[str] = mapped_column(String(16), default="immediate")
    release_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    total_pass_mark: Mapped[float | None] = mapped_column(Float)
    rules_id: Mapped[str] = mapped_column(Text, default="")
    rules_en: Mapped[str] = mapped_column(Text, default="")
    # Issue 15: candidates may see their own answer sheet once results are released.
    show_answer_sheet: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    created_at: Mapped[dt.datetime] = _now()

    sections: Mapped[list[ExamSection]] = relationship(
        order_by="ExamSection.position", back_populates="exam", cascade="all, delete-orphan"
    )


class ExamSection(Base):
    __tablename__ = "exam_sections"
    __table_args__ = (UniqueConstraint("exam_id", "code"), UniqueConstraint("exam_id", "position"))

    id: Mapped[int] = mapped_column(primary_key=True)
    exam_id: Mapped[int] = mapped_column(ForeignKey("exams.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200))
    question_count: Mapped[int] = mapped_column(Integer)
    minutes: Mapped[int | None] = mapped_column(Integer)
    # Scoring model and its parameters (see exam_server.grading.scoring.SectionRule).
    scoring: Mapped[dict[str, Any]] = mapped_column(JsonB, default=dict)
    pass_mark: Mapped[float | None] = mapped_column(Float)
    # How each candidate's questions come from the pool (question_bank.assembly):
    # 'pool' the pool in its order is the paper, 'same' one random draw for everybody,
    # 'per_candidate' a draw of its own from the attempt's seed.
    draw: Mapped[str] = mapped_column(String(20), default="pool", server_default="pool")
    balance_difficulty: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    # [[category, count], ...]: how many of question_count come from each named category.
    category_quota: Mapped[list[list[Any]]] = mapped_column(
        JsonB, default=list, server_default="[]"
    )

    exam: Mapped[Exam] = relationship(back_populates="sections")


class ExamQuestion(Base):
    """The pool a section draws from; with no blueprint draw, the whole pool is the paper."""

    __tablename__ = "exam_questions"
    __table_args__ = (UniqueConstraint("section_id", "question_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    section_id: Mapped[int] = mapped_column(ForeignKey("exam_sections.id", ondelete="CASCADE"))
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id"))
    position: Mapped[int] = mapped_column(Integer)


class ExamSession(Base):
    __tablename__ = "exam_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    exam_id: Mapped[int] = mapped_column(ForeignKey("exams.id"))
    name: Mapped[str] = mapped_column(String(200))
    room: Mapped[str] = mapped_column(String(200), default="")
    starts_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    ends_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    capacity: Mapped[int | None] = mapped_column(Integer)
    token_required: Mapped[bool] = mapped_column(Boolean, default=False)
    token_period_s: Mapped[int] = mapped_column(Integer, default=15 * 60)
    # IANA zone the session runs in; every time shown for it carries WIB/WITA/WIT.
    time_zone: Mapped[str] = mapped_column(
        String(64), default="Asia/Jakarta", server_default="Asia/Jakarta"
    )
    created_at: Mapped[dt.datetime] = _now()


class SessionCandidate(Base):
    __tablename__ = "session_candidates"
    __table_args__ = (UniqueConstraint("session_id", "candidate_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("exam_sessions.id", ondelete="CASCADE"))
    candidate_id: Mapped[int] = mapped_column(ForeignKey("candidates.id"), index=True)
    # Given by a trigger (migration 0014) when the row is inserted: the next free number.
    seat: Mapped[int | None] = mapped_column(Integer)


class Attempt(Base):
    __tablename__ = "attempts"
    __table_args__ = (
        UniqueConstraint("candidate_id", "session_id"),
        Index("attempts_running_deadline", "deadline_at", postgresql_where="status = 'running'"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    candidate_id: Mapped[int] = mapped_column(ForeignKey("candidates.id"))
    session_id: Mapped[int] = mapped_column(ForeignKey("exam_sessions.id"))
    exam_id: Mapped[int] = mapped_column(ForeignKey("exams.id"))
    seed: Mapped[str] = mapped_column(String(64))
    # The paper as this candidate sees it, frozen at creation: ids and option orders.
    question_ids: Mapped[list[int]] = mapped_column(JsonB)
    option_orders: Mapped[list[list[str]]] = mapped_column(JsonB)
    # [{"code", "name", "start", "count", "minutes"}]: which positions belong to which section.
    sections: Mapped[list[dict[str, Any]]] = mapped_column(JsonB)
    status: Mapped[str] = mapped_column(String(16), default="running")
    starts_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    deadline_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    paused_ms: Mapped[int] = mapped_column(BigInteger, default=0)
    paused_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    submitted_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    submit_reason: Mapped[str | None] = mapped_column(String(16))  # "candidate" | "deadline"
    durable_seq: Mapped[int] = mapped_column(Integer, default=0)
    # Raised by every pause, resume and extension; PostgreSQL keeps only a newer clock.
    clock_version: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    # A proctor's disqualification (issue 14), shown on the result.
    disqualified_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    disqualified_reason: Mapped[str | None] = mapped_column(Text)
    disqualified_by: Mapped[str | None] = mapped_column(String(80))
    created_at: Mapped[dt.datetime] = _now()


class WritebehindFence(Base):
    """The highest lease token a write-behind leader has written with (one row, id 1)."""

    __tablename__ = "writebehind_fence"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token: Mapped[int] = mapped_column(BigInteger)


class AttemptOutage(Base):
    """Time an attempt lost to a server-side failure (Redis, PostgreSQL, a worker gone)."""

    __tablename__ = "attempt_outages"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    attempt_id: Mapped[int] = mapped_column(
        ForeignKey("attempts.id", ondelete="CASCADE"), index=True
    )
    cause: Mapped[str] = mapped_column(String(16))  # "redis" | "postgres" | "worker"
    started_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    lost_ms: Mapped[int] = mapped_column(BigInteger)
    given_back_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    given_back_by: Mapped[str | None] = mapped_column(String(200))


class AnswerLog(Base):
    """Every accepted change, in seq order: replaying it rebuilds the attempt exactly."""

    __tablename__ = "answer_log"
    __table_args__ = (UniqueConstraint("attempt_id", "seq"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("attempts.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(8))  # "answer" | "doubt" | "submit"
    q: Mapped[int | None] = mapped_column(Integer)
    value: Mapped[Any] = mapped_column(JsonB)  # choice, doubt flag, or submit reason
    device: Mapped[str] = mapped_column(String(100), default="")
    saved_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class Result(Base):
    __tablename__ = "results"

    attempt_id: Mapped[int] = mapped_column(
        ForeignKey("attempts.id", ondelete="CASCADE"), primary_key=True
    )
    total: Mapped[float] = mapped_column(Float)
    max_total: Mapped[float] = mapped_column(Float)
    correct: Mapped[int] = mapped_column(Integer)
    wrong: Mapped[int] = mapped_column(Integer)
    blank: Mapped[int] = mapped_column(Integer)
    passed: Mapped[bool | None] = mapped_column(Boolean)
    # Per section: [{"code", "name", "points", "max_points", "correct", "wrong", "blank", ...}]
    sections: Mapped[list[dict[str, Any]]] = mapped_column(JsonB)
    # As graded: the total's pass mark and every rule that failed ([{"id": ..., "en": ...}]),
    # so a slip explains the result it shows even after the exam's settings change.
    total_pass_mark: Mapped[float | None] = mapped_column(Float)
    failed_rules: Mapped[list[dict[str, str]]] = mapped_column(
        JsonB, default=list, server_default="[]"
    )
    verify_code: Mapped[str] = mapped_column(String(64), unique=True)
    # Set when a scoring rule changed after grading: why this result awaits a re-grade.
    stale_reason: Mapped[str | None] = mapped_column(Text)
    graded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class ResultItem(Base):
    __tablename__ = "result_items"
    __table_args__ = (UniqueConstraint("attempt_id", "q"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("results.attempt_id", ondelete="CASCADE"))
    q: Mapped[int] = mapped_column(Integer)
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id"))
    choice: Mapped[Any] = mapped_column(JsonB)
    correct: Mapped[bool | None] = mapped_column(Boolean)
    points: Mapped[float] = mapped_column(Float)
    changed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class AttemptEvent(Base):
    """What happened around an attempt besides its answers: connections, devices, clock
    changes, closing. Written by the write-behind from the change stream (docs/results.md)."""

    __tablename__ = "attempt_events"
    __table_args__ = (
        UniqueConstraint("attempt_id", "source", name="attempt_events_once"),
        Index("attempt_events_attempt_at", "attempt_id", "at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("attempts.id", ondelete="CASCADE"))
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    # connect | disconnect | replaced | pause | resume | extend | close
    kind: Mapped[str] = mapped_column(String(16))
    device: Mapped[str] = mapped_column(String(100), default="", server_default="")
    detail: Mapped[dict[str, Any]] = mapped_column(JsonB, default=dict, server_default="{}")
    source: Mapped[str] = mapped_column(String(40))
