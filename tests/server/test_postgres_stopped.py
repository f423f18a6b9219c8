"""A prepared session needs no PostgreSQL at 08:00: login, hello and acks go on without it.

The test runs its own PostgreSQL (the embedded wheel) so that it can stop it; the
machine's shared server is never touched.
"""

from __future__ import annotations

import secrets
import tempfile
from pathlib import Path

import pytest
import redis
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session
from tests_support import ExamClient, prepare, seed_demo_now, start_server

from exam_server.db.embedded import _start_postgres, _stop_postgres, embedded_services
from exam_server.db.engine import sync_url, upgrade
from exam_server.db.models import ExamSession
from exam_server.settings import Settings

pytestmark = pytest.mark.slow


def own_redis_db(base_url: str) -> tuple[str, redis.Redis]:
    """A Redis database number of this test's own, so its prepared keys meet nobody's."""
    base = base_url.rsplit("/", 1)[0] if base_url.startswith("redis://") else base_url
    for number in range(15, 0, -1):
        url = f"{base}/{number}"
        client = redis.Redis.from_url(url, decode_responses=True)
        if client.set("tkd:test:owner", f"pg-stopped-{secrets.token_hex(4)}", nx=True, ex=3600):
            return url, client
        client.close()
    pytest.skip("no free Redis database number")


def test_login_hello_and_acks_go_on_with_postgresql_stopped_and_durable_resumes(
    settings, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    if not str(settings.redis_url).startswith("redis://"):
        pytest.skip("needs a TCP Redis URL to pick a database number")
    redis_url, rclient = own_redis_db(str(settings.redis_url))
    with (
        tempfile.TemporaryDirectory(prefix="tkd-pgstop-") as tmp,
        embedded_services(Path(tmp), need_redis=False) as emb,
    ):
        try:
            upgrade(emb.database_url)
            engine = create_engine(sync_url(emb.database_url))
            creds = seed_demo_now(emb.database_url, settings.secret_key_value, 3)
            with Session(engine) as db:
                session_id = db.scalars(select(ExamSession.id)).one()
            engine.dispose()
            own = Settings.from_env(
                {
                    "DATABASE_URL": emb.database_url,
                    "REDIS_URL": redis_url,
                    "TKD_DATA_DIR": str(tmp_path / "data"),
                    "TKD_SECRET_KEY": settings.secret_key_value,
                }
            )
            server = start_server(own, tmp_path)
            assert prepare(own, session_id)["seated"] == 3

            _stop_postgres(Path(tmp) / "pg")
            try:
                client = ExamClient(server.url, creds[0].participant_no, creds[0].password)
                assert client.login().status_code == 200
                state = client.connect()
                assert state["type"] == "state" and state["questions"] > 0
                seq = client.answer(0)  # acked: the checkpoint is in Redis
                with pytest.raises(TimeoutError):
                    client.wait_for("durable", timeout=2)
            finally:
                _start_postgres(Path(tmp))
            client.wait_for("durable", timeout=30, seq=seq)  # the write-behind catches up
            client.close()
            server.stop()
            log_text = server.log_path.read_text()
            assert "Traceback" not in log_text
            # Hello did not even try PostgreSQL: no fallback was needed.
            assert "password not checked" not in log_text
            assert "PostgreSQL unreachable" not in log_text
        finally:
            rclient.flushdb()
            rclient.close()
