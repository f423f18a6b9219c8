"""The worker's event loop: how late it runs, and background loops that always stop."""

from __future__ import annotations

import asyncio

import pytest

from exam_server.delivery.loop_lag import LoopLag, pause


def test_the_worst_lateness_of_the_last_minute_is_reported() -> None:
    lag = LoopLag()
    lag.note(0.0, 900)
    lag.note(10.0, 40)
    lag.note(20.0, 300)
    assert lag.worst_ms(now=30.0) == 900
    assert lag.worst_ms(now=65.0) == 300  # the 900 ms stall is more than a minute old
    assert lag.worst_ms(now=200.0) == 0


async def test_a_loop_stops_even_when_a_library_turned_its_cancellation_into_an_error() -> None:
    passes = 0

    async def background_loop() -> None:
        nonlocal passes
        while True:
            try:
                try:
                    await asyncio.sleep(10)
                except asyncio.CancelledError:
                    raise RuntimeError("connection lost") from None  # as a client library may
            except Exception:
                passes += 1  # logged and retried, as every background loop does
            await pause(0.01)

    task = asyncio.create_task(background_loop())
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, 2)
    assert passes == 1
