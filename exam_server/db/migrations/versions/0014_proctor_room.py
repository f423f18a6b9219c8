"""The proctor's room: seats, disqualification, and outage minutes to give back

* ``session_candidates.seat``: each seated candidate's seat number, shown on the card, the
  attendance list and the room view. A trigger gives the next free number in the session
  to every new row (whichever path inserts it: pages, CLI, demo, moves); existing rows are
  numbered here by the order they were seated.
* ``attempts.disqualified_at`` / ``disqualified_reason`` / ``disqualified_by``: a
  proctor's disqualification, shown on the result.
* ``attempt_outages``: minutes an attempt lost to a server-side failure. Issue 12 records
  them and creates the same table in its own migration; this one creates it only where it
  is missing, so both branches agree on one table (docs/proctor.md).

Revision ID: 0014
Revises: 0005
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0005"
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
    op.execute(
        """
        CREATE TABLE IF NOT EXISTS attempt_outages (
          id BIGSERIAL PRIMARY KEY,
          attempt_id INTEGER NOT NULL REFERENCES attempts(id) ON DELETE CASCADE,
          cause VARCHAR(16) NOT NULL,
          started_at TIMESTAMPTZ NOT NULL,
          ended_at TIMESTAMPTZ NOT NULL,
          lost_ms BIGINT NOT NULL,
          given_back_at TIMESTAMPTZ,
          given_back_by VARCHAR(200)
        )
        """
    )
    op.execute(
        "CREATE INDEX IF NOT EXISTS ix_attempt_outages_attempt_id ON attempt_outages (attempt_id)"
    )


def downgrade() -> None:
    op.drop_column("attempts", "disqualified_by")
    op.drop_column("attempts", "disqualified_reason")
    op.drop_column("attempts", "disqualified_at")
    op.execute("DROP TRIGGER IF EXISTS session_candidates_seat ON session_candidates")
    op.execute("DROP FUNCTION IF EXISTS session_candidates_next_seat()")
    op.drop_index("session_candidates_seat", table_name="session_candidates")
    op.drop_column("session_candidates", "seat")
