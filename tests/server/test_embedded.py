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


def test_a_server_stopped_with_sigterm_stops_the_embedded_servers_it_started() -> None:
    """systemd, Docker and `kill` stop with SIGTERM: nothing may be left running after."""
    import contextlib
    import os
    import signal
    import subprocess
    import sys
    import time

    import httpx
    from tests_support import REPO, free_port

    with tempfile.TemporaryDirectory(prefix="tkd-term-") as tmp:
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
        env["TKD_DATA_DIR"] = tmp
        port = free_port()
        proc = subprocess.Popen(
            [sys.executable, "-m", "exam_server.cli.main", "serve", "--port", str(port)],
            cwd=REPO,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                assert proc.poll() is None
                with contextlib.suppress(httpx.HTTPError):
                    if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).is_success:
                        break
                time.sleep(0.3)
            sock = Path(tmp) / "redis" / "redis.sock"
            assert redis.Redis(unix_socket_path=str(sock)).ping()
            proc.send_signal(signal.SIGTERM)
            proc.wait(60)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(10)
        with pytest.raises(redis.exceptions.ConnectionError):
            redis.Redis(unix_socket_path=str(sock), socket_timeout=2).ping()
        assert not (Path(tmp) / "pg" / "postmaster.pid").exists()
