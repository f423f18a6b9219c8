"""The chaos suite's own world: a PostgreSQL server of its own (it is stopped mid-test),
this run's Redis database number, two workers, and demo candidates."""

from __future__ import annotations

import secrets
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine
from tests_support import LiveServer, flush_redis_keeping_claim, seed_demo_now, start_server

from exam_server.db.embedded import _start_postgres, _stop_postgres
from exam_server.db.engine import sync_url, upgrade
from exam_server.settings import Settings


@dataclass
class World:
    settings: Settings
    engine: Engine
    pgdata: Path
    pg_root: Path
    log_dir: Path
    workers: list[LiveServer]
    urls: list[str]  # the live workers' URLs, shared with every phone
    credentials: list
    redis_db: int

    def stop_postgres(self) -> None:
        _stop_postgres(self.pgdata)

    def start_postgres(self) -> None:
        _start_postgres(self.pg_root)

    def start_worker(self) -> LiveServer:
        server = start_server(self.settings, self.log_dir)
        self.workers.append(server)
        self.urls.append(server.url)
        return server

    def kill_worker(self, server: LiveServer) -> None:
        self.urls.remove(server.url)
        server.kill()


@pytest.fixture(scope="module")
def world(redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    root = tmp_path_factory.mktemp("chaos")
    # Outside pytest's private temp folder: the embedded server runs as its own user.
    pg_root = Path(tempfile.mkdtemp(prefix="tkd-chaos-pg-"))
    pg_root.chmod(0o755)
    admin_url, pgdata = _start_postgres(pg_root)
    try:
        admin = create_engine(sync_url(admin_url), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text('CREATE DATABASE "tkd_chaos"'))
        admin.dispose()
        db_url = admin_url.replace("/postgres?", "/tkd_chaos?")
        upgrade(db_url)
        settings = Settings.from_env(
            {
                "DATABASE_URL": db_url,
                "REDIS_URL": redis_url,
                "TKD_DATA_DIR": str(root / "data"),
                "TKD_SECRET_KEY": "chaos-secret-" + secrets.token_hex(8),
            }
        )
        engine = create_engine(sync_url(db_url), pool_pre_ping=True)  # PostgreSQL restarts
        credentials = seed_demo_now(db_url, settings.secret_key_value, 40)
        client = redis.Redis.from_url(redis_url)
        redis_db = int(client.connection_pool.connection_kwargs.get("db", 0))
        flush_redis_keeping_claim(client)  # nothing of earlier tests' attempts
        client.close()
        w = World(settings, engine, pgdata, pg_root, root, [], [], list(credentials), redis_db)
        w.start_worker()
        w.start_worker()
        yield w
        for server in w.workers:
            server.stop()
        engine.dispose()
        # Its attempts share ids with the suite's own database: leave none behind in Redis.
        client = redis.Redis.from_url(redis_url)
        flush_redis_keeping_claim(client)
        client.close()
    finally:
        _stop_postgres(pgdata)
        shutil.rmtree(pg_root, ignore_errors=True)
