"""``tkd results export|regrade|story``: results from the command line
(README.md, "The command line").

Every ``--exam`` takes an exam id or its code.
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from exam_server.cli.runner import CommandError, migrate, run_in_transaction, services_ready
from exam_server.db.audit import Actor, record
from exam_server.db.engine import make_async_engine, make_sync_engine, session_factory, upgrade
from exam_server.results.export import export_file
from exam_server.results.regrade import regrade_exam
from exam_server.results.standings import Columns, exam_heads
from exam_server.results.story_pdf import render_story
from exam_server.results.story_store import attempt_for, load_story
from exam_server.results.story_text import story_lines
from exam_server.settings import Settings
from exam_server.staff.exam_forms import FormError
from exam_server.staff.exams_store import find_exam
from exam_server.staff.sessions_store import get_session
from exam_server.web.rendering import number
from exam_server.web.spreadsheet_csv import COMMA, SEMICOLON


async def _export_columns(
    db: AsyncSession, exam_ref: str, session_id: int | None, lang: str
) -> tuple[int, Columns]:
    """The exam's id and its export columns; a CommandError when the exam, or the session
    within it, does not exist."""
    try:
        exam = await find_exam(db, exam_ref)
    except FormError:
        raise CommandError(f"exam {exam_ref} does not exist") from None
    if session_id is not None:
        session = await get_session(db, session_id)
        if session is None or session.exam_id != exam.id:
            raise CommandError(f"session {session_id} is not a session of exam {exam_ref}")
    return exam.id, Columns(await exam_heads(db, exam.id), lang)


def cmd_export(args: argparse.Namespace, settings: Settings) -> int:

    out = Path(args.out)
    if not out.parent.is_dir():
        raise CommandError(f"folder {out.parent} does not exist")
    with services_ready(settings) as ready:
        migrate(ready)
        exam_id, columns = run_in_transaction(
            ready, lambda db, _actor, _s: _export_columns(db, args.exam, args.session, args.lang)
        )
        assert ready.database_url
        # The export streams its rows through a sync connection (results.export).
        engine = make_sync_engine(ready.database_url)
        try:
            with engine.connect() as conn:
                style = COMMA if args.csv_comma else SEMICOLON
                count = export_file(
                    conn, out, args.format, exam_id, columns, args.session, args.unit, style
                )
        finally:
            engine.dispose()
    print(f"{count} baris ditulis ke {out} / {count} rows written to {out}")
    return 0


def cmd_regrade(args: argparse.Namespace, settings: Settings) -> int:

    with services_ready(settings) as ready:
        assert ready.database_url
        upgrade(ready.database_url)
        report = asyncio.run(_regrade(ready.database_url, args.exam, args.actor))
    if report is None:
        raise CommandError(f"exam {args.exam} does not exist")
    print(
        f"dinilai ulang {report.graded}, berubah {len(report.changes)} / "
        f"re-graded {report.graded}, changed {len(report.changes)}"
    )
    for c in report.changes:
        print(
            f"  {c.participant_no}  {c.name}: total {number(c.old_total)} → {number(c.new_total)}"
            f", {_verdict(c.old_passed)} → {_verdict(c.new_passed)}"
        )
    return 0


def _verdict(passed: bool | None) -> str:
    return {True: "lulus/passed", False: "tidak lulus/not passed"}.get(passed, "-")  # type: ignore[arg-type]


async def _regrade(url: str, exam_ref: str, actor: str):  # type: ignore[no-untyped-def]

    engine = make_async_engine(url, pool_size=1)
    try:
        async with session_factory(engine)() as db, db.begin():
            try:
                exam = await find_exam(db, exam_ref)
            except FormError:
                return None
            return await regrade_exam(db, exam.id, Actor(None, f"cli:{actor}"))
    finally:
        await engine.dispose()


def cmd_story(args: argparse.Namespace, settings: Settings) -> int:

    if args.participant and not args.exam:
        raise CommandError("--participant needs --exam (id or code)")
    if args.pdf and not Path(args.pdf).parent.is_dir():
        raise CommandError(f"folder {Path(args.pdf).parent} does not exist")
    with services_ready(settings) as ready:
        assert ready.database_url
        upgrade(ready.database_url)
        story = asyncio.run(_story(ready.database_url, args))
    if story is None:
        raise CommandError("percobaan tidak ada / no such attempt")
    for line in story_lines(story, args.lang):
        print(line)
    if args.pdf:
        Path(args.pdf).write_bytes(render_story(story, args.lang))
        print(f"PDF: {args.pdf}")
    return 0


async def _story(url: str, args: argparse.Namespace):  # type: ignore[no-untyped-def]

    engine = make_async_engine(url, pool_size=1)
    try:
        async with session_factory(engine)() as db:
            attempt_id = args.attempt
            if attempt_id is None:
                try:
                    exam = await find_exam(db, args.exam)
                except FormError:
                    return None
                attempt_id = await attempt_for(db, exam.id, args.participant.strip().upper())
                if attempt_id is None:
                    return None
            story = await load_story(db, attempt_id)
            if story is not None:
                # It shows every answer a person gave: who read it is worth knowing.
                record(db, Actor(None, "cli"), "result.story", "attempt", attempt_id)
                await db.commit()
            return story
    finally:
        await engine.dispose()


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    results = sub.add_parser("results", help="test results: export, re-grade").add_subparsers(
        dest="results_command", required=True
    )
    p = results.add_parser("export", help="ranked results of an exam as CSV or XLSX (streamed)")
    p.add_argument("--exam", required=True, help="exam id or code")
    p.add_argument("--format", choices=["csv", "xlsx"], required=True)
    p.add_argument("--out", required=True, help="file to write")
    p.add_argument("--session", type=int, default=None, help="only this session (id)")
    p.add_argument("--unit", default=None, help="only candidates of this unit")
    p.add_argument("--lang", choices=["id", "en"], default="id", help="column headings")
    p.add_argument(
        "--csv-comma",
        action="store_true",
        help="CSV with commas and decimal points (default: semicolons and decimal "
        "commas, as an Indonesian spreadsheet reads them)",
    )
    p.set_defaults(func=cmd_export)
    p = results.add_parser("regrade", help="grade every submitted attempt again (after a key fix)")
    p.add_argument("--exam", required=True, help="exam id or code")
    p.add_argument("--actor", default="admin", help="name recorded in the audit log as cli:NAME")
    p.set_defaults(func=cmd_regrade)
    p = results.add_parser("story", help="an attempt's timeline and answer sheet (evidence)")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--attempt", type=int, help="attempt id")
    which.add_argument("--participant", help="participant number (with --exam)")
    p.add_argument("--exam", default=None, help="exam id or code (with --participant)")
    p.add_argument("--lang", choices=["id", "en"], default="id")
    p.add_argument("--pdf", default=None, help="also write the printable PDF to this file")
    p.set_defaults(func=cmd_story)
