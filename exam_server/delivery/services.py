"""The resources one worker holds: PostgreSQL, Redis and the background tasks.

Created in the app's lifespan, handed to routes through ``app.state.services`` and closed
on shutdown; nothing reaches for globals.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import redis.exceptions
from redis.asyncio import BlockingConnectionPool, Redis
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from exam_server.db.engine import make_async_engine, session_factory
from exam_server.db.models import Attempt, ExamSession
from exam_server.delivery.backpressure import Gate
from exam_server.delivery.checkpoint import (
    RESEED_CREATED,
    CheckpointStore,
    Snapshot,
    behind_postgres,
    snapshot_from_hash,
)
from exam_server.delivery.credentials import CandidateTokens
from exam_server.delivery.events import EventHub
from exam_server.delivery.loop_lag import LoopLag
from exam_server.delivery.papers import PaperCache, checkpoint_from_db, open_attempt
from exam_server.delivery.prepared import PreparedStore
from exam_server.settings import Settings

log = logging.getLogger(__name__)


class _SendUnderOneDeadline:
    """redis-py sends each command under ``asyncio.wait_for``, which on Python 3.11 starts a
    task per command: at thousands of commands a second that was a large share of a
    worker's CPU (docs/benchmarks.md, "20,000 candidates"). The same socket timeout,
    kept with ``asyncio.timeout``, costs no task."""

    socket_timeout: float | None

    async def send_packed_command(self, command: Any, check_health: bool = True) -> None:
        timeout = self.socket_timeout
        if not timeout:
            await super().send_packed_command(command, check_health)  # type: ignore[misc]
            return
        self.socket_timeout = None  # what makes the parent skip its wait_for
        try:
            async with asyncio.timeout(timeout):
                await super().send_packed_command(command, check_health)  # type: ignore[misc]
        except TimeoutError:
            raise redis.exceptions.TimeoutError("Timeout writing to socket") from None
        finally:
            self.socket_timeout = timeout


def redis_client(url: str, max_connections: int = 64, timeout_s: float = 10.0) -> Redis:
    # Blocking pool: under a burst, wait a little for a connection instead of failing at
    # once; past ``timeout_s`` the caller answers `busy` (docs/operations.md).
    pool = BlockingConnectionPool.from_url(
        url, max_connections=max_connections, timeout=timeout_s, decode_responses=True
    )
    # TCP or a Unix socket, as the URL says; either sends under one deadline.
    base = pool.connection_class
    pool.connection_class = type(f"Lean{base.__name__}", (_SendUnderOneDeadline, base), {})
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
    prepared: PreparedStore
    login_gate: Gate
    hello_gate: Gate
    loop_lag: LoopLag = field(default_factory=LoopLag)
    busy_changes: int = 0  # changes answered `busy` since the worker started (/healthz)
    worker_id: str = field(default_factory=lambda: f"{os.uname().nodename}:{os.getpid()}")

    async def restore_checkpoint(self, attempt_id: int) -> Snapshot:
        """Rebuild a checkpoint that Redis lost from PostgreSQL (row plus answer log)."""
        snap, _ = await self.resync(attempt_id)
        return snap

    async def resync(
        self,
        attempt_id: int,
        snap: Snapshot | None = None,
        conn: str = "",
        device: str = "",
    ) -> tuple[Snapshot, int]:
        """Compare the attempt in Redis with PostgreSQL and rebuild what Redis holds older.

        Returns the snapshot and what was rebuilt (``RESEED_*`` bits; 0: Redis was current).
        Connected devices are told to resend (a fresh ``state``) whenever anything changed:
        docs/protocol.md, "Redis lost or behind".
        """
        async with self.sessions() as db:
            attempt = await db.get(Attempt, attempt_id)
            if attempt is None and snap is not None:
                # A prepared start PostgreSQL has not heard of yet: nothing there to be
                # behind of; the write-behind inserts the row (docs/operations.md).
                await self.store.verified(attempt_id, 0, 0, False)
                return snap, 0
            if attempt is None:
                # A prepared attempt whose session changed before its first hello: the row
                # is made now, from the prepared paper and the session as PostgreSQL has it.
                paper = await self.prepared.paper(attempt_id)
                session = await db.get(ExamSession, int(paper["s"])) if paper else None
                if session is None:
                    raise LookupError(f"attempt {attempt_id} does not exist")
                attempt = await open_attempt(
                    db, int(paper["c"]), session, dt.datetime.now(dt.UTC), (attempt_id, paper)
                )
            submitted = attempt.status == "submitted"
            if snap is not None and not behind_postgres(
                snap, attempt.durable_seq, attempt.clock_version, submitted
            ):
                await self.store.verified(
                    attempt_id, attempt.durable_seq, attempt.clock_version, submitted
                )
                return snap, 0
            mapping = await checkpoint_from_db(db, attempt)
        mask = await self.store.reseed(attempt_id, mapping, conn, device, self.worker_id)
        if mask & ~RESEED_CREATED:
            log.error(
                "ALARM: Redis held an older copy of attempt %s than PostgreSQL (rebuilt %s)",
                attempt_id,
                mask,
            )
        if mask:
            await self.store.publish({"t": "resync", "a": attempt_id})
        loaded = await self.store.load(attempt_id)
        return (loaded if loaded is not None else snapshot_from_hash(attempt_id, mapping)), mask


@contextlib.asynccontextmanager
async def open_services(settings: Settings) -> AsyncIterator[Services]:
    """Open the worker's resources (engine, Redis, stores); the app's lifespan starts the
    background tasks (:mod:`exam_server.delivery.background`)."""
    if settings.database_url is None or settings.redis_url is None:
        raise RuntimeError(
            "DATABASE_URL and REDIS_URL must be set for a worker; "
            "`tkd serve` and `tkd demo` start embedded servers and set them for you"
        )
    engine = make_async_engine(
        settings.database_url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_timeout=settings.db_pool_timeout_s,
    )
    redis = redis_client(
        settings.redis_url, settings.redis_max_connections, settings.redis_pool_timeout_s
    )
    store = CheckpointStore(redis, settings.max_queued_changes)
    sessions = session_factory(engine)
    prepared = PreparedStore(redis)
    services = Services(
        settings=settings,
        engine=engine,
        sessions=sessions,
        redis=redis,
        store=store,
        papers=PaperCache(sessions, prepared=prepared),
        hub=EventHub(redis),
        tokens=CandidateTokens(settings.secret_key_value, settings.token_max_age_s),
        prepared=prepared,
        login_gate=Gate(settings.max_inflight_logins),
        hello_gate=Gate(settings.max_inflight_hellos),
    )

    try:
        yield services
    finally:
        await redis.aclose()
        await engine.dispose()
