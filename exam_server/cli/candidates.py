"""``tkd candidates``: import, search, twin names, corrections, deletion and passwords.

The same store functions as the candidate pages, so the rules and the audit entries are
the same; refusals come back in the configured language.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from exam_server.cli.runner import CommandError, passwords_to_redis, run_work, writable
from exam_server.db.audit import Actor, record
from exam_server.db.models import Candidate
from exam_server.settings import Settings
from exam_server.staff.candidate_import import parse_candidates, template_csv, template_xlsx
from exam_server.staff.candidate_search import STATUSES, search_candidates
from exam_server.staff.candidates_store import (
    CorrectionError,
    candidate_numbered,
    correct_candidate,
    corrected_row,
    correction_fields,
    delete_candidate,
    import_candidates,
    issue_passwords,
    session_names,
    twin_groups,
)


def cmd_candidates_import(args: argparse.Namespace, settings: Settings) -> int:

    path = Path(args.file)
    if not path.is_file():
        raise CommandError(f"{path}: no such file")
    parsed = parse_candidates(path.read_bytes(), path.name)

    async def work(db: Any, actor: Actor, s: Settings) -> dict[str, object]:
        outcome = await import_candidates(db, actor, parsed, path.name, dry_run=args.dry_run)
        if outcome.errors:
            await db.rollback()
        return {**outcome.as_json(s.default_lang), "dry_run": args.dry_run}

    result = run_work(settings, work)
    errors = result["errors"]
    assert isinstance(errors, list)
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    else:
        for err in errors:
            where = f"line {err['line']}: " if err["line"] else ""
            print(f"{where}{err['message']}", file=sys.stderr)
        for twin in result["twins"]:  # type: ignore[attr-defined]
            print(
                f"review (same name, different NIK): {twin['name']}: {'; '.join(twin['entries'])}"
            )
        verb = "would import" if args.dry_run else "imported"
        print(f"{verb} {result['imported']} candidates, {result['duplicates']} already registered")
    if errors:
        print(
            f"tkd: {path.name} refused: {len(errors)} problems, nothing imported",
            file=sys.stderr,
        )
        return 1
    return 0


async def _candidate(db: AsyncSession, participant_no: str) -> Candidate:

    number = participant_no.strip().upper()
    found = await candidate_numbered(db, number, lock=True)
    if found is None:
        raise CorrectionError(f"Peserta {number} tidak ada.", f"No candidate {number}.")
    return found


def _candidate_json(c: Any) -> dict[str, Any]:
    born = c.birth_date.isoformat() if c.birth_date else None
    return {
        "participant_no": c.participant_no,
        "nik": c.nik,
        "name": c.name,
        "birth_date": born,
        "unit": c.unit,
    }


def cmd_candidates_list(args: argparse.Namespace, settings: Settings) -> int:

    async def work(db: Any, actor: Actor, s: Settings) -> tuple[int, list[dict[str, Any]]]:
        total, found = await search_candidates(
            db, args.search or "", args.unit or "", args.status or "", limit=args.limit
        )
        return total, [
            {**_candidate_json(f.candidate), "session": f.session, "status": f.status}
            for f in found
        ]

    total, rows = run_work(settings, work)
    if args.json:
        print(json.dumps({"total": total, "candidates": rows}, ensure_ascii=False))
        return 0
    for r in rows:
        print(
            f"{r['participant_no']}  {r['nik']}  {r['name']:<32} {r['unit']:<24} "
            f"{r['status']}{' · ' + r['session'] if r['session'] else ''}"
        )
    more = f" (first {len(rows)} shown; --limit)" if len(rows) < total else ""
    print(f"{total} candidates{more}", file=sys.stderr)
    return 0


def cmd_candidates_twins(args: argparse.Namespace, settings: Settings) -> int:

    async def work(db: Any, actor: Actor, s: Settings) -> list[dict[str, Any]]:
        groups = await twin_groups(db)
        seats = await session_names(db, [c.id for g in groups for c in g.candidates])
        return [
            {
                "name": g.name,
                "candidates": [
                    {**_candidate_json(c), "sessions": seats.get(c.id, [])} for c in g.candidates
                ],
            }
            for g in groups
        ]

    groups = run_work(settings, work)
    if args.json:
        print(json.dumps(groups, ensure_ascii=False))
        return 0
    for g in groups:
        print(f"{g['name']}:")
        for c in g["candidates"]:
            print(
                f"  {c['participant_no']}  NIK {c['nik']}  born {c['birth_date'] or '?'}  "
                f"{c['unit']}  {', '.join(c['sessions'])}"
            )
    print(f"{len(groups)} names shared by different NIKs; never merged", file=sys.stderr)
    return 0


def cmd_candidates_correct(args: argparse.Namespace, settings: Settings) -> int:
    given = {
        f: getattr(args, f)
        for f in ("nik", "name", "birth_date", "unit", "phone", "email", "photo")
        if getattr(args, f) is not None
    }

    async def work(db: Any, actor: Actor, s: Settings) -> dict[str, object]:
        candidate = await _candidate(db, args.participant_no)
        row = corrected_row({**correction_fields(candidate), **given})
        return await correct_candidate(db, actor, candidate, row, args.reason)

    changes = run_work(settings, work)
    print(f"corrected: {', '.join(changes)}" if changes else "nothing changed")
    return 0


def cmd_candidates_delete(args: argparse.Namespace, settings: Settings) -> int:

    async def work(db: Any, actor: Actor, s: Settings) -> str:
        candidate = await _candidate(db, args.participant_no)
        shown = f"{candidate.name} ({candidate.participant_no})"
        await delete_candidate(db, actor, candidate, args.reason)
        return shown

    print(f"candidate {run_work(settings, work)} deleted")
    return 0


def cmd_candidates_password(args: argparse.Namespace, settings: Settings) -> int:
    """A new password for one candidate (lost card), printed once."""

    async def work(db: Any, actor: Actor, s: Settings) -> tuple[str, str]:
        if not args.reason.strip():
            raise CorrectionError("Alasan wajib diisi.", "A reason is required.")
        candidate = await _candidate(db, args.participant_no)
        [cred] = await issue_passwords(
            db, actor, s.secret_key_value, [candidate.id], args.reason.strip()
        )
        record(db, actor, "candidate.reissue", "candidate", candidate.id, reason=args.reason)
        # Before the commit is safe: a token that Redis does not vouch for is checked in
        # PostgreSQL (exam_server.delivery.revocation).
        await passwords_to_redis(s, [(cred.participant_no, cred.password)])
        return cred.participant_no, cred.password

    number, password = run_work(settings, work)
    print(f"{number} {password}")
    return 0


def cmd_candidates_template(args: argparse.Namespace, settings: Settings) -> int:

    out = writable(args.out)
    out.write_bytes(template_csv() if args.format == "csv" else template_xlsx())
    print(f"the candidate template ({args.format}) is in {out}; see docs/committee.md")
    return 0


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    cands = sub.add_parser("candidates", help="candidate lists").add_subparsers(
        dest="candidates_command", required=True
    )
    p = cands.add_parser("import", help="import a CSV or XLSX of candidates, all or nothing")
    p.add_argument("file")
    p.add_argument("--dry-run", action="store_true", help="check the file, write nothing")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=cmd_candidates_import)

    p = cands.add_parser("list", help="search candidates by name, NIK or number, unit, status")
    p.add_argument("--search", default=None, help="part of a name, NIK or participant number")
    p.add_argument("--unit", default=None)
    p.add_argument("--status", default=None, choices=list(STATUSES))
    p.add_argument("--limit", type=int, default=None)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_candidates_list)

    p = cands.add_parser("twins", help="the same name under different NIKs, for review")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_candidates_twins)

    p = cands.add_parser("correct", help="correct a candidate's data, with a reason")
    p.add_argument("participant_no")
    p.add_argument("--reason", required=True)
    for field in ("nik", "name", "birth-date", "unit", "phone", "email", "photo"):
        p.add_argument(f"--{field}", default=None)
    p.set_defaults(func=cmd_candidates_correct)

    p = cands.add_parser("delete", help="delete a wrongly registered candidate, with a reason")
    p.add_argument("participant_no")
    p.add_argument("--reason", required=True)
    p.set_defaults(func=cmd_candidates_delete)

    p = cands.add_parser("password", help="a new password for one candidate (lost card)")
    p.add_argument("participant_no")
    p.add_argument("--reason", required=True)
    p.set_defaults(func=cmd_candidates_password)

    p = cands.add_parser("template", help="write the import template, with its header row")
    p.add_argument("--format", choices=["csv", "xlsx"], default="xlsx")
    p.add_argument("--out", required=True)
    p.set_defaults(func=cmd_candidates_template)
