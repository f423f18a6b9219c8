"""Helpers the fault tests share: find an attempt, read PostgreSQL, hold the write-behind."""

from __future__ import annotations

import time
from typing import Any

import redis
from sqlalchemy import text

from exam_server.delivery.checkpoint import attempt_key


def attempt_id_of(db_engine: Any, participant_no: str) -> int:
    with db_engine.connect() as conn:
        return int(
            conn.execute(
                text(
                    "SELECT a.id FROM attempts a JOIN candidates c ON c.id = a.candidate_id "
                    "WHERE c.participant_no = :p"
                ),
                {"p": participant_no},
            ).scalar_one()
        )


def logged(db_engine: Any, attempt_id: int) -> dict[int, tuple[str, Any, Any]]:
    """The answer log of an attempt: seq -> (kind, q, value)."""
    with db_engine.connect() as conn:
        rows = conn.execute(
            text("SELECT seq, kind, q, value FROM answer_log WHERE attempt_id = :a"),
            {"a": attempt_id},
        ).all()
    return {r.seq: (r.kind, r.q, r.value) for r in rows}


def wait_until(check: Any, timeout: float = 15, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"{what} not reached within {timeout} s")


def raw_redis(redis_url: str) -> redis.Redis:
    return redis.Redis.from_url(redis_url)  # bytes: DUMP/RESTORE need them


def dump_attempt(raw: redis.Redis, attempt_id: int) -> bytes:
    data = raw.dump(attempt_key(attempt_id))
    assert data is not None
    return bytes(data)


def restore_attempt(raw: redis.Redis, attempt_id: int, data: bytes) -> None:
    """Put back an older copy, as a Redis restarted from an older snapshot would."""
    raw.restore(attempt_key(attempt_id), 0, data, replace=True)


def hold_writebehind(client: redis.Redis, seconds: int = 60) -> None:
    """Take the write-behind lease for nobody: acknowledged changes stay in Redis only."""
    client.set("tkd:wb:lock", "held-by-test", px=seconds * 1000)


def release_writebehind(client: redis.Redis) -> None:
    client.delete("tkd:wb:lock")
