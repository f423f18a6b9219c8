"""The public live scoreboard of a session, for a projector in the waiting room.

Like the national test's live score monitors: every candidate of the session with their
progress (answered / questions, from the Redis checkpoint) and, once graded and where the
exam releases results, their section scores, total and pass status. NIKs are masked.

The committee switches a board on and off; the switch lives in Redis
(``tkd:scoreboard:{session_id}``), so a lost Redis means boards are off, the safe side.
The board's JSON is cached for ``CACHE_S`` seconds: any number of screens polling every
3 s cost the database one query per session every couple of seconds.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, replace
from typing import Any

from redis.asyncio import Redis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from exam_server.db.models import (
    Attempt,
    Candidate,
    Exam,
    ExamSession,
    Result,
    SessionCandidate,
)
from exam_server.delivery.checkpoint import attempt_key
from exam_server.display import mask_nik_public as mask_nik
from exam_server.grading.scoring import RankInput, rank
from exam_server.results.slip import is_released
from exam_server.results.standings import exam_heads, tiebreak_codes
from exam_server.staff.dashboard import state_of

CACHE_S = 2


def switch_key(session_id: int) -> str:
    return f"tkd:scoreboard:{session_id}"


def _cache_key(session_id: int) -> str:
    return f"tkd:scoreboard:cache:{session_id}"


async def is_on(redis: Redis, session_id: int) -> bool:
    return bool(await redis.get(switch_key(session_id)) == "1")


async def switch(redis: Redis, session_id: int, on: bool) -> None:
    if on:
        await redis.set(switch_key(session_id), "1")
    else:
        await redis.delete(switch_key(session_id))
    await redis.delete(_cache_key(session_id))


@dataclass(frozen=True)
class BoardRow:
    """One candidate on the board; ``rank`` and scores only once graded and released."""

    name: str
    nik: str
    participant_no: str
    state: str  # waiting | absent | running | paused | submitted | graded
    answered: int
    questions: int
    rank: int | None = None
    sections: dict[str, float] | None = None
    total: float | None = None
    passed: bool | None = None


def order_rows(rows: list[BoardRow], graded_ranks: dict[str, int]) -> list[BoardRow]:
    """Graded candidates by rank, then those still working by progress, then the absent."""
    state_order = {
        "graded": 0,
        "submitted": 1,
        "running": 2,
        "paused": 2,
        "waiting": 3,
        "absent": 3,
    }
    return sorted(
        rows,
        key=lambda r: (
            state_order[r.state],
            graded_ranks.get(r.participant_no, 0),
            -r.answered,
            r.participant_no,
        ),
    )


async def _answered(redis: Redis, attempt_ids: list[int]) -> dict[int, int]:
    if not attempt_ids:
        return {}
    async with redis.pipeline(transaction=False) as pipe:
        for attempt_id in attempt_ids:
            pipe.hkeys(attempt_key(attempt_id))
        replies = await pipe.execute()
    return {
        attempt_id: sum(1 for k in keys if k.startswith("a:"))
        for attempt_id, keys in zip(attempt_ids, replies, strict=True)
    }


async def board(
    db: AsyncSession, redis: Redis, session: ExamSession, now: dt.datetime
) -> dict[str, Any]:
    exam = await db.get(Exam, session.exam_id)
    assert exam is not None
    heads = await exam_heads(db, exam.id)
    released = is_released(exam.results_release, exam.release_at, now)
    rows = (
        await db.execute(
            select(
                Candidate.name,
                Candidate.nik,
                Candidate.participant_no,
                Attempt.id,
                Attempt.status,
                Attempt.question_ids,
                Result.total,
                Result.passed,
                Result.sections,
            )
            .join(SessionCandidate, SessionCandidate.candidate_id == Candidate.id)
            .outerjoin(
                Attempt,
                (Attempt.candidate_id == Candidate.id)
                & (Attempt.session_id == SessionCandidate.session_id),
            )
            .outerjoin(Result, Result.attempt_id == Attempt.id)
            .where(SessionCandidate.session_id == session.id)
        )
    ).all()
    live = await _answered(
        redis, [r.id for r in rows if r.id is not None and r.status != "submitted"]
    )
    out: list[BoardRow] = []
    to_rank: list[RankInput] = []
    attempt_of: dict[str, int] = {}
    for r in rows:
        n = len(r.question_ids or [])
        if r.id is None:
            # Absent only once the session closed: the dashboard's one definition.
            state = state_of(None, session.ends_at, now)
            out.append(BoardRow(r.name, mask_nik(r.nik), r.participant_no, state, 0, 0))
            continue
        if r.status != "submitted":
            out.append(
                BoardRow(r.name, mask_nik(r.nik), r.participant_no, r.status, live.get(r.id, 0), n)
            )
            continue
        if r.total is None or not released:
            out.append(BoardRow(r.name, mask_nik(r.nik), r.participant_no, "submitted", n, n))
            continue
        points = {s["code"]: float(s["points"]) for s in r.sections}
        to_rank.append(RankInput(r.id, bool(r.passed), r.total, points))
        attempt_of[r.participant_no] = r.id
        out.append(
            BoardRow(
                r.name,
                mask_nik(r.nik),
                r.participant_no,
                "graded",
                n,
                n,
                sections=points,
                total=r.total,
                passed=r.passed,
            )
        )
    ranks = {x.attempt_id: x.rank for x in rank(to_rank, tiebreak_codes(heads))}
    out = [
        replace(row, rank=ranks[attempt_of[row.participant_no]]) if row.state == "graded" else row
        for row in out
    ]
    ordered = order_rows(out, {r.participant_no: r.rank for r in out if r.rank is not None})
    return {
        "session": session.name,
        "exam": exam.title,
        "released": released,
        "sections": [h.code for h in heads],
        "updated_at": now.isoformat(),
        "rows": [row.__dict__ for row in ordered],
    }


async def cached_board(
    db: AsyncSession, redis: Redis, session: ExamSession, now: dt.datetime
) -> str:
    """The board as JSON text, computed at most once per ``CACHE_S`` per session."""
    cached = await redis.get(_cache_key(session.id))
    if cached is not None:
        return str(cached)
    data = json.dumps(await board(db, redis, session, now), ensure_ascii=False)
    await redis.set(_cache_key(session.id), data, ex=CACHE_S)
    return data
