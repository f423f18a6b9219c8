"""``tkd results export|regrade|story``: results from the command line
(README.md, "The command line").

Every ``--exam`` takes an exam id or its code.
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from exam_server.cli.runner import CommandError, migrated_engine, services_ready
from exam_server.db.audit import Actor, record
from exam_server.db.engine import make_async_engine, session_factory, upgrade
from exam_server.db.models import Exam, ExamSession
from exam_server.results.export import export_file
from exam_server.results.regrade import regrade_exam
from exam_server.results.standings import Columns, exam_heads_sync
from exam_server.results.story_pdf import render_story
from exam_server.results.story_store import attempt_for, load_story
from exam_server.results.story_text import story_lines
from exam_server.settings import Settings
from exam_server.staff.exam_forms import FormError
from exam_server.staff.exams_store import find_exam
from exam_server.web.rendering import number
from exam_server.web.spreadsheet_csv import COMMA, SEMICOLON


def exam_id_of(db: Session, ref: str) -> int | None:
    """The id of the exam named by id or by code, or None."""
    text = str(ref).strip()
    if text.isdigit() and db.get(Exam, int(text)) is not None:
        return int(text)
    return db.scalar(select(Exam.id).where(Exam.code == text))


def cmd_export(args: argparse.Namespace, settings: Settings) -> int:

    out = Path(args.out)
    if not out.parent.is_dir():
        raise CommandError(f"folder {out.parent} does not exist")
    with migrated_engine(settings) as engine:
        with Session(engine) as db:
            exam_id = exam_id_of(db, args.exam)
            if exam_id is None:
                raise CommandError(f"exam {args.exam} does not exist")
            if args.session is not None:
                session = db.get(ExamSession, args.session)
                if session is None or session.exam_id != exam_id:
                    raise CommandError(
                        f"session {args.session} is not a session of exam {args.exam}"
                    )
            columns = Columns(exam_heads_sync(db, exam_id), args.lang)
        with engine.connect() as conn:
            style = COMMA if args.csv_comma else SEMICOLON
            count = export_file(
                conn, out, args.format, exam_id, columns, args.session, args.unit, style
            )
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
