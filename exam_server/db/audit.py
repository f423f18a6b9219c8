"""Writing the audit log: who changed what, when, with the old and the new values.

Every staff action that changes something calls ``record`` inside the same transaction as
the change, so a change and its log entry are committed together or not at all.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from exam_server.db.staff_models import AuditEntry


@dataclass(frozen=True)
class Actor:
    """The person behind a change; the command line acts as ``cli:<login name>``."""

    staff_id: int | None
    username: str


def plain(value: Any) -> Any:
    """A value as JSON can hold it (dates as ISO text)."""
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def snapshot(obj: Any, fields: Iterable[str]) -> dict[str, Any]:
    return {f: plain(getattr(obj, f)) for f in fields}


def changed(
    old: Mapping[str, Any], new: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Only the fields that differ, as (old values, new values)."""
    keys = [k for k in new if plain(old.get(k)) != plain(new[k])]
    return {k: plain(old.get(k)) for k in keys}, {k: plain(new[k]) for k in keys}


def entry(
    actor: Actor,
    action: str,
    entity: str,
    entity_id: object = "",
    *,
    old: Any = None,
    new: Any = None,
    reason: str = "",
) -> AuditEntry:
    return AuditEntry(
        staff_id=actor.staff_id,
        username=actor.username,
        action=action,
        entity=entity,
        entity_id=str(entity_id),
        old=plain(old),
        new=plain(new),
        reason=reason,
    )


def record(
    db: AsyncSession,
    actor: Actor,
    action: str,
    entity: str,
    entity_id: object = "",
    *,
    old: Any = None,
    new: Any = None,
    reason: str = "",
) -> None:
    db.add(entry(actor, action, entity, entity_id, old=old, new=new, reason=reason))
