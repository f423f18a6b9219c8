"""The resources one worker holds: PostgreSQL, Redis and the background tasks.

Created in the app's lifespan, handed to routes through ``app.state.services`` and closed
on shutdown; nothing reaches for globals.
"""

from __future__ import annotations

import contextlib
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
    # ConnectionPool raises when exhausted; docs/benchmarks.md, "Facts about the stack").
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
async def open_services(settings: Settings) -> AsyncIterator[Services]:
    """Open the worker's resources (engine, Redis, stores); the app's lifespan starts the
    background tasks (:mod:`exam_server.delivery.background`)."""
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
    try:
        yield services
    finally:
        await redis.aclose()
        await engine.dispose()
