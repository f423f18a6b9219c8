"""The audit log as a hash chain: whole after concurrent appends, and an edit or a removal
is found with its place (docs/security.md, "Audit log")."""

from __future__ import annotations

import asyncio
import json

from sqlalchemy import text

from exam_server.db.audit import Actor, record


async def append(services, n: int, tag: str) -> None:  # type: ignore[no-untyped-def]
    for i in range(n):
        async with services.sessions() as db, db.begin():
            record(db, Actor(None, "cli:uji"), "test.chain", "test", f"{tag}-{i}", new={"i": i})
            await asyncio.sleep(0)


def verify(db_engine):  # type: ignore[no-untyped-def]
    from exam_server.staff.audit_chain import verify_chain

    with db_engine.connect() as conn:
        return verify_chain(conn)


def test_the_chain_check_finds_edits_and_broken_links_without_a_database() -> None:
    from exam_server.staff.audit_chain import GENESIS, ChainRow, find_break

    rows = [ChainRow(1, GENESIS, "a", "a"), ChainRow(2, "a", "b", "b"), ChainRow(4, "b", "d", "d")]
    assert find_break(rows).whole and find_break(rows).last_hash == "d"
    edited = [ChainRow(1, GENESIS, "a", "a"), ChainRow(2, "a", "b", "x")]
    assert (find_break(edited).broken_at, find_break(edited).problem) == (2, "edited")
    removed = [ChainRow(1, GENESIS, "a", "a"), ChainRow(3, "b", "c", "c")]
    assert (find_break(removed).broken_at, find_break(removed).problem) == (3, "link")


async def test_concurrent_appends_keep_the_chain_whole(services, db_engine) -> None:  # type: ignore[no-untyped-def]
    await asyncio.gather(*(append(services, 5, f"w{w}") for w in range(8)))
    report = verify(db_engine)
    assert report.whole, report.sentence()
    assert report.entries >= 40


def _tamper(db_engine, sql: str, **params: object) -> None:  # type: ignore[no-untyped-def]
    with db_engine.begin() as conn:
        conn.execute(text("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only"))
        conn.execute(text(sql), params)
        conn.execute(text("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only"))


async def test_an_edited_or_removed_entry_is_found_and_tkd_audit_verify_says_where(
    services, db_engine, cli, capsys
) -> None:  # type: ignore[no-untyped-def]
    await append(services, 3, "tamper")
    with db_engine.connect() as conn:
        victim = (
            conn.execute(
                text(
                    "SELECT * FROM audit_log WHERE entity_id = 'tamper-1' ORDER BY id DESC LIMIT 1"
                )
            )
            .mappings()
            .one()
        )
    assert cli("audit", "verify") == 0
    assert "utuh" in capsys.readouterr().out

    # An edit: the reason is rewritten after the fact.
    _tamper(db_engine, "UPDATE audit_log SET reason = 'diubah' WHERE id = :id", id=victim["id"])
    assert cli("audit", "verify", "--json") == 1
    report = json.loads(capsys.readouterr().out)
    assert report == {**report, "whole": False, "broken_at": victim["id"], "problem": "edited"}
    _tamper(
        db_engine,
        "UPDATE audit_log SET reason = :r WHERE id = :id",
        r=victim["reason"],
        id=victim["id"],
    )
    assert verify(db_engine).whole

    # A removal: the next entry no longer links to its predecessor.
    _tamper(db_engine, "DELETE FROM audit_log WHERE id = :id", id=victim["id"])
    assert cli("audit", "verify") == 1
    out = capsys.readouterr().out
    assert "putus" in out and "removed or inserted" in out
    report = verify(db_engine)
    assert report.problem == "link" and report.broken_at > victim["id"]
    columns = ", ".join(victim.keys())
    values = ", ".join(f":{k}" for k in victim)
    row = {
        k: (json.dumps(v) if k in ("old", "new") and v is not None else v)
        for k, v in victim.items()
    }
    with db_engine.begin() as conn:
        conn.execute(text("ALTER TABLE audit_log DISABLE TRIGGER audit_log_chain"))
        conn.execute(
            text(
                f"INSERT INTO audit_log ({columns}) VALUES ({values.replace(':old', 'CAST(:old AS jsonb)').replace(':new', 'CAST(:new AS jsonb)')})"
            ),
            row,
        )
        conn.execute(text("ALTER TABLE audit_log ENABLE TRIGGER audit_log_chain"))
    assert verify(db_engine).whole
