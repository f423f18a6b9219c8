"""The proctor's room: seats, disqualification, and outage minutes to give back

* ``session_candidates.seat``: each seated candidate's seat number, shown on the card, the
  attendance list and the room view. A trigger gives the next free number in the session
  to every new row (whichever path inserts it: pages, CLI, demo, moves); existing rows are
  numbered here by the order they were seated.
* ``attempts.disqualified_at`` / ``disqualified_reason`` / ``disqualified_by``: a
  proctor's disqualification, shown on the result.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SEAT_FUNCTION = """
CREATE OR REPLACE FUNCTION session_candidates_next_seat() RETURNS trigger AS $$
BEGIN
  IF NEW.seat IS NULL THEN
    -- One seat number per session at a time, even when two imports seat people at once.
    PERFORM pg_advisory_xact_lock(1414, NEW.session_id);
    SELECT COALESCE(MAX(seat), 0) + 1 INTO NEW.seat
      FROM session_candidates WHERE session_id = NEW.session_id;
  END IF;
  RETURN NEW;
END;
$$ LANGUAGE plpgsql;
"""


def upgrade() -> None:
    op.add_column("session_candidates", sa.Column("seat", sa.Integer(), nullable=True))
    op.execute(
        """
        UPDATE session_candidates AS sc SET seat = numbered.n
        FROM (SELECT id, row_number() OVER (PARTITION BY session_id ORDER BY id) AS n
              FROM session_candidates) AS numbered
        WHERE numbered.id = sc.id
        """
    )
    op.create_index("session_candidates_seat", "session_candidates", ["session_id", "seat"])
    op.execute(SEAT_FUNCTION)
    op.execute(
        "CREATE TRIGGER session_candidates_seat BEFORE INSERT ON session_candidates "
        "FOR EACH ROW EXECUTE FUNCTION session_candidates_next_seat()"
    )
    op.add_column("attempts", sa.Column("disqualified_at", sa.DateTime(timezone=True)))
    op.add_column("attempts", sa.Column("disqualified_reason", sa.Text()))
    op.add_column("attempts", sa.Column("disqualified_by", sa.String(80)))


def downgrade() -> None:
    op.drop_column("attempts", "disqualified_by")
    op.drop_column("attempts", "disqualified_reason")
    op.drop_column("attempts", "disqualified_at")
    op.execute("DROP TRIGGER IF EXISTS session_candidates_seat ON session_candidates")
    op.execute("DROP FUNCTION IF EXISTS session_candidates_next_seat()")
    op.drop_index("session_candidates_seat", table_name="session_candidates")
    op.drop_column("session_candidates", "seat")
