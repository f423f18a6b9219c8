"""How a time and an identity number read to a person: every time carries its zone (WIB,
WITA or WIT: a session runs in its own, ``exam_sessions.time_zone``) and a NIK shows
enough to be recognised, not enough to be copied. Pure; used by the delivery spine (the
login answer), the pages, cards, slips, exports and PDFs alike (docs/committee.md).
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

# The default zone when nothing names one; a session carries its own (``time_zone``) and
# the deployment's default comes from TKD_TIME_ZONE (docs/operations.md).
DEFAULT_TIME_ZONE = "Asia/Jakarta"
LOCAL_TZ = ZoneInfo(DEFAULT_TIME_ZONE)
# Indonesia's three zones as people read them; any other IANA zone shows its own short name.
ZONE_LABELS = {
    "Asia/Jakarta": "WIB",
    "Asia/Pontianak": "WIB",
    "Asia/Makassar": "WITA",
    "Asia/Jayapura": "WIT",
}
# The zones a session may run in, as the session form offers them (docs/committee.md).
ZONE_CHOICES = {
    "Asia/Jakarta": "WIB (Jakarta, Sumatra, Jawa)",
    "Asia/Pontianak": "WIB (Pontianak)",
    "Asia/Makassar": "WITA (Makassar, Bali, Kupang)",
    "Asia/Jayapura": "WIT (Jayapura, Ambon)",
}


def zone_name(session: object = None, default: str | None = None) -> str:
    """The IANA zone a session runs in: its ``time_zone``, else ``default``, else WIB."""
    name = getattr(session, "time_zone", None) or default or DEFAULT_TIME_ZONE
    return str(name)


def zone_label(name: str, moment: dt.datetime | None = None) -> str:
    if name in ZONE_LABELS:
        return ZONE_LABELS[name]
    when = moment or dt.datetime.now(dt.UTC)
    return when.astimezone(ZoneInfo(name)).tzname() or name


def session_time(
    value: dt.datetime | None,
    session: object = None,
    fmt: str = "%d-%m-%Y %H:%M",
    *,
    default: str | None = None,
    label: bool = True,
) -> str:
    """A moment as a person in the session's zone reads it, labelled: ``08:00 WITA``.

    The one helper for every time shown to a person (pages, cards, slips, exports, PDFs);
    ``session`` may be anything with a ``time_zone`` attribute, or None for the default.
    """
    if value is None:
        return ""
    name = zone_name(session, default)
    zone = ZoneInfo(name)
    text = value.astimezone(zone).strftime(fmt)
    return f"{text} {zone_label(name, value)}" if label else text


def mask_nik(nik: str) -> str:
    """On the candidate's own screen: the first and last four digits of a 16-digit NIK."""
    return nik[:4] + "*" * 8 + nik[-4:] if len(nik) == 16 else "*" * len(nik)


def mask_nik_public(nik: str) -> str:
    """Keep the region code's first four digits and the last two: ``3201**********07``.

    Enough for a candidate to recognise their own row on a public screen or a printed card,
    too little to reconstruct the number (the middle holds the birth date).
    """
    if len(nik) < 8:
        return "*" * len(nik)
    return nik[:4] + "*" * (len(nik) - 6) + nik[-2:]
