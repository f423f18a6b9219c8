"""The Lua scripts agree with the pure clock rules and rebuild only what is older."""

from __future__ import annotations

import json

from exam_server.delivery.checkpoint import (
    DEADLINES,
    RESEED_ANSWERS,
    RESEED_CLOCK,
    RESEED_SUBMITTED,
    LoggedChange,
    attempt_key,
    hash_from_log,
)
from exam_server.delivery.seq import Clock
from exam_server.delivery.services import open_services

A = 910_001


def base(deadline: int = 1_000_000, paused: int = 0, last_seq: int = 3) -> dict[str, str]:
    return {
        "submitted": "0",
        "starts_ms": "0",
        "deadline_ms": str(deadline),
        "paused_at_ms": str(paused),
        "n": "5",
        "last_seq": str(last_seq),
        "durable_seq": "0",
        "clock_v": "0",
        "conn": "phone-conn",
        "a:0": json.dumps("A"),
    }


async def test_clock_changes_follow_the_pure_rules(settings, redis_client) -> None:  # type: ignore[no-untyped-def]
    clock = Clock(False, 0, 1_000_000)
    async with open_services(settings) as services:
        store = services.store
        redis_client.delete(attempt_key(A))
        assert await store.change_clock([A], 10, "pause") == {A: "missing"}
        redis_client.hset(attempt_key(A), mapping=base())
        assert await store.change_clock([A], 500_000, "pause") == {A: "changed"}
        assert await store.change_clock([A], 600_000, "pause") == {A: "unchanged"}
        assert await store.change_clock([A], 505_000, "resume") == {A: "changed"}
        assert await store.change_clock([A], 0, "extend", 60_000) == {A: "changed"}
        snap = await store.load(A)
        expected = clock.paused(500_000).resumed(505_000).extended(60_000)
        assert snap is not None and snap.clock == expected and snap.clock_v == 3
        assert redis_client.zscore(DEADLINES, str(A)) == expected.deadline_ms
        redis_client.hset(attempt_key(A), "submitted", "1")
        assert await store.change_clock([A], 0, "extend", 60_000) == {A: "submitted"}
        redis_client.delete(attempt_key(A))
        redis_client.zrem(DEADLINES, str(A))


async def test_a_rebuild_replaces_only_what_postgresql_holds_newer(settings, redis_client) -> None:  # type: ignore[no-untyped-def]
    log = [LoggedChange(s, "answer", s % 5, "B", 1000 + s) for s in range(1, 6)]
    pg = hash_from_log(Clock(False, 0, 2_000_000), 5, 5, log, clock_v=2)
    async with open_services(settings) as services:
        store = services.store
        redis_client.hset(attempt_key(A), mapping={**base(), "a:4": json.dumps("Z")})
        mask = await store.reseed(A, pg)
        assert mask == RESEED_ANSWERS | RESEED_CLOCK
        snap = await store.load(A)
        assert snap is not None
        assert snap.last_seq == 5 and snap.clock.deadline_ms == 2_000_000 and snap.clock_v == 2
        assert snap.answers == {q: "B" for q in range(5)}
        assert snap.conn == "phone-conn"  # the device holding it keeps holding it
        assert await store.reseed(A, pg) == 0  # now current: nothing to do
        assert await store.reseed(A, {**pg, "submitted": "1"}) == RESEED_SUBMITTED
        assert redis_client.zscore(DEADLINES, str(A)) is None  # a submitted one is not swept
        redis_client.delete(attempt_key(A))
        # Half a hash (only a holder) is rebuilt whole, as if missing.
        redis_client.hset(attempt_key(A), mapping={"conn": "c", "device": "d"})
        assert await store.reseed(A, pg) & 1
        assert (await store.load(A)).clock.deadline_ms == 2_000_000  # type: ignore[union-attr]
        redis_client.delete(attempt_key(A))
        redis_client.zrem(DEADLINES, str(A))
