"""audit_log.prev_hash and entry_hash: the audit log becomes a hash chain

Each entry stores the hash of the entry before it and its own hash over its content and
that link, so an edited, removed or inserted entry shows (``tkd audit verify``; see
docs/security.md, "Audit log"). The hash is computed by PostgreSQL in a BEFORE INSERT
trigger, under a transaction-scoped advisory lock that also assigns the id, so two staff
actions at the same moment cannot both chain onto the same predecessor.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# One fixed advisory-lock key for "appending to the audit log".
LOCK_KEY = 7_213_013

HASH_FUNCTION = """
CREATE FUNCTION audit_entry_hash(
    e_id bigint, e_at timestamptz, e_staff_id integer, e_username text, e_action text,
    e_entity text, e_entity_id text, e_old jsonb, e_new jsonb, e_reason text, e_prev text
) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT encode(sha256(convert_to(jsonb_build_array(
        e_id, (extract(epoch FROM e_at) * 1000000)::bigint, e_staff_id, e_username, e_action,
        e_entity, e_entity_id, e_old, e_new, e_reason, e_prev
    )::text, 'UTF8')), 'hex')
$$;
"""

CHAIN_TRIGGER = f"""
CREATE FUNCTION audit_log_chain() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    previous text;
BEGIN
    PERFORM pg_advisory_xact_lock({LOCK_KEY});
    -- Ids follow the chain: taken under the lock, so id order is append order.
    NEW.id := nextval(pg_get_serial_sequence('audit_log', 'id'));
    SELECT entry_hash INTO previous FROM audit_log ORDER BY id DESC LIMIT 1;
    NEW.prev_hash := coalesce(previous, repeat('0', 64));
    NEW.entry_hash := audit_entry_hash(
        NEW.id, NEW.at, NEW.staff_id, NEW.username, NEW.action, NEW.entity, NEW.entity_id,
        NEW.old, NEW.new, NEW.reason, NEW.prev_hash
    );
    RETURN NEW;
END $$;
CREATE TRIGGER audit_log_chain BEFORE INSERT ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_chain();
"""

BACKFILL = """
DO $$
DECLARE
    entry record;
    previous text := repeat('0', 64);
    current text;
BEGIN
    FOR entry IN SELECT * FROM audit_log ORDER BY id LOOP
        current := audit_entry_hash(
            entry.id, entry.at, entry.staff_id, entry.username, entry.action, entry.entity,
            entry.entity_id, entry.old, entry.new, entry.reason, previous
        );
        UPDATE audit_log SET prev_hash = previous, entry_hash = current WHERE id = entry.id;
        previous := current;
    END LOOP;
END $$;
"""


def upgrade() -> None:
    op.add_column("audit_log", sa.Column("prev_hash", sa.String(64), nullable=True))
    op.add_column("audit_log", sa.Column("entry_hash", sa.String(64), nullable=True))
    op.execute(HASH_FUNCTION)
    # The entries written before this revision are chained once, here, with the
    # append-only guard lifted for this one statement's transaction.
    op.execute("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only")
    op.execute(BACKFILL)
    op.execute("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only")
    op.alter_column("audit_log", "prev_hash", nullable=False)
    op.alter_column("audit_log", "entry_hash", nullable=False)
    op.execute(CHAIN_TRIGGER)


def downgrade() -> None:
    op.execute("DROP TRIGGER audit_log_chain ON audit_log")
    op.execute("DROP FUNCTION audit_log_chain()")
    op.execute(
        "DROP FUNCTION audit_entry_hash(bigint, timestamptz, integer, text, text, text, text, jsonb, jsonb, text, text)"
    )
    op.drop_column("audit_log", "entry_hash")
    op.drop_column("audit_log", "prev_hash")
