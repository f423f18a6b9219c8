"""The watch compares each connected attempt with Redis; news that overtakes its read is
not taken for Redis being behind (a false alarm rebuilds from PostgreSQL, in a burst)."""

from __future__ import annotations

from typing import Any

import pytest

from exam_server.delivery.checkpoint import attempt_key
from exam_server.delivery.seq import Clock
from exam_server.delivery.services import open_services
from exam_server.delivery.watch import check_once

pytestmark = pytest.mark.slow


class Phone:
    """What the watch reads of a connection: its attempt, and what it was told."""

    def __init__(self, attempt_id: int) -> None:
        self.attempt_id, self.conn_id, self.device = attempt_id, "c1", "phone"
        self.durable_seen, self.clock_v = 4, 1
        self.clock = Clock(False, 0, 0)
        self.times = 0
        self.opening = False

    async def send_time(self) -> None:
        self.times += 1


async def test_a_durable_that_overtakes_the_watchs_read_is_no_alarm(settings, redis_client) -> None:  # type: ignore[no-untyped-def]
    attempt = 991_001
    redis_client.hset(
        attempt_key(attempt),
        mapping={
            "submitted": "0",
            "starts_ms": "1",
            "deadline_ms": "9999999999999",
            "paused_at_ms": "0",
            "last_seq": "4",
            "durable_seq": "4",
            "clock_v": "1",
        },
    )
    try:
        async with open_services(settings) as services:
            phone = Phone(attempt)
            services.hub.local[attempt].append(phone)  # type: ignore[arg-type]
            read = services.store.clocks

            async def clocks_overtaken(ids: Any) -> Any:
                rows = await read(ids)
                # While the reply travels: a change is applied, committed and announced,
                # and a proctor's extension too.
                redis_client.hset(
                    attempt_key(attempt),
                    mapping={"last_seq": "5", "durable_seq": "5", "clock_v": "2"},
                )
                phone.durable_seen, phone.clock_v = 5, 2
                phone.clock = Clock(False, 0, 123)
                return rows

            services.store.clocks = clocks_overtaken  # type: ignore[method-assign]
            assert await check_once(services) == []
            assert phone.clock_v == 2 and phone.clock.deadline_ms == 123  # not set back
    finally:
        redis_client.delete(attempt_key(attempt))


async def test_a_connection_still_in_its_hello_is_no_alarm(settings) -> None:  # type: ignore[no-untyped-def]
    async with open_services(settings) as services:
        phone = Phone(991_003)  # registered for news; its checkpoint is being made now
        phone.opening = True
        services.hub.local[phone.attempt_id].append(phone)  # type: ignore[arg-type]
        assert await check_once(services) == []
