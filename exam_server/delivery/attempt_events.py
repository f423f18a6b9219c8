"""Recording what happens around an attempt besides its answers (``attempt_events``).

Connections, device changes, pauses, extensions and the server's closing are the evidence
for "my answers were lost" (docs/results.md). They travel the same way answers do: an entry
on the Redis change stream, copied to PostgreSQL by the write-behind leader, so the login
burst never waits on PostgreSQL for them. Each row keeps the stream entry id it came from,
so a batch redone after a leader died adds nothing twice.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Mapping, Sequence
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from exam_server.db.models import Attempt, AttemptEvent
from exam_server.delivery.checkpoint import CHANGES

# Stream entries of kind "event" carry a connection's news; "clock" and "close" entries are
# the checkpoint store's own, read here as well.
EVENT = "event"
CONNECTION_KINDS = ("connect", "disconnect", "replaced")


async def note(
    redis: Redis, attempt_id: int, kind: str, device: str, detail: Mapping[str, Any] | None = None
) -> None:
    """Put a connection event on the change stream; a failure never breaks the socket."""
    try:
        await redis.xadd(CHANGES, _entry(attempt_id, kind, device, detail))
    except Exception:
        return


def queue_note(
    pipe: Pipeline, attempt_id: int, kind: str, device: str, detail: Mapping[str, Any] | None = None
) -> None:
    """The same, queued on the caller's pipeline (one round trip for a hello's news)."""
    pipe.xadd(CHANGES, _entry(attempt_id, kind, device, detail))


def _entry(
    attempt_id: int, kind: str, device: str, detail: Mapping[str, Any] | None
) -> dict[str, str]:
    return {
        "a": str(attempt_id),
        "k": EVENT,
        "s": "0",
        "q": "",
        "v": json.dumps({"e": kind, **(detail or {})}),
        "t": str(int(time.time() * 1000)),
        "d": device[:100],
    }


def _utc(ms: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC)


def event_rows(entries: Sequence[tuple[str, Mapping[str, str]]]) -> list[dict[str, Any]]:
    """The ``attempt_events`` rows a batch of change-stream entries holds (pure)."""
    rows: list[dict[str, Any]] = []
    for entry_id, e in entries:
        kind = e.get("k")
        try:
            value = json.loads(e.get("v", "null"))
        except ValueError:
            continue
        detail: dict[str, Any]
        if kind == EVENT and isinstance(value, dict) and value.get("e") in CONNECTION_KINDS:
            what = str(value["e"])
            detail = {k: v for k, v in value.items() if k != "e"}
        elif kind == "clock" and isinstance(value, dict) and value.get("action"):
            what = str(value["action"])
            detail = {
                k: value[k] for k in ("deadline_ms", "paused_at_ms", "extra_ms") if k in value
            }
        elif kind == "close":
            what, detail = "close", {"reason": value}
        else:
            continue
        rows.append(
            {
                "attempt_id": int(e["a"]),
                "at": _utc(int(e["t"])),
                "kind": what[:16],
                "device": str(e.get("d", ""))[:100],
                "detail": detail,
                "source": str(entry_id)[:40],
            }
        )
    return rows


async def store_events(db: AsyncSession, entries: Sequence[tuple[str, Mapping[str, str]]]) -> int:
    """Insert the batch's events for attempts that still exist; returns how many rows."""
    rows = event_rows(entries)
    if not rows:
        return 0
    ids = {r["attempt_id"] for r in rows}
    known = set(await db.scalars(select(Attempt.id).where(Attempt.id.in_(ids))))
    rows = [r for r in rows if r["attempt_id"] in known]
    if rows:
        await db.execute(
            insert(AttemptEvent).on_conflict_do_nothing(index_elements=["attempt_id", "source"]),
            rows,
        )
    return len(rows)
