"""The embedded default: private, real PostgreSQL and Redis from pip wheels."""

from __future__ import annotations

import tempfile
from pathlib import Path

import psycopg
import pytest
import redis

from exam_server.db.embedded import embedded_services

pytestmark = pytest.mark.slow


def test_embedded_servers_start_stop_and_keep_their_data_for_the_next_start() -> None:
    # A short path: a unix socket path must stay under ~100 bytes.
    with tempfile.TemporaryDirectory(prefix="tkd-emb-") as tmp:
        data_dir = Path(tmp)
        with embedded_services(data_dir) as first:
            with psycopg.connect(first.database_url, autocommit=True) as conn:
                conn.execute("CREATE TABLE kept (note text)")
                conn.execute("INSERT INTO kept VALUES ('masih ada')")
            redis.Redis.from_url(first.redis_url).set("kept", "ya")
        with pytest.raises(psycopg.OperationalError):
            psycopg.connect(first.database_url, connect_timeout=2)  # stopped on exit

        with embedded_services(data_dir) as second:
            with psycopg.connect(second.database_url) as conn:
                assert conn.execute("SELECT note FROM kept").fetchone() == ("masih ada",)
            assert redis.Redis.from_url(second.redis_url).get("kept") == b"ya"
