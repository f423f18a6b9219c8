"""Tables of the committee side; migration ``0002`` creates them.

They share ``exam_server.db.models.Base`` so Alembic sees one schema.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    FetchedValue,
    ForeignKey,
    Index,
    Integer,
    Sequence,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from exam_server.db.models import Base, JsonB

ROLES = ("admin", "panitia", "proctor", "viewer")

# Participant numbers come from a database sequence, so two imports at once never collide.
PARTICIPANT_SEQ = Sequence("participant_no_seq", metadata=Base.metadata)


class StaffUser(Base):
    __tablename__ = "staff_users"
    __table_args__ = (
        CheckConstraint(
            "role IN ('admin', 'panitia', 'proctor', 'viewer')", name="staff_role_known"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    full_name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(16))  # one of ROLES
    # argon2id, chosen by people (unlike candidates' generated passwords).
    password_hash: Mapped[str] = mapped_column(String(256))
    active: Mapped[bool] = mapped_column(default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    last_login_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


class ProctorAssignment(Base):
    """The sessions a proctor may see; a proctor sees no other."""

    __tablename__ = "proctor_assignments"
    __table_args__ = (UniqueConstraint("staff_id", "session_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id", ondelete="CASCADE"))
    session_id: Mapped[int] = mapped_column(
        ForeignKey("exam_sessions.id", ondelete="CASCADE"), index=True
    )


class AuditEntry(Base):
    """Who changed what, when, with old and new values. Append-only: a trigger in
    migration 0002 refuses UPDATE and DELETE, so not even a buggy page can edit it."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("audit_log_entity", "entity", "entity_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), index=True
    )
    # Kept as text too: the log must outlive a deleted staff account.
    staff_id: Mapped[int | None] = mapped_column(Integer)
    username: Mapped[str] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(String(60))
    entity: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[str] = mapped_column(String(80), default="")
    old: Mapped[Any] = mapped_column(JsonB, nullable=True)
    new: Mapped[Any] = mapped_column(JsonB, nullable=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    # The hash chain (migration 0013): filled in by the database's insert trigger, never
    # by Python, so every writer of the log is chained alike (docs/security.md).
    prev_hash: Mapped[str] = mapped_column(String(64), server_default=FetchedValue())
    entry_hash: Mapped[str] = mapped_column(String(64), server_default=FetchedValue())


class CredentialIssue(Base):
    """When a candidate's password was last generated: passwords are shown once, so this
    tells the committee whose cards are printed and whose are not."""

    __tablename__ = "credential_issues"

    candidate_id: Mapped[int] = mapped_column(
        ForeignKey("candidates.id", ondelete="CASCADE"), primary_key=True
    )
    issued_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    issued_by: Mapped[str] = mapped_column(String(80))
    times: Mapped[int] = mapped_column(Integer, default=1)
