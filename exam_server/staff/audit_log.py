"""Reading the audit log: the entries the audit page and ``tkd audit`` list, newest first.

Writing an entry is ``exam_server.db.audit.record``, in the transaction of the change it
records; checking the hash chain is ``audit_chain``.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from exam_server.db.staff_models import AuditEntry


async def entity_history(db: AsyncSession, entity: str, entity_id: int) -> list[AuditEntry]:
    """Every entry about one thing (a candidate, an exam, ...), newest first."""
    return list(
        await db.scalars(
            select(AuditEntry)
            .where(AuditEntry.entity == entity, AuditEntry.entity_id == str(entity_id))
            .order_by(AuditEntry.id.desc())
        )
    )


async def audit_entries(
    db: AsyncSession,
    limit: int,
    *,
    search: str = "",
    entity: str = "",
    entity_id: str = "",
    action: str = "",
    username: str = "",
    before: int | None = None,
) -> list[AuditEntry]:
    """Up to ``limit`` entries, newest first. ``search`` matches part of who did it, what,
    or why (one box searches the three); the other filters match exactly; ``before`` pages
    back past an entry id. An empty filter is no filter."""
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if search:
        like = f"%{search}%"
        query = query.where(
            AuditEntry.username.ilike(like)
            | AuditEntry.action.ilike(like)
            | AuditEntry.reason.ilike(like)
        )
    for column, value in (
        (AuditEntry.entity, entity),
        (AuditEntry.entity_id, entity_id),
        (AuditEntry.action, action),
        (AuditEntry.username, username),
    ):
        if value:
            query = query.where(column == value)
    if before is not None:
        query = query.where(AuditEntry.id < before)
    return list(await db.scalars(query))
