"""Assertions shared by the server tests."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import redis
from sqlalchemy import select
from sqlalchemy.orm import Session

from exam_server.db.engine import make_async_engine, session_factory
from exam_server.db.models import Candidate, Exam, ExamSession, SessionCandidate
from exam_server.demo.seed import EXAM_CODE, DemoCredential, seed_demo
from exam_server.settings import Settings

REPO = Path(__file__).resolve().parents[1]


def seed_demo_now(database_url: str, secret_key: str, count: int) -> list[DemoCredential]:
    """The demo seeded in one transaction of its own, for a fixture or test that is not async."""

    async def seed() -> list[DemoCredential]:
        engine = make_async_engine(database_url, pool_size=1)
        try:
            async with session_factory(engine)() as db, db.begin():
                return (await seed_demo(db, secret_key, count)).credentials
        finally:
            await engine.dispose()

    return asyncio.run(seed())


def assert_state_matches_belief(state: dict[str, Any], client: Any) -> None:
    """The server's answers equal what the candidate's screen showed as chosen."""
    believed = {q: c for q, c in client.believed.items() if c is not None}
    assert state["type"] == "state"
    assert state["answers"] == believed


def flush_redis_keeping_claim(client: redis.Redis) -> None:
    """FLUSHDB on this run's own database number, keeping the claim on the number."""
    owner = client.get("tkd:test:owner")
    client.flushdb()
    if owner:
        client.set("tkd:test:owner", owner, ex=3 * 3600)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LiveServer:
    url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://") + "/ws/v1/exam"

    def kill(self) -> None:
        """SIGKILL: the worker dies with no chance to clean up, as in a crash."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()


def start_server(
    settings: Settings,
    log_dir: Path,
    port: int | None = None,
    extra_env: dict[str, str] | None = None,
) -> LiveServer:
    port = port or free_port()
    env = {
        **os.environ,
        "DATABASE_URL": str(settings.database_url),
        "REDIS_URL": str(settings.redis_url),
        "TKD_DATA_DIR": str(settings.data_dir),
        "TKD_SECRET_KEY": settings.secret_key_value,
        # Often, so the browser tests see the periodic `time` messages a waiting room gets.
        "TKD_TIME_BROADCAST_S": "2",
        **(extra_env or {}),
    }
    log_path = log_dir / f"server-{port}.log"
    cmd = [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        "exam_server.app:create_app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--ws",
        "websockets-sansio",
        "--no-access-log",
        "--timeout-graceful-shutdown",
        "2",
    ]
    with log_path.open("wb") as log:
        proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=REPO)
    server = LiveServer(f"http://127.0.0.1:{port}", proc, log_path)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited at start:\n{log_path.read_text()}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(server.url + "/healthz", timeout=1).status_code == 200:
                return server
        time.sleep(0.1)
    server.kill()
    raise RuntimeError(f"server did not answer within 30 s:\n{log_path.read_text()}")


class ExamClient:
    """A candidate's device as the contract describes it: it keeps every change until
    ``durable`` covers it and resends the rest after reconnecting."""

    def __init__(
        self, server_url: str, participant_no: str, password: str, device: str = "test-phone"
    ) -> None:
        self.server_url = server_url
        self.participant_no, self.password, self.device = participant_no, password, device
        self.token = ""
        self.ws = None
        self.seq = 0
        self.kept: dict[int, dict] = {}  # not yet durable
        self.acked: set[int] = set()
        self.believed: dict[str, object] = {}  # q -> choice, as the candidate sees it
        self.state: dict = {}
        self.received: list[dict] = []

    def login(self, **extra: object) -> httpx.Response:
        resp = httpx.post(
            self.server_url + "/api/v1/candidate/login",
            json={"participant_no": self.participant_no, "password": self.password, **extra},
            timeout=10,
        )
        if resp.status_code == 200:
            self.token = resp.json()["token"]
        return resp

    def connect(self, server_url: str | None = None, resend: bool = True) -> dict:
        from websockets.sync.client import connect

        url = (server_url or self.server_url).replace("http://", "ws://") + "/ws/v1/exam"
        self.ws = contextlib.ExitStack().enter_context(
            connect(url, open_timeout=10, compression=None)
        )
        self.send({"type": "hello", "token": self.token, "device": self.device})
        self.state = self.wait_for("state")
        self.seq = max(self.seq, self.state["last_seq"])  # a new device continues the count
        if resend:
            for seq in sorted(self.kept):
                if seq > self.state["last_seq"] or seq not in self.acked:
                    self.send(self.kept[seq])
            for seq in sorted(self.kept):
                if seq > self.state["last_seq"]:
                    self.wait_for("ack", seq=seq)
        return self.state

    def send(self, msg: dict) -> None:
        assert self.ws is not None
        self.ws.send(json.dumps(msg))

    def send_raw(self, raw: str) -> None:
        assert self.ws is not None
        self.ws.send(raw)

    def recv(self, timeout: float = 10) -> dict:
        assert self.ws is not None
        msg = json.loads(self.ws.recv(timeout=timeout))
        self.received.append(msg)
        if msg.get("type") == "durable":
            for seq in [s for s in self.kept if s <= msg["seq"]]:
                del self.kept[seq]
        elif msg.get("type") == "ack":
            self.acked.add(msg["seq"])
        return msg

    def wait_for(self, kind: str, timeout: float = 10, **fields: object) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(
                    f"no {kind} {fields} within {timeout} s; got {self.received[-5:]}"
                )
            msg = self.recv(remaining)
            if msg.get("type") == kind and all(msg.get(k) == v for k, v in fields.items()):
                return msg

    def change(self, msg: dict, wait_ack: bool = True) -> int:
        self.seq += 1
        msg = {**msg, "seq": self.seq}
        self.kept[self.seq] = msg
        if msg["type"] == "answer":
            self.believed[str(msg["q"])] = msg["choice"]
        self.send(msg)
        if wait_ack:
            self.wait_for("ack", seq=self.seq)
        return self.seq

    def question(self, q: int) -> dict:
        self.send({"type": "get", "q": q})
        return self.wait_for("question", q=q)

    def answer(self, q: int, pick: int = 0, wait_ack: bool = True) -> int:
        options = self.question(q)["options"]
        return self.change(
            {"type": "answer", "q": q, "choice": options[pick % len(options)]["id"]}, wait_ack
        )

    def drop(self) -> None:
        """Lose the connection without a closing handshake, as a phone losing signal does."""
        assert self.ws is not None
        with contextlib.suppress(Exception):
            self.ws.socket.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(Exception):
            self.ws.socket.close()
        self.ws = None

    def close(self) -> None:
        if self.ws is not None:
            with contextlib.suppress(Exception):
                self.ws.close()
            self.ws = None


def move_to_own_session(
    db_engine, cred, *, starts_in_s=-60, ends_in_s=3600, token_required=False
) -> int:  # type: ignore[no-untyped-def]
    """Take a candidate out of the demo session and into a session of their own."""
    now = dt.datetime.now(dt.UTC)
    with Session(db_engine) as db, db.begin():
        exam = db.scalar(select(Exam).where(Exam.code == EXAM_CODE))
        candidate = db.scalar(
            select(Candidate).where(Candidate.participant_no == cred.participant_no)
        )
        db.query(SessionCandidate).filter(SessionCandidate.candidate_id == candidate.id).delete()
        session = ExamSession(
            exam_id=exam.id,
            name=f"own {cred.participant_no}",
            starts_at=now + dt.timedelta(seconds=starts_in_s),
            ends_at=now + dt.timedelta(seconds=ends_in_s),
            token_required=token_required,
        )
        db.add(session)
        db.flush()
        db.add(SessionCandidate(session_id=session.id, candidate_id=candidate.id))
        return session.id


def tkd(settings: Settings, *args: str) -> str:
    """A `tkd` command on the test's services, as the committee would run it; its output."""
    done = subprocess.run(
        [sys.executable, "-m", "exam_server.cli.main", *args],
        env={
            **os.environ,
            "DATABASE_URL": str(settings.database_url),
            "REDIS_URL": str(settings.redis_url),
            "TKD_DATA_DIR": str(settings.data_dir),
            "TKD_SECRET_KEY": settings.secret_key_value,
        },
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def reissue(settings: Settings, participant_no: str) -> str:
    """`tkd candidates password` (a lost card); returns the new password."""
    out = tkd(settings, "candidates", "password", participant_no, "--reason", "kartu hilang")
    number, password = out.split()
    assert number == participant_no
    return password


def prepare(settings: Settings, session_id: int) -> dict[str, Any]:
    """`tkd sessions prepare` on the test's services."""
    return json.loads(tkd(settings, "sessions", "prepare", str(session_id), "--json"))  # type: ignore[no-any-return]
