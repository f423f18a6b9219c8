"""Saved means saved: clock version, write-behind fence, outage minutes

* ``attempts.clock_version``: every pause, resume or extension raises it in Redis; the
  write-behind only writes a clock whose version is newer, so PostgreSQL's deadline never
  goes backwards (docs/operations.md, "What each failure costs").
* ``writebehind_fence``: one row holding the highest lease token a write-behind leader has
  used; a leader whose lease was taken over fails its transaction instead of writing.
* ``attempt_outages``: minutes an attempt lost to a server-side failure, for the proctor to
  give back in one action.

Revision ID: 0012
Revises: 0005
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "attempts",
        sa.Column("clock_version", sa.BigInteger(), server_default="0", nullable=False),
    )
    op.create_table(
        "writebehind_fence",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("token", sa.BigInteger(), nullable=False),
    )
    op.execute("INSERT INTO writebehind_fence (id, token) VALUES (1, 0)")
    op.create_table(
        "attempt_outages",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column(
            "attempt_id",
            sa.Integer(),
            sa.ForeignKey("attempts.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("cause", sa.String(16), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lost_ms", sa.BigInteger(), nullable=False),
        sa.Column("given_back_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("given_back_by", sa.String(200), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("attempt_outages")
    op.drop_table("writebehind_fence")
    op.drop_column("attempts", "clock_version")
