"""Ranked result rows of an exam: one SQL query, read as a stream, and the export columns.

Ranks are computed by PostgreSQL with ``RANK()`` over every graded attempt of the exam,
ordered as :func:`exam_server.grading.scoring.rank` orders them (passed first, then total, then
section points in tie-break order; full ties share a rank, "1, 2, 2, 4"). A test checks
that both agree. Filters by session or unit apply after ranking, so a row's rank is
always its rank in the whole exam.

Every scheduled candidate appears, graded or not: status ``waiting`` (no attempt, session
still open), ``absent`` (no attempt and the session closed, as the dashboard counts it),
``running``/``paused`` (still sitting), ``ungraded`` (submitted, not graded yet), or
``passed``/``failed``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import TextClause, bindparam, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from exam_server.db.models import Attempt, Candidate, ExamSection
from exam_server.display import session_time
from exam_server.staff.dashboard import state_of

STATUS_TEXT: dict[str, tuple[str, str]] = {
    "passed": ("LULUS", "PASSED"),
    "failed": ("TIDAK LULUS", "NOT PASSED"),
    "ungraded": ("belum dinilai", "not graded yet"),
    "running": ("sedang ujian", "in progress"),
    "paused": ("dijeda", "paused"),
    "absent": ("tidak hadir", "absent"),
    "waiting": ("terjadwal, belum mulai", "scheduled, not started"),
}


@dataclass(frozen=True)
class SectionHead:
    code: str
    name: str
    tiebreak_order: int


def section_heads(sections: Sequence[ExamSection]) -> list[SectionHead]:
    """Sections in paper order with the tie-break order grading uses (last section first
    unless the section's scoring says otherwise: TKP, then TIU, then TWK)."""
    ordered = sorted(sections, key=lambda s: s.position)
    n = len(ordered)
    return [
        SectionHead(s.code, s.name, int((s.scoring or {}).get("tiebreak_order", n - i)))
        for i, s in enumerate(ordered)
    ]


def tiebreak_codes(heads: Sequence[SectionHead]) -> list[str]:
    return [h.code for h in sorted(heads, key=lambda h: (h.tiebreak_order, h.code))]


async def exam_heads(db: AsyncSession, exam_id: int) -> list[SectionHead]:
    rows = await db.scalars(select(ExamSection).where(ExamSection.exam_id == exam_id))
    return section_heads(list(rows))


def _points_of(i: int) -> str:
    return (
        f"COALESCE((SELECT (e->>'points')::float FROM jsonb_array_elements(r.sections) e "
        f"WHERE e->>'code' = :tb{i} LIMIT 1), 0)"
    )


def ranked_query(
    tiebreak: Sequence[str], *, limit: int | None = None, offset: int = 0
) -> TextClause:
    """Rows for ``:exam_id``, optionally ``:session_id`` and ``:unit`` (NULL = all)."""
    tb_order = "".join(f", {_points_of(i)} DESC" for i in range(len(tiebreak)))
    page = f" LIMIT {int(limit)} OFFSET {int(offset)}" if limit is not None else ""
    sql = f"""
WITH graded AS (
  SELECT r.attempt_id,
         RANK() OVER (ORDER BY r.passed IS TRUE DESC, r.total DESC{tb_order}) AS rank
  FROM results r JOIN attempts a ON a.id = r.attempt_id
  WHERE a.exam_id = :exam_id
), seats AS (
  SELECT a.candidate_id, a.session_id, a.id AS attempt_id, a.status, a.submitted_at
  FROM attempts a WHERE a.exam_id = :exam_id
  UNION ALL
  SELECT sc.candidate_id, sc.session_id, NULL, 'absent', NULL
  FROM session_candidates sc JOIN exam_sessions s ON s.id = sc.session_id
  WHERE s.exam_id = :exam_id AND NOT EXISTS (
    SELECT 1 FROM attempts a WHERE a.candidate_id = sc.candidate_id AND a.session_id = sc.session_id)
)
SELECT g.rank, c.participant_no, c.nik, c.name, c.unit, s.name AS session_name,
       s.ends_at AS session_ends_at, s.time_zone AS session_time_zone,
       seats.attempt_id, seats.status, seats.submitted_at,
       r.total, r.max_total, r.passed, r.sections, r.failed_rules, r.correct, r.wrong, r.blank,
       r.stale_reason
FROM seats
JOIN candidates c ON c.id = seats.candidate_id
JOIN exam_sessions s ON s.id = seats.session_id
LEFT JOIN results r ON r.attempt_id = seats.attempt_id
LEFT JOIN graded g ON g.attempt_id = seats.attempt_id
WHERE (CAST(:session_id AS integer) IS NULL OR seats.session_id = CAST(:session_id AS integer))
  AND (CAST(:unit AS text) IS NULL OR c.unit = CAST(:unit AS text))
ORDER BY g.rank NULLS LAST, c.participant_no{page}
"""
    stmt = text(sql)
    for i, code in enumerate(tiebreak):
        stmt = stmt.bindparams(bindparam(f"tb{i}", code))
    return stmt


def query_params(exam_id: int, session_id: int | None, unit: str | None) -> dict[str, Any]:
    return {"exam_id": exam_id, "session_id": session_id, "unit": unit or None}


async def ranked_page(
    db: AsyncSession,
    exam_id: int,
    heads: Sequence[SectionHead],
    session_id: int | None,
    unit: str | None,
    limit: int,
    offset: int,
) -> list[Any]:
    """One page of the exam's ranked rows (``ranked_query``'s columns), ranks taken over
    the whole exam before the session and unit filters apply."""
    stmt = ranked_query(tiebreak_codes(heads), limit=limit, offset=offset)
    return list((await db.execute(stmt, query_params(exam_id, session_id, unit))).all())


async def result_units(db: AsyncSession, exam_id: int) -> list[str]:
    """The units of the candidates who have an attempt in the exam, sorted: the unit filter."""
    return list(
        await db.scalars(
            select(Candidate.unit)
            .distinct()
            .join(Attempt, Attempt.candidate_id == Candidate.id)
            .where(Attempt.exam_id == exam_id)
            .order_by(Candidate.unit)
        )
    )


def row_status(row: Any, now: dt.datetime | None = None) -> str:
    if row.attempt_id is None:
        # Absent only once the session closed: the dashboard's one definition.
        ends = getattr(row, "session_ends_at", None)
        if ends is None:
            return "absent"
        return state_of(None, ends, now or dt.datetime.now(dt.UTC))
    if row.total is not None:
        return "passed" if row.passed else "failed"
    if row.status == "submitted":
        return "ungraded"
    return "paused" if row.status == "paused" else "running"


def section_points(sections: Any) -> dict[str, float]:
    return {s["code"]: float(s["points"]) for s in sections or []}


def reasons(failed_rules: Any, lang: str) -> str:
    """Every rule the result failed, as graded (sections and the total), in one cell."""
    key = "en" if lang == "en" else "id"
    return "; ".join(r[key] for r in failed_rules or [] if r.get(key))


@dataclass(frozen=True)
class Columns:
    """The export's columns for one exam, in one language."""

    heads: list[SectionHead]
    lang: str = "id"

    def header(self) -> list[str]:
        en = self.lang == "en"
        return [
            "Rank" if en else "Peringkat",
            "Participant no." if en else "No. peserta",
            "NIK",
            "Name" if en else "Nama",
            "Unit" if en else "Unit kerja",
            "Session" if en else "Sesi",
            *[h.code for h in self.heads],
            "Total",
            "Max" if en else "Maks",
            "Correct" if en else "Benar",
            "Wrong" if en else "Salah",
            "Blank" if en else "Kosong",
            "Status",
            "Notes" if en else "Keterangan",
            "Submitted at" if en else "Selesai",
        ]

    def values(self, row: Any) -> list[Any]:
        """One row as cell values: numbers stay numbers, missing ones are None."""
        status = row_status(row)
        points = section_points(row.sections)
        submitted: dt.datetime | None = row.submitted_at
        return [
            row.rank,
            row.participant_no,
            row.nik,
            row.name,
            row.unit,
            row.session_name,
            *[points.get(h.code) for h in self.heads],
            row.total,
            row.max_total,
            row.correct,
            row.wrong,
            row.blank,
            STATUS_TEXT[status][self.lang == "en"],
            reasons(row.failed_rules, self.lang),
            session_time(
                submitted,
                None,
                "%Y-%m-%d %H:%M:%S",
                default=getattr(row, "session_time_zone", None),
            ),
        ]
