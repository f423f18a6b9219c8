"""exam_sections.draw, balance_difficulty, category_quota: how a section's paper is drawn

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # 'pool': the pool is the paper (what every section did before this revision).
    op.add_column(
        "exam_sections",
        sa.Column("draw", sa.String(length=20), server_default="pool", nullable=False),
    )
    op.add_column(
        "exam_sections",
        sa.Column("balance_difficulty", sa.Boolean(), server_default="false", nullable=False),
    )
    op.add_column(
        "exam_sections",
        sa.Column(
            "category_quota",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
    )


def downgrade() -> None:
    op.drop_column("exam_sections", "category_quota")
    op.drop_column("exam_sections", "balance_difficulty")
    op.drop_column("exam_sections", "draw")
