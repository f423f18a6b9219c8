"""``tkd results export|regrade``: results from the command line (README.md, "The command line")."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from sqlalchemy.orm import Session

from exam_server.cli.runner import CommandError, migrated_engine, services_ready
from exam_server.db.audit import Actor
from exam_server.db.engine import make_async_engine, session_factory, upgrade
from exam_server.db.models import Exam, ExamSession
from exam_server.results.export import export_file
from exam_server.results.regrade import regrade_exam
from exam_server.results.standings import Columns, exam_heads_sync
from exam_server.settings import Settings


def cmd_export(args: argparse.Namespace, settings: Settings) -> int:

    out = Path(args.out)
    if not out.parent.is_dir():
        raise CommandError(f"folder {out.parent} does not exist")
    with migrated_engine(settings) as engine:
        with Session(engine) as db:
            if db.get(Exam, args.exam) is None:
                raise CommandError(f"exam {args.exam} does not exist")
            if args.session is not None:
                session = db.get(ExamSession, args.session)
                if session is None or session.exam_id != args.exam:
                    raise CommandError(
                        f"session {args.session} is not a session of exam {args.exam}"
                    )
            columns = Columns(exam_heads_sync(db, args.exam), args.lang)
        with engine.connect() as conn:
            count = export_file(conn, out, args.format, args.exam, columns, args.session, args.unit)
    print(f"{count} baris ditulis ke {out} / {count} rows written to {out}")
    return 0


def cmd_regrade(args: argparse.Namespace, settings: Settings) -> int:

    with services_ready(settings) as ready:
        assert ready.database_url
        upgrade(ready.database_url)
        report = asyncio.run(_regrade(ready.database_url, args.exam, args.actor))
    if report is None:
        raise CommandError(f"exam {args.exam} does not exist")
    print(f"dinilai ulang {report.graded}, berubah {len(report.changes)} / "
          f"re-graded {report.graded}, changed {len(report.changes)}")  # fmt: skip
    for c in report.changes:
        print(f"  {c.participant_no}  {c.name}: {c.old_total} -> {c.new_total}"
              f"  ({c.old_passed} -> {c.new_passed})")  # fmt: skip
    return 0


async def _regrade(url: str, exam_id: int, actor: str):  # type: ignore[no-untyped-def]

    engine = make_async_engine(url, pool_size=1)
    try:
        async with session_factory(engine)() as db, db.begin():
            if await db.get(Exam, exam_id) is None:
                return None
            return await regrade_exam(db, exam_id, Actor(None, f"cli:{actor}"))
    finally:
        await engine.dispose()


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    results = sub.add_parser("results", help="test results: export, re-grade").add_subparsers(
        dest="results_command", required=True
    )
    p = results.add_parser("export", help="ranked results of an exam as CSV or XLSX (streamed)")
    p.add_argument("--exam", type=int, required=True, help="exam id")
    p.add_argument("--format", choices=["csv", "xlsx"], required=True)
    p.add_argument("--out", required=True, help="file to write")
    p.add_argument("--session", type=int, default=None, help="only this session (id)")
    p.add_argument("--unit", default=None, help="only candidates of this unit")
    p.add_argument("--lang", choices=["id", "en"], default="id", help="column headings")
    p.set_defaults(func=cmd_export)
    p = results.add_parser("regrade", help="grade every submitted attempt again (after a key fix)")
    p.add_argument("--exam", type=int, required=True, help="exam id")
    p.add_argument("--actor", default="admin", help="name recorded in the audit log as cli:NAME")
    p.set_defaults(func=cmd_regrade)
