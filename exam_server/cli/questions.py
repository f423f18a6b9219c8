"""``tkd questions import|export|list``: the question bank from the command line.

Parsing and validation are the pure ``question_bank`` package; this module only reads the
file, writes to PostgreSQL in one transaction (all or nothing) and prints the outcome.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from exam_server.bank.store import SaveReport, bank_counts, bank_items, save_items
from exam_server.cli import question_key
from exam_server.cli.runner import CommandError, run_work
from exam_server.db.audit import Actor
from exam_server.settings import Settings
from question_bank.exporting import EXPORT_FORMATS, export_bank, spreadsheet_items
from question_bank.importing import parse_bank

FORMATS = ["csv", "xlsx", "moodle_xml", "gift", "aiken", "qti", "tcexam"]


def _problem_json(problem: Any) -> dict[str, Any]:
    return {
        "line": problem.line,
        "item": problem.item,
        "file": problem.file,  # the file inside a package (QTI zip), else null
        "message": problem.message_id,
        "message_en": problem.message_en,
    }


def _problem_line(problem: Any) -> str:
    where = (
        f"baris {problem.line}"
        if problem.line
        else (f"soal {problem.item}" if problem.item else "berkas")
    )
    return f"{where}: {problem.message_id}"


def cmd_import(args: argparse.Namespace, settings: Settings) -> int:

    path = Path(args.file)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CommandError(f"cannot read {path}: {exc.strerror}") from None
    report = parse_bank(data, path.name, args.format, skip_unsupported=args.skip_unsupported)
    if not report.ok:
        if args.json:
            print(
                json.dumps(
                    {
                        "imported": 0,
                        "duplicates": report.duplicates,
                        "errors": [_problem_json(p) for p in report.errors],
                    },
                    ensure_ascii=False,
                )
            )
        else:
            print(
                f"Berkas ditolak seluruhnya, tidak ada soal yang disimpan ({len(report.errors)} masalah):",
                file=sys.stderr,
            )
            for problem in report.errors:
                print(f"  {_problem_line(problem)}", file=sys.stderr)
        return 1

    async def save(db: AsyncSession, _actor: Actor, _s: Settings) -> SaveReport:
        saved = await save_items(db, report.items)
        if args.dry_run:  # counted, and nothing written
            await db.rollback()
        return saved

    saved = run_work(settings, save)
    outcome = {"imported": saved.imported, "duplicates": saved.duplicates, "errors": []}
    if args.json:
        skipped = [_problem_json(p) for p in report.skipped]
        print(
            json.dumps(
                {**outcome, "dry_run": bool(args.dry_run), "skipped": skipped}, ensure_ascii=False
            )
        )
    else:
        for problem in [*report.warnings, *report.skipped]:
            print(f"  {_problem_line(problem)}")
        verb = "akan diimpor (uji coba, tidak disimpan)" if args.dry_run else "diimpor"
        print(f"{saved.imported} soal {verb}; {saved.duplicates} sudah ada di bank soal.")
    return 0


def cmd_export(args: argparse.Namespace, settings: Settings) -> int:

    items = run_work(settings, lambda db, _actor, _s: bank_items(db, args.section))
    data = export_bank(items, args.format)
    Path(args.out).write_bytes(data)
    left_out = [] if args.format == "qti" else spreadsheet_items(items)[1]
    print(f"{len(items) - len(left_out)} soal diekspor ke {args.out}")
    if left_out:
        print(
            f"{len(left_out)} soal bergambar tidak ikut (gambar hanya terbawa dalam --format qti)"
            f" / {len(left_out)} questions with images left out (images travel only in QTI)",
            file=sys.stderr,
        )
    return 0


def cmd_list(args: argparse.Namespace, settings: Settings) -> int:

    rows = run_work(settings, lambda db, _actor, _s: bank_counts(db))
    if args.json:
        print(json.dumps([{"section": s, "category": c, "count": n} for s, c, n in rows]))
    else:
        for section, category, count in rows:
            print(f"{section or '-':6} {category or '-':30} {count:6}")
        print(f"total {sum(n for _, _, n in rows)}")
    return 0


def register(sub: Any) -> None:
    questions = sub.add_parser("questions", help="the question bank").add_subparsers(
        dest="questions_command", required=True
    )
    p = questions.add_parser(
        "import",
        help="import a CSV, XLSX, Moodle XML, GIFT, Aiken, QTI or TCExam file, all or nothing",
    )
    p.add_argument("file")
    p.add_argument(
        "--format", choices=FORMATS, default=None, help="detected from the file when omitted"
    )
    p.add_argument("--dry-run", action="store_true", help="check the file and write nothing")
    p.add_argument(
        "--skip-unsupported",
        action="store_true",
        help="leave out question types the test does not deliver (essay, matching, ...) instead of refusing the file",
    )
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_import)
    p = questions.add_parser("export", help="export the bank")
    p.add_argument("--format", choices=EXPORT_FORMATS, default="xlsx")
    p.add_argument("--out", required=True)
    p.add_argument("--section", default=None)
    p.set_defaults(func=cmd_export)
    p = questions.add_parser("list", help="count questions by section and category")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_list)

    question_key.register(questions)
