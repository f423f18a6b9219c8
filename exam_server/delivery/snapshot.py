"""An attempt's checkpoint as data: the Redis hash read back, or rebuilt from the log (pure).

The hash layout is described in :mod:`exam_server.delivery.checkpoint`; these functions
need no server and are tested on their own.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from exam_server.delivery.seq import Clock


@dataclass(slots=True)
class Snapshot:
    attempt_id: int
    clock: Clock
    n: int
    last_seq: int = 0
    durable_seq: int = 0
    conn: str = ""
    clock_v: int = 0
    answers: dict[int, Any] = field(default_factory=dict)
    doubts: set[int] = field(default_factory=set)
    changed_ms: dict[int, int] = field(default_factory=dict)


def snapshot_from_hash(attempt_id: int, h: Mapping[str, str]) -> Snapshot:
    snap = Snapshot(
        attempt_id=attempt_id,
        clock=Clock(
            submitted=h.get("submitted") == "1",
            starts_ms=int(h.get("starts_ms", 0)),
            deadline_ms=int(h.get("deadline_ms", 0)),
            paused_at_ms=int(h.get("paused_at_ms", 0)),
        ),
        n=int(h.get("n", 0)),
        last_seq=int(h.get("last_seq", 0)),
        durable_seq=int(h.get("durable_seq", 0)),
        conn=h.get("conn", ""),
        clock_v=int(h.get("clock_v", 0)),
    )
    for name, value in h.items():
        prefix, _, q = name.partition(":")
        if not q:
            continue
        if prefix == "a":
            snap.answers[int(q)] = json.loads(value)
        elif prefix == "d":
            snap.doubts.add(int(q))
        elif prefix == "t":
            snap.changed_ms[int(q)] = int(value)
    return snap


@dataclass(frozen=True, slots=True)
class LoggedChange:
    """One row of the durable answer log, as replayed to rebuild a checkpoint."""

    seq: int
    kind: str
    q: int | None
    value: Any
    saved_ms: int


def hash_from_log(
    clock: Clock, n: int, durable_seq: int, log: Iterable[LoggedChange], clock_v: int = 0
) -> dict[str, str]:
    """The checkpoint hash that replaying the answer log produces (pure)."""
    h: dict[str, str] = {
        "submitted": "1" if clock.submitted else "0",
        "starts_ms": str(clock.starts_ms),
        "deadline_ms": str(clock.deadline_ms),
        "paused_at_ms": str(clock.paused_at_ms),
        "n": str(n),
        "last_seq": "0",
        "durable_seq": str(durable_seq),
        "clock_v": str(clock_v),
    }
    for row in sorted(log, key=lambda r: r.seq):
        h["last_seq"] = str(max(int(h["last_seq"]), row.seq))
        if row.kind == "answer" and row.q is not None:
            if row.value is None:
                h.pop(f"a:{row.q}", None)
            else:
                h[f"a:{row.q}"] = json.dumps(row.value)
            h[f"t:{row.q}"] = str(row.saved_ms)
        elif row.kind == "doubt" and row.q is not None:
            if row.value:
                h[f"d:{row.q}"] = "1"
            else:
                h.pop(f"d:{row.q}", None)
        elif row.kind == "submit":
            h["submitted"] = "1"
    # Never below what PostgreSQL confirmed: a seq at or below it is taken.
    h["last_seq"] = str(max(int(h["last_seq"]), durable_seq))
    return h


def behind_postgres(snap: Snapshot, durable_seq: int, clock_version: int, submitted: bool) -> bool:
    """Whether Redis holds an older copy of the attempt than PostgreSQL (pure).

    After a restart from an older snapshot, a failover to a lagging replica or an eviction,
    Redis can miss changes PostgreSQL already has; seqs at or below PostgreSQL's position
    would then be handed out twice and the second one silently dropped.
    """
    return (
        snap.last_seq < durable_seq
        or snap.clock_v < clock_version
        or (submitted and not snap.clock.submitted)
    )
