"""Shared fixtures: real PostgreSQL and Redis for every test that needs them.

With DATABASE_URL / REDIS_URL set (CI on a machine that runs both) the suite uses those
servers; otherwise it starts the embedded ones under ``.tkd/test``. Either way each run
creates and drops its own PostgreSQL database and claims its own Redis database number,
so losing Redis data in a test (FLUSHDB) never touches another run.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from tests_support import ExamClient, LiveServer, seed_demo_now, start_server

from exam_server.db.engine import sync_url, upgrade
from exam_server.settings import Settings

REPO = Path(__file__).resolve().parents[1]
SHARED_EXTERNAL = REPO.parent / "shared" / "external"


@dataclass(frozen=True)
class ServiceUrls:
    admin_database_url: str  # the server's maintenance database, to create/drop ours
    redis_base_url: str


@pytest.fixture(scope="session")
def service_urls() -> Iterator[ServiceUrls]:
    db_url, redis_url = os.environ.get("DATABASE_URL"), os.environ.get("REDIS_URL")
    if db_url and redis_url:
        yield ServiceUrls(db_url, redis_url)
        return
    from exam_server.db.embedded import embedded_services

    data_dir = REPO / ".tkd" / "test"
    with embedded_services(data_dir, need_postgres=not db_url, need_redis=not redis_url) as emb:
        yield ServiceUrls(db_url or emb.database_url, redis_url or emb.redis_url)


def _with_database(url: str, name: str) -> str:
    return make_url(url).set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def database_url(service_urls: ServiceUrls) -> Iterator[str]:
    name = f"tkd_test_{os.getpid()}_{secrets.token_hex(3)}"
    admin = create_engine(sync_url(service_urls.admin_database_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = _with_database(service_urls.admin_database_url, name)
    upgrade(url)
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _redis_with_db(url: str, db: int) -> str:
    if url.startswith("unix://"):
        base = url.split("?", 1)[0]
        return f"{base}?db={db}"
    parsed = make_url(url.replace("redis://", "postgresql://", 1))  # borrow a URL parser
    host = parsed.host or "127.0.0.1"
    port = parsed.port or 6379
    auth = f":{parsed.password}@" if parsed.password else ""
    scheme = "rediss" if url.startswith("rediss://") else "redis"
    return f"{scheme}://{auth}{host}:{port}/{db}"


@pytest.fixture(scope="session")
def redis_url(service_urls: ServiceUrls) -> Iterator[str]:
    """Claim a free Redis database number (1-15) for this run; concurrent runs get others."""
    owner = f"{os.getpid()}-{secrets.token_hex(4)}"
    for number in range(1, 16):
        url = _redis_with_db(service_urls.redis_base_url, number)
        client = redis.Redis.from_url(url)
        if client.set("tkd:test:owner", owner, nx=True, ex=3 * 3600):
            client.flushdb()
            client.set("tkd:test:owner", owner, ex=3 * 3600)
            yield url
            client.flushdb()
            client.close()
            return
        client.close()
    pytest.fail("no free Redis database number (1-15) for this test run")


@pytest.fixture(scope="session")
def settings(
    database_url: str, redis_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Settings:
    data_dir = tmp_path_factory.mktemp("tkd-data")
    env = {
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "TKD_DATA_DIR": str(data_dir),
        "TKD_SECRET_KEY": "test-secret-key-" + secrets.token_hex(8),
    }
    return Settings.from_env(env)


@pytest.fixture()
def redis_client(settings: Settings) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(str(settings.redis_url), decode_responses=True)
    yield client
    client.close()


@pytest.fixture(scope="session")
def db_engine(database_url: str):  # type: ignore[no-untyped-def]
    engine = create_engine(sync_url(database_url))
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def demo(settings: Settings, database_url: str) -> list:  # type: ignore[type-arg]
    """The demo exam with 240 candidates, seeded once per run (tests take fresh ones)."""
    return seed_demo_now(database_url, settings.secret_key_value, 240)


@pytest.fixture()
def server_factory(settings: Settings, tmp_path: Path) -> Iterator:  # type: ignore[type-arg]
    """Start real uvicorn workers on the test's services; all are stopped afterwards."""
    started: list[LiveServer] = []

    def make(port: int | None = None) -> LiveServer:
        server = start_server(settings, tmp_path, port)
        started.append(server)
        return server

    yield make
    for server in started:
        server.stop()


@pytest.fixture()
def live_server(server_factory) -> LiveServer:  # type: ignore[no-untyped-def]
    return server_factory()  # type: ignore[no-any-return]


@pytest.fixture(scope="session")
def candidate_pool(demo):  # type: ignore[no-untyped-def]
    """Each test takes fresh demo candidates, so attempts never leak between tests."""
    return iter(demo)


@pytest.fixture()
def candidate(candidate_pool):  # type: ignore[no-untyped-def]
    return next(candidate_pool)


@pytest.fixture()
def other_candidate(candidate_pool):  # type: ignore[no-untyped-def]
    return next(candidate_pool)


@pytest.fixture()
def exam_client(live_server, candidate) -> Iterator[ExamClient]:  # type: ignore[no-untyped-def]
    client = ExamClient(live_server.url, candidate.participant_no, candidate.password)
    assert client.login().status_code == 200
    yield client
    client.close()
