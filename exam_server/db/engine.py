"""PostgreSQL at the edge: engine creation, URL dialects and schema migrations.

The server talks to PostgreSQL through SQLAlchemy on asyncpg (fast, never blocks the
event loop); Alembic and command-line tools use psycopg 3. One URL setting serves both.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

MIGRATIONS = Path(__file__).parent / "migrations"


def _with_driver(url: str, driver: str) -> str:
    parsed = make_url(url)
    return parsed.set(drivername=f"postgresql+{driver}").render_as_string(hide_password=False)


def sync_url(url: str) -> str:
    return _with_driver(url, "psycopg")


def async_url(url: str) -> str:
    return _with_driver(url, "asyncpg")


def make_async_engine(
    url: str, *, pool_size: int = 10, max_overflow: int | None = None, pool_timeout: float = 30.0
) -> AsyncEngine:
    """``pool_timeout``: how long a request waits for a connection before TimeoutError,
    which the server answers as `busy` (docs/operations.md)."""
    return create_async_engine(
        async_url(url),
        pool_size=pool_size,
        max_overflow=pool_size if max_overflow is None else max_overflow,
        pool_timeout=pool_timeout,
        pool_pre_ping=True,
    )


def make_sync_engine(url: str) -> Engine:
    return create_engine(sync_url(url), pool_pre_ping=True)


def session_factory(engine: AsyncEngine) -> async_sessionmaker:  # type: ignore[type-arg]
    return async_sessionmaker(engine, expire_on_commit=False)


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", sync_url(url).replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    """Apply migrations; safe to run on every start (a no-op when up to date)."""
    command.upgrade(alembic_config(url), revision)
