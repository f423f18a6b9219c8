"""Times on the proctor's pages and papers, in the session's own zone with its label.

Issue 15 adds ``exam_sessions.time_zone``; until that lands every session is read in the
committee's zone (``exam_server.web.rendering.LOCAL_TZ``). One helper, so the switch is here.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from exam_server.web.rendering import LOCAL_TZ

LABELS = {
    "Asia/Jakarta": "WIB",
    "Asia/Pontianak": "WIB",
    "Asia/Makassar": "WITA",
    "Asia/Jayapura": "WIT",
}


def session_zone(session: Any) -> ZoneInfo:
    name = getattr(session, "time_zone", None)
    return ZoneInfo(name) if name else LOCAL_TZ


def zone_label(zone: ZoneInfo) -> str:
    return LABELS.get(zone.key, zone.key)


def session_time(session: Any, moment: dt.datetime | None, fmt: str = "%d-%m-%Y %H:%M") -> str:
    """``moment`` as the room reads it, e.g. "05-12-2026 08:00 WITA"."""
    if moment is None:
        return ""
    zone = session_zone(session)
    return f"{moment.astimezone(zone).strftime(fmt)} {zone_label(zone)}"
