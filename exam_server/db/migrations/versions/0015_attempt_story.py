"""attempt_events, exam_sessions.time_zone, exams.show_answer_sheet, results.stale_reason

The story of an attempt needs its connections, devices and clock changes kept durably
(docs/results.md); a session's times are shown in its own zone (WIB/WITA/WIT); an exam may
let candidates see their own answer sheet after release; and a rule changed after the
first start marks the exam's results for re-grade with the reason.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "attempt_events",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column(
            "attempt_id",
            sa.Integer(),
            sa.ForeignKey("attempts.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("device", sa.String(100), nullable=False, server_default=""),
        sa.Column(
            "detail",
            postgresql.JSONB(astext_type=sa.Text()),
            nullable=False,
            server_default=sa.text("'{}'::jsonb"),
        ),
        # The change-stream entry it came from: a redone write-behind batch adds nothing.
        sa.Column("source", sa.String(40), nullable=False),
        sa.UniqueConstraint("attempt_id", "source", name="attempt_events_once"),
    )
    op.create_index("attempt_events_attempt_at", "attempt_events", ["attempt_id", "at"])
    op.add_column(
        "exam_sessions",
        sa.Column("time_zone", sa.String(64), nullable=False, server_default="Asia/Jakarta"),
    )
    op.add_column(
        "exams",
        sa.Column("show_answer_sheet", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column("results", sa.Column("stale_reason", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("results", "stale_reason")
    op.drop_column("exams", "show_answer_sheet")
    op.drop_column("exam_sessions", "time_zone")
    op.drop_index("attempt_events_attempt_at", table_name="attempt_events")
    op.drop_table("attempt_events")
