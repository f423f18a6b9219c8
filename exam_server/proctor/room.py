"""The room as the proctor sees it, decided from plain data (no Redis, no database here).

One row per seated candidate: the status in words a proctor uses, progress, time left,
device and page-leave news, and the problems worth a look. ``alarm`` spots many candidates
dropping at once, which is the network or the server, not the candidates (docs/proctor.md).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from exam_server.delivery.seq import Clock

# status key -> (Bahasa Indonesia, English), in the order the counts are shown.
STATUSES: dict[str, tuple[str, str]] = {
    "absent": ("belum masuk", "not here yet"),
    "waiting": ("menunggu", "waiting"),
    "running": ("mengerjakan", "working"),
    "disconnected": ("terputus", "disconnected"),
    "paused": ("dijeda", "paused"),
    "submitted": ("selesai", "finished"),
}
PAGE_LEAVES_FLAGGED = 3
MASS_WINDOW_MS = 20_000


@dataclass(frozen=True)
class Seat:
    """A seated candidate and their attempt as PostgreSQL knows them."""

    candidate_id: int
    participant_no: str
    name: str
    unit: str
    nik: str
    seat: int | None
    attempt_id: int | None = None
    questions: int = 0
    db_status: str = ""
    disqualified: str | None = None


@dataclass
class Row:
    id: int  # the candidate: absent candidates have no attempt yet
    a: int | None
    no: str
    name: str
    unit: str
    seat: int | None
    st: str
    answered: int = 0
    total: int = 0
    left_ms: int = 0  # while not counting down (waiting, paused, finished)
    deadline_ms: int = 0  # while counting down: the page works out the seconds itself
    since_ms: int = 0  # disconnected since
    seen_ms: int = 0
    device: str = ""
    devices: int = 0
    takeovers: int = 0
    hidden: int = 0
    hidden_now: bool = False
    locked: bool = False
    dq: str | None = None
    flags: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def _int(h: Mapping[str, str], name: str) -> int:
    try:
        return int(h.get(name) or 0)
    except ValueError:
        return 0


def clock_of(h: Mapping[str, str]) -> Clock:
    return Clock(
        h.get("submitted") == "1",
        _int(h, "starts_ms"),
        _int(h, "deadline_ms"),
        _int(h, "paused_at_ms"),
    )


def answered_in(h: Mapping[str, str]) -> int:
    return sum(1 for name in h if name.startswith("a:"))


def connected(live: Mapping[str, str], now: int, stale_ms: int) -> bool:
    return bool(live.get("conn")) and now - _int(live, "seen_ms") <= stale_ms


def make_row(
    seat: Seat,
    checkpoint: Mapping[str, str] | None,
    live: Mapping[str, str],
    now: int,
    stale_ms: int,
    locked: bool = False,
) -> Row:
    row = Row(
        seat.candidate_id,
        seat.attempt_id,
        seat.participant_no,
        seat.name,
        seat.unit,
        seat.seat,
        "absent",
        total=seat.questions,
        locked=locked,
        dq=seat.disqualified,
    )
    row.device = live.get("device", "")
    row.devices = _int(live, "devices")
    row.takeovers = _int(live, "takeovers")
    row.hidden = _int(live, "hidden")
    row.hidden_now = live.get("hidden_now") == "1"
    is_connected = connected(live, now, stale_ms)
    # Only a silent candidate's last contact is news; a live one's changes every heartbeat.
    row.seen_ms = 0 if is_connected else _int(live, "seen_ms")
    if seat.attempt_id is None:
        row.st = "absent"
    elif checkpoint:
        clock = clock_of(checkpoint)
        row.answered = answered_in(checkpoint)
        status = clock.status(now).value  # waiting, running, paused, submitted
        if status == "running":
            row.deadline_ms = clock.deadline_ms
        else:
            row.left_ms = clock.remaining_ms(now)
        if status in ("waiting", "running") and not is_connected:
            row.st = "disconnected"
            # A closed socket says when; a dead worker's socket only when last confirmed.
            row.since_ms = _int(live, "since_ms") if not live.get("conn") else row.seen_ms
        else:
            row.st = status
    else:  # Redis has lost it: PostgreSQL's word until the candidate comes back
        row.st = "submitted" if seat.db_status == "submitted" else "disconnected"
    row.flags = flags_of(row)
    return row


def flags_of(row: Row) -> list[str]:
    flags = []
    if row.takeovers:
        flags.append("two_devices")
    if row.hidden >= PAGE_LEAVES_FLAGGED:
        flags.append("page_leaves")
    if row.locked:
        flags.append("locked")
    if row.dq:
        flags.append("disqualified")
    if row.st == "disconnected":
        flags.append("disconnected")
    return flags


def counts(rows: Sequence[Row]) -> dict[str, int]:
    out = dict.fromkeys(STATUSES, 0)
    for row in rows:
        out[row.st] = out.get(row.st, 0) + 1
    out["problems"] = sum(1 for r in rows if r.flags)
    return out


@dataclass(frozen=True)
class Alarm:
    attempts: list[int]
    candidate_ids: list[int]  # what the page's "pause them" form sends
    since_ms: int

    def as_json(self) -> dict[str, Any]:
        return {
            "attempts": self.attempts,
            "ids": self.candidate_ids,
            "count": len(self.attempts),
            "since_ms": self.since_ms,
        }


def mass_disconnect(
    rows: Sequence[Row], now: int, minimum: int, window_ms: int = MASS_WINDOW_MS
) -> Alarm | None:
    """Many of the present candidates dropped within the window: one alarm for all of them.

    "Many" is at least ``minimum`` and at least a fifth of those who were working, so one
    flat battery in a small room does not cry wolf and a large room still needs a crowd.
    """
    dropped = [r for r in rows if r.st == "disconnected" and r.a and now - r.since_ms <= window_ms]
    working = sum(1 for r in rows if r.st in ("running", "waiting")) + len(dropped)
    if len(dropped) < max(minimum, math.ceil(working / 5)):
        return None
    return Alarm(
        sorted(r.a for r in dropped if r.a),
        sorted(r.id for r in dropped),
        min(r.since_ms for r in dropped),
    )


def changed_rows(
    old: Mapping[int, dict[str, Any]], new: Sequence[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The rows that differ from what the proctor's page already has."""
    return [r for r in new if old.get(r["id"]) != r]
