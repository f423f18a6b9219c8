"""The write-behind under faults: fenced leases, versioned clocks, no durable over a skip;
and outage minutes recorded and given back (docs/operations.md)."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import time

import pytest
from server.fault_support import attempt_id_of, wait_until
from sqlalchemy import select, text
from tests_support import ExamClient, flush_redis_keeping_claim

from exam_server.db.models import Candidate, ExamSession
from exam_server.delivery.checkpoint import CHANGES, attempt_key
from exam_server.delivery.events import WORKERS
from exam_server.delivery.outages import give_back, minutes_owed, outstanding, record_outage
from exam_server.delivery.papers import open_attempt
from exam_server.delivery.services import open_services
from exam_server.delivery.watch import note_takeover
from exam_server.delivery.writebehind import FencedOut, WriteBehind, differing, stream_lag_ms
from exam_server.demo.seed import SESSION_NAME


def entry(attempt: int, kind: str, seq: int, q: int | None, value: object) -> dict[str, str]:
    return {
        "a": str(attempt),
        "k": kind,
        "s": str(seq),
        "q": "" if q is None else str(q),
        "v": json.dumps(value),
        "t": str(int(time.time() * 1000)),
        "d": "hp",
    }


async def new_attempt(services, participant_no: str) -> int:  # type: ignore[no-untyped-def]
    async with services.sessions() as db:
        cand = await db.scalar(select(Candidate).where(Candidate.participant_no == participant_no))
        session = await db.scalar(select(ExamSession).where(ExamSession.name == SESSION_NAME))
        attempt = await open_attempt(db, cand.id, session, dt.datetime.now(dt.UTC))
    return attempt.id


def pg(db_engine, sql: str, **params: object):  # type: ignore[no-untyped-def]
    with db_engine.connect() as conn:
        return conn.execute(text(sql), params).first()


def test_pure_helpers() -> None:
    assert stream_lag_ms(None, 5_000) == 0
    assert stream_lag_ms("1000-3", 5_000) == 4_000
    assert minutes_owed(0) == 0 and minutes_owed(1) == 1 and minutes_owed(120_000) == 2
    row = {"attempt_id": 1, "seq": 2, "kind": "answer", "q": 0, "value": "A"}
    assert differing([row], {(1, 2): ("answer", 0, "A")}) == set()
    assert differing([row], {(1, 2): ("answer", 0, "B")}) == {1}


async def test_an_older_clock_never_overwrites_a_newer_one(
    settings, redis_client, db_engine, candidate
) -> None:  # type: ignore[no-untyped-def]
    flush_redis_keeping_claim(redis_client)
    async with open_services(settings) as services:
        attempt = await new_attempt(services, candidate.participant_no)
        wb = WriteBehind(services)
        newer, older = 2_000_000_000_000, 1_900_000_000_000
        redis_client.xadd(
            CHANGES,
            entry(attempt, "clock", 0, None, {"deadline_ms": newer, "paused_at_ms": 0, "v": 2}),
        )
        await wb.flush_once()
        # A leader that lost its lease, or a stream replayed, delivers the older clock late.
        redis_client.xadd(
            CHANGES,
            entry(attempt, "clock", 0, None, {"deadline_ms": older, "paused_at_ms": 0, "v": 1}),
        )
        await wb.flush_once()
    row = pg(db_engine, "SELECT deadline_at, clock_version FROM attempts WHERE id = :a", a=attempt)
    assert int(row.deadline_at.timestamp() * 1000) == newer and row.clock_version == 2


async def test_a_leader_whose_lease_was_taken_cannot_write(
    settings, redis_client, db_engine, candidate
) -> None:  # type: ignore[no-untyped-def]
    flush_redis_keeping_claim(redis_client)
    async with open_services(settings) as services:
        attempt = await new_attempt(services, candidate.participant_no)
        old, new = WriteBehind(services), WriteBehind(services)
        old.token = await old._new_token()
        new.token = await new._new_token()  # the lease moved on while `old` was stalled
        redis_client.xadd(CHANGES, entry(attempt, "answer", 1, 0, "A"))
        await new.flush_once()
        redis_client.delete("tkd:wb:cursor")  # `old` resumes from its stale cursor
        redis_client.xadd(CHANGES, entry(attempt, "answer", 2, 1, "B"))
        with pytest.raises(FencedOut):
            await old.flush_once()
    assert (
        pg(
            db_engine,
            "SELECT count(*) FROM answer_log WHERE attempt_id = :a AND seq = 2",
            a=attempt,
        )[0]
        == 0
    )


async def test_no_durable_over_a_skipped_insert_that_differs(
    settings, redis_client, db_engine, candidate
) -> None:  # type: ignore[no-untyped-def]
    flush_redis_keeping_claim(redis_client)
    async with open_services(settings) as services:
        attempt = await new_attempt(services, candidate.participant_no)
        wb = WriteBehind(services)
        redis_client.xadd(CHANGES, entry(attempt, "answer", 1, 0, "A"))
        await wb.flush_once()
        await services.restore_checkpoint(attempt)
        # An older Redis handed seq 1 out again for another choice.
        redis_client.hset(attempt_key(attempt), mapping={"a:0": json.dumps("B"), "last_seq": 1})
        redis_client.xadd(CHANGES, entry(attempt, "answer", 1, 0, "B"))
        pubsub = services.redis.pubsub()
        await pubsub.subscribe(services.store.events)
        await wb.flush_once()
        seen = []
        until = time.monotonic() + 1.5
        while time.monotonic() < until:
            m = await pubsub.get_message(ignore_subscribe_messages=True, timeout=0.2)
            if m is not None:
                seen.append(json.loads(m["data"]))
        await pubsub.aclose()
    assert not [
        e for e in seen if e.get("t") == "durable" and str(attempt) in e.get("d", {})
    ]  # the phone keeps its change
    assert {"t": "resync", "a": attempt} in seen  # and is asked to resend it
    assert redis_client.hget(attempt_key(attempt), "a:0") == json.dumps("A")  # PostgreSQL's


async def test_outage_minutes_are_given_back_in_one_action(
    settings, redis_client, db_engine, candidate
) -> None:  # type: ignore[no-untyped-def]
    flush_redis_keeping_claim(redis_client)
    async with open_services(settings) as services:
        attempt = await new_attempt(services, candidate.participant_no)
        snap = await services.restore_checkpoint(attempt)
        now = int(time.time() * 1000)
        assert await record_outage(services, [attempt], "postgres", now - 90_000, now) == 1
        assert await outstanding(services, [attempt]) == {attempt: 90_000}
        assert await give_back(services, [attempt], "proktor-1") == {attempt: 2}
        assert await give_back(services, [attempt], "proktor-1") == {}  # once only
        after = await services.store.load(attempt)
    assert after is not None
    assert after.clock.deadline_ms == snap.clock.deadline_ms + 120_000
    row = pg(
        db_engine, "SELECT given_back_by FROM attempt_outages WHERE attempt_id = :a", a=attempt
    )
    assert row.given_back_by == "proktor-1"


@pytest.mark.slow
def test_a_gone_worker_leaves_its_candidates_minutes_on_record(
    server_factory, candidate, db_engine
) -> None:  # type: ignore[no-untyped-def]
    first, second = server_factory(), server_factory()
    client = ExamClient(first.url, candidate.participant_no, candidate.password)
    assert client.login().status_code == 200
    client.connect()
    client.answer(0)
    time.sleep(2.5)  # the first worker's heartbeat is in Redis
    first.kill()
    client.drop()
    time.sleep(7)  # the candidate waits in front of a dead server
    client.connect(second.url)
    attempt = attempt_id_of(db_engine, candidate.participant_no)
    row = wait_until(
        lambda: pg(
            db_engine, "SELECT cause, lost_ms FROM attempt_outages WHERE attempt_id = :a", a=attempt
        ),
        what="an outage row",
    )
    assert row.cause == "worker" and row.lost_ms >= 6_000
    client.close()


async def test_a_lagging_write_behind_logs_an_alarm(
    settings, redis_client, candidate, caplog
) -> None:  # type: ignore[no-untyped-def]
    flush_redis_keeping_claim(redis_client)
    async with open_services(settings) as services:
        attempt = await new_attempt(services, candidate.participant_no)
        old_ms = int(time.time() * 1000) - 60_000  # waiting for a minute: PostgreSQL was away
        redis_client.xadd(CHANGES, entry(attempt, "answer", 1, 0, "A"), id=f"{old_ms}-0")
        with caplog.at_level("ERROR"):
            await WriteBehind(services).flush_once()
    assert any("ALARM: write-behind" in r.getMessage() for r in caplog.records)


async def test_an_unreachable_service_is_recorded_for_every_running_attempt(
    settings, redis_client, db_engine, candidate
) -> None:  # type: ignore[no-untyped-def]
    async with open_services(settings) as services:
        attempt = await new_attempt(services, candidate.participant_no)
        wb = WriteBehind(services)
        wb._down_since["postgres"] = int(time.time() * 1000) - 30_000  # as run() notes it
        await wb._outages_over()
        assert wb._down_since == {}
    row = pg(
        db_engine,
        "SELECT cause, lost_ms FROM attempt_outages WHERE attempt_id = :a AND cause = 'postgres'",
        a=attempt,
    )
    assert row is not None and row.lost_ms >= 30_000


@pytest.mark.slow
async def test_a_slow_worker_is_not_a_gone_worker(exam_client, db_engine, settings) -> None:  # type: ignore[no-untyped-def]
    exam_client.connect()
    attempt = attempt_id_of(db_engine, exam_client.participant_no)
    async with open_services(settings) as services:
        now = int(time.time() * 1000)
        # A worker starved of CPU: its heartbeat is 8 s old when its candidate moves...
        await services.redis.hset(WORKERS, "starved:1", now - 8_000)
        await note_takeover(services, attempt, "starved:1")
        # ...and it beats again a moment later: it was alive, the gap was not the server's.
        await services.redis.hset(WORKERS, "starved:1", int(time.time() * 1000))
        await asyncio.sleep(3 * settings.checkpoint_check_s + 1)
        rows = pg(
            db_engine, "SELECT count(*) AS n FROM attempt_outages WHERE attempt_id = :a", a=attempt
        )
        assert rows.n == 0
        await services.redis.hdel(WORKERS, "starved:1")
