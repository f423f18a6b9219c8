"""Redis lost, older than PostgreSQL, or silent: no acknowledged change and no minute lost.

Each test reproduces one of the loss windows of issue 12 on real Redis, PostgreSQL and
uvicorn workers (docs/operations.md, "What each failure costs").
"""

from __future__ import annotations

import asyncio
import time

import pytest
from server.fault_support import (
    attempt_id_of,
    dump_attempt,
    hold_writebehind,
    logged,
    raw_redis,
    release_writebehind,
    restore_attempt,
    wait_until,
)
from tests_support import assert_state_matches_belief, flush_redis_keeping_claim

from exam_server.delivery.checkpoint import attempt_key, committed_key
from exam_server.delivery.services import open_services
from exam_server.proctor.interventions import extend_attempts

pytestmark = pytest.mark.slow


def test_redis_restored_from_an_older_copy_loses_no_answer_no_extension_no_submit(  # type: ignore[no-untyped-def]
    exam_client, db_engine, settings
) -> None:
    exam_client.connect()
    attempt = attempt_id_of(db_engine, exam_client.participant_no)
    raw = raw_redis(str(settings.redis_url))
    for q in range(5):
        exam_client.answer(q, pick=1)
    exam_client.wait_for("durable", timeout=15, seq=5)
    older = dump_attempt(raw, attempt)  # what an everysec AOF or a lagging replica keeps
    for q in range(5, 10):
        exam_client.answer(q, pick=2)
    exam_client.wait_for("durable", timeout=15, seq=10)

    async def extend() -> None:
        async with open_services(settings) as services:
            assert await extend_attempts(services, [attempt], 10) == [attempt]

    def deadline() -> object:
        with db_engine.connect() as conn:
            return conn.exec_driver_sql(
                f"SELECT deadline_at FROM attempts WHERE id = {attempt}"
            ).scalar()

    before = deadline()
    asyncio.run(extend())
    extended = exam_client.wait_for("time", timeout=10)
    wait_until(lambda: deadline() != before, what="the extension in PostgreSQL")
    restore_attempt(raw, attempt, older)  # Redis comes back behind PostgreSQL

    seq = exam_client.answer(10, pick=3)  # the phone's next change must not be renumbered
    assert seq == 11
    exam_client.wait_for("durable", timeout=15, seq=11)
    assert sorted(logged(db_engine, attempt)) == list(range(1, 12))
    assert logged(db_engine, attempt)[11][1] == 10

    state = exam_client.connect(resend=False)
    assert_state_matches_belief(state, exam_client)
    assert state["last_seq"] == 11
    assert state["remaining_ms"] > extended["remaining_ms"] - 60_000  # the 10 minutes stay

    exam_client.change({"type": "submit"})
    exam_client.wait_for("durable", timeout=15, seq=12)
    restore_attempt(raw, attempt, older)  # an older copy must not reopen a submitted attempt
    state = exam_client.connect(resend=False)
    assert state["status"] == "submitted"


def test_a_redis_restarted_from_an_older_snapshot_is_compared_with_postgresql_at_hello(  # type: ignore[no-untyped-def]
    exam_client, db_engine, settings
) -> None:
    exam_client.connect()
    attempt = attempt_id_of(db_engine, exam_client.participant_no)
    raw = raw_redis(str(settings.redis_url))
    for q in range(3):
        exam_client.answer(q, pick=1)
    exam_client.wait_for("durable", timeout=15, seq=3)
    # A snapshot: the attempt and what the write-behind had committed, taken together.
    older = dump_attempt(raw, attempt)
    older_committed = raw.dump(committed_key(attempt))
    assert older_committed is not None
    for q in range(3, 6):
        exam_client.answer(q, pick=2)
    exam_client.wait_for("durable", timeout=15, seq=6)
    exam_client.close()
    # Redis restarts from that snapshot: both copies agree with each other, and the
    # attempt names the server that wrote it, not the one now running.
    restore_attempt(raw, attempt, older)
    raw.restore(committed_key(attempt), 0, older_committed, replace=True)
    raw.hset(attempt_key(attempt), "run", "0" * 40)

    state = exam_client.connect(resend=False)  # hello: Redis cannot vouch, PostgreSQL can
    assert state["last_seq"] == 6
    assert sorted(state["answers"]) == [str(q) for q in range(6)]


def test_an_idle_phone_is_told_to_resend_after_redis_loses_everything(  # type: ignore[no-untyped-def]
    exam_client, redis_client
) -> None:
    exam_client.connect()
    exam_client.answer(0)
    exam_client.wait_for("durable", timeout=15, seq=1)
    hold_writebehind(redis_client)  # the next two are acknowledged but only in Redis
    exam_client.answer(1, pick=1)
    exam_client.answer(2, pick=2)
    flush_redis_keeping_claim(redis_client)  # Redis forgets them; the phone keeps them
    release_writebehind(redis_client)

    # The phone sends nothing: the server must notice and ask, or the answers die with it.
    state = exam_client.wait_for("state", timeout=15)
    assert state["last_seq"] == 1
    for seq in sorted(s for s in exam_client.kept if s > state["last_seq"]):
        exam_client.send(exam_client.kept[seq])
    exam_client.wait_for("durable", timeout=15, seq=3)
    assert_state_matches_belief(exam_client.connect(resend=False), exam_client)


def test_a_proctor_action_after_a_redis_loss_does_not_replace_the_phone(  # type: ignore[no-untyped-def]
    exam_client, redis_client, db_engine, settings
) -> None:
    exam_client.connect()
    exam_client.answer(0)
    exam_client.wait_for("durable", timeout=15, seq=1)
    attempt = attempt_id_of(db_engine, exam_client.participant_no)
    flush_redis_keeping_claim(redis_client)

    async def extend() -> None:
        async with open_services(settings) as services:
            assert await extend_attempts(services, [attempt], 5) == [attempt]

    asyncio.run(extend())  # rebuilds the attempt from PostgreSQL, then extends it
    exam_client.answer(1, pick=1)  # still the device that holds the attempt
    assert not [m for m in exam_client.received if m.get("code") == "replaced"]


def test_the_periodic_time_reads_the_clock_from_redis(exam_client, redis_client, db_engine) -> None:  # type: ignore[no-untyped-def]
    exam_client.connect()
    attempt = attempt_id_of(db_engine, exam_client.participant_no)
    # A pause whose `clock` event never arrived (a dropped subscription): only Redis knows.
    redis_client.hset(attempt_key(attempt), "paused_at_ms", int(time.time() * 1000))
    msg = exam_client.wait_for("time", timeout=10, status="paused")
    assert msg["remaining_ms"] > 0


async def test_a_claim_never_creates_half_an_attempt(settings, redis_client) -> None:  # type: ignore[no-untyped-def]
    async with open_services(settings) as services:
        claim, snap = await services.store.open(987_654, "conn", "phone", "w", 1)
    assert not redis_client.exists(attempt_key(987_654))
    assert claim.generation == 0 and snap is None
