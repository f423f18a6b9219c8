"""results.total_pass_mark and failed_rules: the rules a result was graded under

A slip must explain the result as it was graded, not as the exam reads today.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("results", sa.Column("total_pass_mark", sa.Float(), nullable=True))
    op.add_column(
        "results",
        sa.Column(
            "failed_rules",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
    )


def downgrade() -> None:
    op.drop_column("results", "failed_rules")
    op.drop_column("results", "total_pass_mark")
