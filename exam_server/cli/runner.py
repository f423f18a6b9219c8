"""What every ``tkd`` command shares: the one-line ``CommandError``, services that are ready
(configured, or embedded servers started now), a migrated schema, one transaction acting as
``cli:<login>`` in the audit log, and output paths checked before any work.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Awaitable, Callable, Iterable, Iterator
from pathlib import Path
from typing import TypeVar

from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncSession

from exam_server.db.audit import Actor
from exam_server.db.embedded import embedded_services
from exam_server.db.engine import make_async_engine, make_sync_engine, session_factory, upgrade
from exam_server.delivery.credentials import hash_password
from exam_server.delivery.prepared import credentials_changed
from exam_server.delivery.services import redis_client
from exam_server.refusal import Refusal
from exam_server.settings import Settings


class CommandError(Exception):
    """A one-line reason for the user; the command exits with status 1 (2 for usage)."""


@contextlib.contextmanager
def services_ready(settings: Settings) -> Iterator[Settings]:
    """Settings with real service URLs: the configured ones, or embedded servers started now.

    The URLs are also put in the environment so that uvicorn's worker processes, which
    build their settings from the environment, reach the same servers.
    """
    if not settings.uses_embedded:
        yield settings
        return
    with embedded_services(
        settings.data_dir,
        need_postgres=settings.database_url is None,
        need_redis=settings.redis_url is None,
    ) as emb:
        ready = settings.with_services(
            settings.database_url or emb.database_url, settings.redis_url or emb.redis_url
        )
        os.environ["DATABASE_URL"] = str(ready.database_url)
        os.environ["REDIS_URL"] = str(ready.redis_url)
        os.environ["TKD_DATA_DIR"] = str(settings.data_dir)
        yield ready


@contextlib.contextmanager
def migrated_engine(settings: Settings) -> Iterator[Engine]:
    """A sync engine on an up-to-date schema, for commands that read or write data."""
    with services_ready(settings) as ready:
        migrate(ready)
        assert ready.database_url
        engine = make_sync_engine(ready.database_url)
        try:
            yield engine
        finally:
            engine.dispose()


def migrate(settings: Settings) -> None:
    assert settings.database_url
    upgrade(settings.database_url)


T = TypeVar("T")
Work = Callable[[AsyncSession, Actor, Settings], Awaitable[T]]


def cli_actor() -> Actor:
    try:
        who = os.getlogin()
    except OSError:
        who = os.environ.get("USER", "unknown")
    return Actor(None, f"cli:{who}"[:80])


async def _in_transaction(settings: Settings, work: Work[T]) -> T:
    assert settings.database_url
    engine = make_async_engine(settings.database_url, pool_size=1)
    try:
        async with session_factory(engine)() as db, db.begin():
            return await work(db, cli_actor(), settings)
    finally:
        await engine.dispose()


def run_work(settings: Settings, work: Work[T]) -> T:
    """Run ``work`` in one transaction on a migrated database; a refusal is a CommandError.

    A refusal raises inside the transaction, so nothing it began is committed.
    """
    with services_ready(settings) as ready:
        migrate(ready)
        return run_in_transaction(ready, work)


def run_in_transaction(ready: Settings, work: Work[T]) -> T:
    """``run_work`` for a command that has made its services ready and migrated already
    (it goes on to use them after the transaction)."""
    try:
        return asyncio.run(_in_transaction(ready, work))
    except Refusal as exc:
        raise CommandError(exc.text(ready.default_lang)) from None


async def passwords_to_redis(settings: Settings, issued: Iterable[tuple[str, str]]) -> None:
    """New passwords (participant number, password) reach a prepared session's 08:00 path
    now, not at the next preparation. Called before the commit, which is safe: a token
    that Redis does not vouch for is checked in PostgreSQL (exam_server.delivery.revocation)."""
    if settings.redis_url is None:
        return
    secret = settings.secret_key_value
    redis = redis_client(settings.redis_url, max_connections=2)
    try:
        await credentials_changed(redis, [(n, hash_password(secret, p)) for n, p in issued])
    finally:
        await redis.aclose()


def writable(path_text: str) -> Path:
    """An output path whose folder exists, checked before any work (or audit entry) is done."""
    path = Path(path_text)
    if not path.parent.is_dir():
        raise CommandError(f"{path.parent}: no such folder")
    if path.is_dir():
        raise CommandError(f"{path}: is a folder; give a file name")
    return path
