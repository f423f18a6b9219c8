"""The resources one worker holds: PostgreSQL, Redis and the background tasks.

Created in the app's lifespan, handed to routes through ``app.state.services`` and closed
on shutdown; nothing reaches for globals.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from redis.asyncio import BlockingConnectionPool, Redis
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from exam_server.db.engine import make_async_engine, session_factory
from exam_server.db.models import Attempt
from exam_server.delivery.checkpoint import CheckpointStore, Snapshot, snapshot_from_hash
from exam_server.delivery.credentials import CandidateTokens
from exam_server.delivery.events import EventHub
from exam_server.delivery.papers import PaperCache, checkpoint_from_db
from exam_server.settings import Settings


def redis_client(url: str, max_connections: int = 64) -> Redis:
    # Blocking pool: under a burst, wait for a connection instead of failing (the asyncio
    # ConnectionPool raises when exhausted; PERFORMANCE-NOTES).
    pool = BlockingConnectionPool.from_url(
        url, max_connections=max_connections, timeout=10, decode_responses=True
    )
    return Redis.from_pool(pool)  # owns the pool: aclose() disconnects it


@dataclass
class Services:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    redis: Redis
    store: CheckpointStore
    papers: PaperCache
    hub: EventHub
    tokens: CandidateTokens
    worker_id: str = field(default_factory=lambda: f"{os.uname().nodename}:{os.getpid()}")
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    async def restore_checkpoint(self, attempt_id: int) -> Snapshot:
        """Rebuild a checkpoint that Redis lost from PostgreSQL (row plus answer log)."""
        async with self.sessions() as db:
            attempt = await db.get(Attempt, attempt_id)
            if attempt is None:
                raise LookupError(f"attempt {attempt_id} does not exist")
            mapping = await checkpoint_from_db(db, attempt)
        await self.store.seed(attempt_id, mapping)
        snap = await self.store.load(attempt_id)
        return snap if snap is not None else snapshot_from_hash(attempt_id, mapping)


@contextlib.asynccontextmanager
async def open_services(settings: Settings, *, background: bool = True) -> AsyncIterator[Services]:
    if settings.database_url is None or settings.redis_url is None:
        raise RuntimeError(
            "DATABASE_URL and REDIS_URL must be set for a worker; "
            "`tkd serve` and `tkd demo` start embedded servers and set them for you"
        )
    engine = make_async_engine(settings.database_url)
    redis = redis_client(settings.redis_url)
    store = CheckpointStore(redis)
    sessions = session_factory(engine)
    services = Services(
        settings=settings,
        engine=engine,
        sessions=sessions,
        redis=redis,
        store=store,
        papers=PaperCache(sessions),
        hub=EventHub(redis),
        tokens=CandidateTokens(settings.secret_key_value, settings.token_max_age_s),
    )
    if background:
        from exam_server.delivery.writebehind import WriteBehind
        from exam_server.proctor.presence import heartbeat_loop

        wb = WriteBehind(services)
        services.tasks = [
            asyncio.create_task(services.hub.run(), name="events"),
            asyncio.create_task(
                services.hub.broadcast_time(settings.time_broadcast_s), name="time"
            ),
            asyncio.create_task(wb.run(), name="write-behind"),
            asyncio.create_task(wb.run_grading(), name="grading"),
            asyncio.create_task(heartbeat_loop(services), name="presence"),
        ]
    # Start-up objects live for the whole process: move them out of the collector's way
    # and collect less often (cyclic GC pauses were the p99 tail; PERFORMANCE-NOTES).
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 50)
    try:
        yield services
    finally:
        for task in services.tasks:
            task.cancel()
        for task in services.tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await redis.aclose()
        await engine.dispose()
