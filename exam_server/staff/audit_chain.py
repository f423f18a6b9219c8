"""Checking the audit log's hash chain (migration 0013; docs/security.md, "Audit log").

PostgreSQL recomputes every entry's hash with the same function its insert trigger used;
``find_break`` then walks the entries in id order. An entry whose content no longer
matches its hash was edited; an entry whose ``prev_hash`` is not its predecessor's hash
sits after a removed or inserted entry. Removing the newest entries leaves a shorter but
whole chain, so the report gives the count and the last hash for the committee to note
down (in the minutes of each test day) and compare later.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.engine import Connection

GENESIS = "0" * 64


@dataclass(frozen=True, slots=True)
class ChainRow:
    id: int
    prev_hash: str
    entry_hash: str
    recomputed: str


@dataclass(frozen=True, slots=True)
class ChainReport:
    entries: int
    last_hash: str
    broken_at: int | None = None  # the first entry that does not fit
    problem: str = ""  # "edited" or "link"

    @property
    def whole(self) -> bool:
        return self.broken_at is None

    def sentence(self) -> str:
        if self.whole:
            return (
                f"Log audit utuh: {self.entries} entri, hash terakhir {self.last_hash}. / "
                f"The audit log is whole: {self.entries} entries, last hash {self.last_hash}."
            )
        if self.problem == "edited":
            return (
                f"Log audit rusak: entri {self.broken_at} telah diubah. / "
                f"The audit log is broken: entry {self.broken_at} was altered."
            )
        return (
            f"Log audit rusak: rantai putus sebelum entri {self.broken_at} "
            f"(entri dihapus atau disisipkan). / The audit log is broken: the chain breaks "
            f"before entry {self.broken_at} (an entry was removed or inserted)."
        )


def find_break(rows: Iterable[ChainRow]) -> ChainReport:
    previous, count = GENESIS, 0
    for row in rows:
        if row.prev_hash != previous:
            return ChainReport(count, previous, row.id, "link")
        if row.recomputed != row.entry_hash:
            return ChainReport(count, previous, row.id, "edited")
        previous, count = row.entry_hash, count + 1
    return ChainReport(count, previous)


CHAIN_QUERY = text(
    """
    SELECT id, prev_hash, entry_hash,
           audit_entry_hash(id, at, staff_id, username, action, entity, entity_id,
                            old, new, reason, prev_hash) AS recomputed
    FROM audit_log ORDER BY id
    """
)


def verify_chain(conn: Connection) -> ChainReport:
    result = conn.execute(CHAIN_QUERY.execution_options(yield_per=5000))
    try:
        return find_break(
            ChainRow(int(r.id), r.prev_hash, r.entry_hash, r.recomputed) for r in result
        )
    finally:
        result.close()  # a break found early leaves rows unread on the server-side cursor
