"""Who is where: scheduled, logged in, in progress, submitted, absent; per exam and session;
and the totals the home page shows."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from exam_server.db.models import (
    Attempt,
    Candidate,
    Exam,
    ExamSession,
    Question,
    SessionCandidate,
)
from exam_server.display import session_time
from exam_server.web.spreadsheet_csv import BOM, SEMICOLON, CsvStyle, csv_text

STATES = {
    "waiting": ("Belum masuk", "Not logged in yet"),
    "in_progress": ("Sedang ujian", "In progress"),
    "submitted": ("Selesai", "Submitted"),
    "absent": ("Tidak hadir", "Absent"),
}


@dataclass(frozen=True)
class Row:
    participant_no: str
    nik: str
    name: str
    unit: str
    session: str
    room: str
    state: str  # a key of STATES
    logged_in_at: dt.datetime | None
    submitted_at: dt.datetime | None
    session_id: int = 0  # names repeat ("Sesi 1" on two days): count by id
    time_zone: str = "Asia/Jakarta"  # the session's, for the times shown (WIB/WITA/WIT)


async def home_counts(db: AsyncSession) -> dict[str, int]:
    """How many candidates, bank questions and exams there are."""
    return {
        "candidates": int(await db.scalar(select(func.count()).select_from(Candidate)) or 0),
        "questions": int(await db.scalar(select(func.count()).select_from(Question)) or 0),
        "exams": int(await db.scalar(select(func.count()).select_from(Exam)) or 0),
    }


def state_of(attempt_status: str | None, session_ends_at: dt.datetime, now: dt.datetime) -> str:
    if attempt_status is None:
        return "absent" if now >= session_ends_at else "waiting"
    return "submitted" if attempt_status == "submitted" else "in_progress"


def counts(rows: Sequence[Row]) -> dict[str, int]:
    states = Counter(r.state for r in rows)
    return {
        "scheduled": len(rows),
        "logged_in": len(rows) - states["waiting"] - states["absent"],
        "in_progress": states["in_progress"],
        "submitted": states["submitted"],
        "absent": states["absent"],
    }


async def rows_for(db: AsyncSession, session_ids: Sequence[int]) -> list[Row]:
    now = dt.datetime.now(dt.UTC)
    result = await db.execute(
        select(Candidate, ExamSession, Attempt)
        .join(SessionCandidate, SessionCandidate.candidate_id == Candidate.id)
        .join(ExamSession, ExamSession.id == SessionCandidate.session_id)
        .outerjoin(
            Attempt, (Attempt.candidate_id == Candidate.id) & (Attempt.session_id == ExamSession.id)
        )
        .where(ExamSession.id.in_(session_ids))
        .order_by(ExamSession.starts_at, Candidate.participant_no)
    )
    return [
        Row(
            c.participant_no,
            c.nik,
            c.name,
            c.unit,
            s.name,
            s.room,
            state_of(a.status if a else None, s.ends_at, now),
            a.created_at if a else None,
            a.submitted_at if a else None,
            s.id,
            s.time_zone,
        )
        for c, s, a in result
    ]


CSV_HEADER: dict[str, list[object]] = {
    "id": [
        "No. peserta",
        "NIK",
        "Nama",
        "Unit kerja",
        "Sesi",
        "Ruang",
        "Kode status",
        "Status",
        "Masuk",
        "Selesai",
    ],
    "en": [
        "Participant no.",
        "NIK",
        "Name",
        "Unit",
        "Session",
        "Room",
        "Status code",
        "Status",
        "Logged in",
        "Submitted",
    ],
}


def to_csv(rows: Sequence[Row], lang: str = "id", style: CsvStyle = SEMICOLON) -> bytes:
    """The attendance list for a spreadsheet: headings in the reader's language, semicolons
    by default (docs/committee.md)."""
    table: list[list[object]] = [CSV_HEADER["en" if lang == "en" else "id"]]
    for r in rows:
        table.append(
            [
                r.participant_no,
                r.nik,
                r.name,
                r.unit,
                r.session,
                r.room,
                r.state,
                STATES[r.state][lang == "en"],
                session_time(r.logged_in_at, r, "%Y-%m-%d %H:%M:%S"),
                session_time(r.submitted_at, r, "%Y-%m-%d %H:%M:%S"),
            ]
        )
    return (BOM + csv_text(table, style)).encode("utf-8")
