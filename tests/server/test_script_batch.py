"""Script calls from many sockets leave for Redis together, and a full queue is `busy` at once.

Found at 20,000 candidates: each change held a Redis connection for its own round trip,
the pool ran dry, and every change waited and then heard `busy` (docs/benchmarks.md).
"""

from __future__ import annotations

import asyncio
import uuid

import pytest
import redis.asyncio
import redis.exceptions

from exam_server.delivery.backpressure import Busy
from exam_server.delivery.script_batch import ScriptBatch
from exam_server.delivery.services import redis_client

ADD = "return redis.call('INCRBY', KEYS[1], ARGV[1])"


@pytest.fixture
async def r(settings):  # type: ignore[no-untyped-def]
    client = redis.asyncio.Redis.from_url(str(settings.redis_url), decode_responses=True)
    await client.delete("tkd:test:batch", "tkd:test:batch:other")
    yield client
    await client.delete("tkd:test:batch", "tkd:test:batch:other")
    await client.aclose()


async def test_a_thousand_calls_share_a_pool_of_one_connection(settings, r) -> None:  # type: ignore[no-untyped-def]
    # One connection, lent for 50 ms at most: a thousand calls each waiting for it
    # would run it dry; batched, they ride on a few pipelines.
    tight = redis_client(str(settings.redis_url), max_connections=1, timeout_s=0.05)
    try:
        batch = ScriptBatch(tight, ADD, max_pending=5_000, max_in_flight=1)
        results = await asyncio.gather(*(batch(["tkd:test:batch"], [1]) for _ in range(1000)))
    finally:
        await tight.aclose()
    assert sorted(results) == list(range(1, 1001))  # each call ran once, atomically
    assert results == sorted(results)  # and in the order they were made
    assert int(await r.get("tkd:test:batch")) == 1000


async def test_past_the_queue_bound_a_call_is_busy_at_once_and_changes_nothing(r) -> None:  # type: ignore[no-untyped-def]
    batch = ScriptBatch(r, ADD, max_pending=10)
    outcomes = await asyncio.gather(
        *(batch(["tkd:test:batch"], [1]) for _ in range(100)), return_exceptions=True
    )
    refused = [o for o in outcomes if isinstance(o, Busy)]
    assert len(refused) == 90 and batch.refused == 90
    assert int(await r.get("tkd:test:batch")) == 10
    assert await batch(["tkd:test:batch"], [1]) == 11  # the queue drained: accepted again


async def test_a_script_redis_does_not_know_is_loaded_and_sent_again(r) -> None:  # type: ignore[no-untyped-def]
    # As after a Redis restart; a script of its own, so that no other run's is flushed.
    alone, together = (ScriptBatch(r, f"-- {uuid.uuid4()}\n{ADD}") for _ in range(2))
    assert not any(await r.script_exists(alone._script.sha, together._script.sha))
    assert await alone(["tkd:test:batch"], [1]) == 1  # one call: sent without a pipeline
    calls = (together(["tkd:test:batch"], [1]) for _ in range(3))
    assert await asyncio.gather(*calls) == [2, 3, 4]


async def test_one_failing_call_fails_alone(r) -> None:  # type: ignore[no-untyped-def]
    await r.set("tkd:test:batch:other", "not a number")
    batch = ScriptBatch(r, ADD)
    good, bad = await asyncio.gather(
        batch(["tkd:test:batch"], [1]),
        batch(["tkd:test:batch:other"], [1]),
        return_exceptions=True,
    )
    assert good == 1
    assert isinstance(bad, redis.exceptions.ResponseError)


async def test_a_caller_that_goes_away_does_not_disturb_the_others(r) -> None:  # type: ignore[no-untyped-def]
    batch = ScriptBatch(r, ADD)
    gone = asyncio.ensure_future(batch(["tkd:test:batch"], [1]))
    stays = asyncio.ensure_future(batch(["tkd:test:batch"], [1]))
    await asyncio.sleep(0)
    gone.cancel()
    assert await stays in (1, 2)  # the cancelled call may or may not have reached Redis
    assert await batch(["tkd:test:batch"], [1]) == int(await r.get("tkd:test:batch"))


async def test_a_command_starts_no_task_of_its_own(settings) -> None:  # type: ignore[no-untyped-def]
    """redis-py's own send made a task per command (``wait_for`` on Python 3.11)."""
    client = redis_client(str(settings.redis_url))
    loop = asyncio.get_running_loop()
    started = 0
    default = loop.get_task_factory()

    def counting(loop: asyncio.AbstractEventLoop, coro, **kw):  # type: ignore[no-untyped-def]
        nonlocal started
        started += 1
        return asyncio.Task(coro, loop=loop, **kw) if default is None else default(loop, coro, **kw)

    try:
        await client.ping()  # the connection is made before counting
        loop.set_task_factory(counting)
        for _ in range(50):
            await client.get("tkd:test:batch")
    finally:
        loop.set_task_factory(default)
        await client.aclose()
    assert started == 0
    assert client.connection_pool.connection_kwargs.get("socket_timeout", 5)  # still bounded
