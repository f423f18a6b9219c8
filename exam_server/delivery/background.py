"""The worker's background tasks, started by the app's lifespan once the services are open:
event forwarding, the checkpoint watch (the periodic ``time`` message and the check that
Redis is not behind PostgreSQL), the write-behind, grading, the
preparation of sessions about to start (docs/operations.md) and the presence heartbeat the
proctor's room reads (docs/proctor.md).

Kept apart from :mod:`exam_server.delivery.services` so that opening resources (which tests and
commands do) never starts work behind their back.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator

from exam_server.delivery import loop_lag, presence
from exam_server.delivery.prepare import run_preparer
from exam_server.delivery.services import Services
from exam_server.delivery.watch import watch
from exam_server.delivery.writebehind import WriteBehind

log = logging.getLogger(__name__)


def tune_collector() -> None:
    """Start-up objects live for the whole process: move them out of the collector's way,
    and keep the young generations small. A first generation of a million objects
    (thresholds 50,000 x 20) took 0.5-0.8 s to collect at 10,000 sockets, the ack tail of
    that benchmark; at 5,000 x 10 a pass takes tens of milliseconds, and the full passes,
    kept rare, about 50 ms (docs/benchmarks.md, "10,000 candidates")."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(5_000, 10, 100)


@contextlib.asynccontextmanager
async def background_tasks(services: Services) -> AsyncIterator[list[asyncio.Task[None]]]:
    """Run the worker's background tasks for the duration of the block, then cancel them."""
    wb = WriteBehind(services)
    gc.callbacks.append(services.loop_lag.on_gc)
    tasks = [
        asyncio.create_task(services.hub.run(), name="events"),
        asyncio.create_task(
            watch(
                services, services.settings.checkpoint_check_s, services.settings.time_broadcast_s
            ),
            name="checkpoint-watch",
        ),
        asyncio.create_task(wb.run(), name="write-behind"),
        asyncio.create_task(wb.run_grading(), name="grading"),
        asyncio.create_task(run_preparer(services), name="prepare"),
        asyncio.create_task(presence.heartbeat_loop(services), name="presence"),
        asyncio.create_task(loop_lag.measure(services.loop_lag), name="loop-lag"),
    ]
    try:
        yield tasks
    finally:
        with contextlib.suppress(ValueError):
            gc.callbacks.remove(services.loop_lag.on_gc)
        for task in tasks:
            task.cancel()
        # Bounded: a task that does not stop must not keep the worker from stopping.
        _, stuck = await asyncio.wait(tasks, timeout=10)
        for task in stuck:
            log.warning("background task %s did not stop", task.get_name())
