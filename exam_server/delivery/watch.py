"""The watch: every few seconds each worker reads its candidates' clocks and positions from
Redis itself, because pub/sub can lose news (a dropped subscription). A lost ``clock``
event is corrected, the periodic ``time`` message goes out with the clock Redis holds, and
a checkpoint that Redis lost or holds older than the phone knows is rebuilt from
PostgreSQL (docs/protocol.md, "Redis lost or behind"). It also keeps this worker's
heartbeat, so that a candidate arriving from a worker that is gone has the gap recorded
as outage minutes (docs/operations.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from exam_server.delivery.events import WORKERS
from exam_server.delivery.loop_lag import pause
from exam_server.delivery.outages import record_outage
from exam_server.delivery.services import Services

log = logging.getLogger(__name__)


async def watch(services: Services, every_s: float, time_every_s: float) -> None:
    """Compare each connected attempt with Redis; send ``time`` every ``time_every_s``."""
    last_time = time.monotonic()
    passes = 0
    while True:
        await pause(every_s)
        send_time = time.monotonic() - last_time >= time_every_s
        if send_time:
            last_time = time.monotonic()
        try:
            await check_once(services, send_time)
            if passes % 500 == 0:
                await forget_gone_workers(services)
            passes += 1
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("checkpoint check failed (%s)", exc)


async def forget_gone_workers(services: Services, after_ms: int = 86_400_000) -> list[str]:
    """Drop the heartbeats of workers gone for a day, so the table does not grow forever."""
    now = int(time.time() * 1000)
    beats = await services.redis.hgetall(WORKERS)
    old = [w for w, ms in beats.items() if now - int(ms) > after_ms]
    if old:
        await services.redis.hdel(WORKERS, *old)
    return old


async def check_once(services: Services, send_time: bool = True) -> list[int]:
    """One pass: heartbeat, clocks from Redis, rebuild what is lost or older.

    Returns the attempts that needed a rebuild.
    """
    now = int(time.time() * 1000)
    await services.redis.hset(WORKERS, services.worker_id, now)
    # A connection still in its hello may not have a checkpoint yet: not a loss.
    conns = [c for c in services.hub.connections() if not c.opening]
    ids = sorted({c.attempt_id for c in conns})
    if not ids:
        return []
    # What each phone had been told before the read: news that arrives while the reply
    # travels is newer than the reply, not a sign that Redis is behind.
    told = [(conn.durable_seen, conn.clock_v) for conn in conns]
    clocks = await services.store.clocks(ids)
    stale: list[int] = []
    for conn, (durable_seen, clock_v) in zip(conns, told, strict=True):
        found = clocks.get(conn.attempt_id)
        if found is None or found[1] < durable_seen or found[2] < clock_v:
            stale.append(conn.attempt_id)
            continue
        if found[2] >= conn.clock_v:  # never set back a clock that came in meanwhile
            conn.clock, conn.clock_v = found[0], found[2]
        if send_time:
            with contextlib.suppress(Exception):
                await conn.send_time()
    for attempt_id in dict.fromkeys(stale):
        holder = next((c for c in conns if c.attempt_id == attempt_id), None)
        log.error("ALARM: attempt %s lost or older in Redis; rebuilding", attempt_id)
        snap = None if clocks.get(attempt_id) is None else await services.store.load(attempt_id)
        try:
            await services.resync(
                attempt_id,
                snap,
                conn=holder.conn_id if holder else "",
                device=holder.device if holder else "",
            )
        except Exception as exc:
            log.warning("rebuilding attempt %s failed (%s); next pass", attempt_id, exc)
    return stale


async def note_takeover(services: Services, attempt_id: int, previous_worker: str) -> None:
    """A candidate arrived from another worker; if that worker is gone, the gap counts.

    A heartbeat older than three checks may only mean a worker starved of CPU: the gap is
    recorded only if the heartbeat has still not moved one grace period later (a worker
    that is alive beats again), so a busy server gives nobody false outage minutes.
    """
    if not previous_worker or previous_worker == services.worker_id:
        return
    beat = await services.redis.hget(WORKERS, previous_worker)
    now = int(time.time() * 1000)
    grace_s = 3 * services.settings.checkpoint_check_s
    if beat is None or now - int(beat) <= grace_s * 1000:
        return  # alive: the phone moved (or lost signal), not the server's failure
    task = asyncio.create_task(
        _if_still_gone(services, attempt_id, previous_worker, int(beat), now)
    )
    _confirming.add(task)
    task.add_done_callback(_confirming.discard)


_confirming: set[asyncio.Task[None]] = set()  # held until done: asyncio keeps weak references


async def _if_still_gone(
    services: Services, attempt_id: int, worker: str, beat: int, arrived_ms: int
) -> None:
    await asyncio.sleep(3 * services.settings.checkpoint_check_s)
    with contextlib.suppress(Exception):
        later = await services.redis.hget(WORKERS, worker)
        if later is not None and int(later) > beat:
            return  # it beat again: slow, not gone
        await record_outage(services, [attempt_id], "worker", beat, arrived_ms)
