"""The write-behind: from the Redis change stream to PostgreSQL, in order, idempotently."""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import select, text
from tests_support import flush_redis_keeping_claim

from exam_server.db.models import Candidate, ExamSession
from exam_server.delivery.checkpoint import CHANGES
from exam_server.delivery.papers import open_attempt
from exam_server.delivery.services import open_services
from exam_server.delivery.writebehind import CURSOR, WriteBehind, sort_batch
from exam_server.demo.seed import SESSION_NAME


def entry(
    attempt: int, kind: str, seq: int, q: int | None, value: object, t: int = 1_700_000_000_000
):  # type: ignore[no-untyped-def]
    return {
        "a": str(attempt),
        "k": kind,
        "s": str(seq),
        "q": "" if q is None else str(q),
        "v": json.dumps(value),
        "t": str(t),
        "d": "hp",
    }


def test_a_batch_is_sorted_into_log_rows_durable_marks_and_closures() -> None:
    batch = sort_batch(
        [
            ("1-0", entry(7, "answer", 1, 0, "A")),
            ("2-0", entry(7, "doubt", 2, 0, True)),
            ("3-0", entry(8, "answer", 4, 3, ["B", "C"])),
            ("4-0", entry(7, "submit", 3, None, "candidate")),
            ("5-0", entry(9, "close", 0, None, "deadline")),
            ("6-0", entry(8, "clock", 0, None, {"deadline_ms": 5, "paused_at_ms": 0})),
        ]
    )
    assert [(r["attempt_id"], r["seq"], r["kind"]) for r in batch.log_rows] == [
        (7, 1, "answer"),
        (7, 2, "doubt"),
        (8, 4, "answer"),
        (7, 3, "submit"),
    ]
    assert batch.durable == {7: 3, 8: 4}
    assert set(batch.closed) == {7, 9} and batch.closed[9][1] == "deadline"
    assert batch.clocks == {8: {"deadline_ms": 5, "paused_at_ms": 0}}
    assert batch.last_id == "6-0"


async def test_changes_for_a_deleted_attempt_do_not_block_everyone_else(
    settings, redis_client, db_engine, candidate
) -> None:  # type: ignore[no-untyped-def]
    flush_redis_keeping_claim(redis_client)
    async with open_services(settings) as services:
        async with services.sessions() as db:
            cand = await db.scalar(
                select(Candidate).where(Candidate.participant_no == candidate.participant_no)
            )
            session = await db.scalar(select(ExamSession).where(ExamSession.name == SESSION_NAME))
            attempt = await open_attempt(db, cand.id, session, dt.datetime.now(dt.UTC))
        redis_client.xadd(
            CHANGES, entry(999_999, "answer", 1, 0, "A")
        )  # an attempt that does not exist
        last_id = redis_client.xadd(CHANGES, entry(attempt.id, "doubt", 1, 0, True))
        assert await WriteBehind(services).flush_once() == 2
    with db_engine.begin() as conn:
        rows = conn.execute(
            text("SELECT seq, kind FROM answer_log WHERE attempt_id = :a"), {"a": attempt.id}
        ).all()
        durable = conn.execute(
            text("SELECT durable_seq FROM attempts WHERE id = :a"), {"a": attempt.id}
        ).scalar()
    assert [tuple(r) for r in rows] == [(1, "doubt")]
    assert durable == 1
    assert redis_client.get(CURSOR) == last_id  # the next pass starts after both
