"""Grading in batches gives exactly what grading one attempt at a time gives."""

from __future__ import annotations

import datetime as dt
import random

from results.builders import N, add_candidate, build_exam
from sqlalchemy import select

from exam_server.db.models import Result, ResultItem
from exam_server.grading.grade import grade_attempt, grade_attempts

RESULT_FIELDS = (
    "total",
    "max_total",
    "correct",
    "wrong",
    "blank",
    "passed",
    "sections",
    "failed_rules",
    "verify_code",
)


async def snapshot(services, ids: list[int]) -> dict:  # type: ignore[no-untyped-def,type-arg]
    async with services.sessions() as db:
        results = {
            r.attempt_id: tuple(getattr(r, f) for f in RESULT_FIELDS)
            for r in await db.scalars(select(Result).where(Result.attempt_id.in_(ids)))
        }
        items = sorted(
            (i.attempt_id, i.q, i.question_id, str(i.choice), i.correct, i.points, i.changed_at)
            for i in await db.scalars(select(ResultItem).where(ResultItem.attempt_id.in_(ids)))
        )
    return {"results": results, "items": items}


async def test_batched_grading_equals_one_by_one_on_a_randomized_exam(services, db_engine) -> None:  # type: ignore[no-untyped-def]
    rng = random.Random(20261205)
    built = build_exam(db_engine, total_pass_mark=rng.choice([None, 150.0, 300.0]))
    for i in range(12):
        blank_share = rng.random()
        answers = [None if rng.random() < blank_share else rng.choice("ABCDE") for _ in range(N)]
        add_candidate(db_engine, built, f"Acak {i}", answers)
    ids = list(built.attempts.values())
    now = dt.datetime.now(dt.UTC)

    for attempt_id in ids:  # one by one, each in its own transaction
        async with services.sessions() as db, db.begin():
            await grade_attempt(db, attempt_id, now)
    one_by_one = await snapshot(services, ids)
    assert len(one_by_one["results"]) == 12 and len(one_by_one["items"]) == 12 * N

    async with services.sessions() as db, db.begin():  # all at once, graded again
        assert await grade_attempts(db, ids, now) == 12
    assert await snapshot(services, ids) == one_by_one
