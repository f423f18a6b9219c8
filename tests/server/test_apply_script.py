"""The seq rule runs inside Redis as one script; it must decide exactly as the reference
``judge`` does (exam_server.delivery.seq), for every clock, seq and time."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from exam_server.delivery.checkpoint import attempt_key
from exam_server.delivery.checkpoint_scripts import APPLY
from exam_server.delivery.protocol import Doubt
from exam_server.delivery.seq import Clock, Verdict, judge
from exam_server.delivery.services import open_services
from exam_server.delivery.writebehind import DEADLINE_GRACE_MS

pytestmark = pytest.mark.slow

T0 = 1_700_000_000_000
KEY, DEADLINES, CHANGES = "tkd:test:apply", "tkd:test:deadlines", "tkd:test:changes"


@given(
    submitted=st.booleans(),
    starts=st.integers(T0 - 5000, T0 + 5000),
    length=st.integers(0, 10_000),
    paused=st.one_of(st.just(0), st.integers(T0 - 5000, T0 + 15_000)),
    last_seq=st.integers(0, 6),
    seq=st.integers(1, 8),
    now=st.integers(T0 - 6000, T0 + 16_000),
)
@hsettings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_the_script_decides_as_the_reference_rule(  # type: ignore[no-untyped-def]
    redis_client, submitted, starts, length, paused, last_seq, seq, now
) -> None:
    clock = Clock(submitted, starts, starts + length, paused)
    redis_client.delete(KEY, DEADLINES, CHANGES)
    redis_client.hset(
        KEY,
        mapping={
            "submitted": "1" if submitted else "0",
            "starts_ms": starts,
            "deadline_ms": starts + length,
            "paused_at_ms": paused,
            "last_seq": last_seq,
            "conn": "c1",
        },
    )
    args = ["c1", "phone", seq, "doubt", "3", json.dumps(True), "1", now, 7, "tkd:test:events"]
    reply = redis_client.eval(APPLY, 3, KEY, DEADLINES, CHANGES, *args)
    expected = judge(clock, last_seq, seq, now)
    assert Verdict(reply[0]) is expected
    h = redis_client.hgetall(KEY)
    applied = expected is Verdict.APPLY
    assert int(h["last_seq"]) == (seq if applied else last_seq)
    assert (h.get("d:3") == "1") is applied
    closed_now = expected is Verdict.TIME_OVER and not submitted
    assert h["submitted"] == ("1" if submitted or closed_now else "0")
    kinds = [e[1]["k"] for e in redis_client.xrange(CHANGES)]
    assert kinds == (["doubt"] if applied else ["close"] if closed_now else [])
    redis_client.delete(KEY, DEADLINES, CHANGES)


def test_another_device_is_refused_and_a_missing_attempt_is_said(redis_client) -> None:  # type: ignore[no-untyped-def]
    redis_client.delete(KEY)
    args = ["c2", "tablet", 1, "submit", "", '"candidate"', "", T0, 7, "tkd:test:events"]
    assert redis_client.eval(APPLY, 3, KEY, DEADLINES, CHANGES, *args)[0] == "missing"
    redis_client.hset(KEY, mapping={"starts_ms": 0, "deadline_ms": T0 * 2, "conn": "c1"})
    assert redis_client.eval(APPLY, 3, KEY, DEADLINES, CHANGES, *args)[0] == "replaced"
    redis_client.delete(KEY, CHANGES)


async def test_the_sweep_leaves_a_change_received_before_the_deadline_its_turn(  # type: ignore[no-untyped-def]
    settings, redis_client
) -> None:
    attempt, now = 991_002, T0 + 60_000
    redis_client.hset(
        attempt_key(attempt),
        mapping={"submitted": "0", "starts_ms": T0, "deadline_ms": now - 1000, "last_seq": 0},
    )
    try:
        async with open_services(settings) as services:
            store = services.store
            # The sweep, one second after the deadline, leaves the attempt open...
            assert not await store.close_if_expired(attempt, now, DEADLINE_GRACE_MS)
            # ...so a change that arrived two seconds before the deadline is applied.
            outcome = await store.apply(attempt, "c1", Doubt(seq=1, q=0, on=True), now - 3000)
            assert outcome.verdict is Verdict.APPLY
            assert await store.close_if_expired(attempt, now + DEADLINE_GRACE_MS, DEADLINE_GRACE_MS)
    finally:
        redis_client.delete(attempt_key(attempt))
