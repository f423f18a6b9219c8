"""``tkd staff create`` and ``tkd candidates import`` (CONTRACT section 3).

Registered by ``exam_server.cli`` through ``register(sub)``.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import os
import sys
from pathlib import Path

from exam_server.settings import Settings
from exam_server.staff.audit import Actor


def _cli_actor() -> Actor:
    try:
        who = os.getlogin()
    except OSError:
        who = os.environ.get("USER", "unknown")
    return Actor(None, f"cli:{who}"[:80])


def _read_password(args: argparse.Namespace) -> str:
    from exam_server.cli import CommandError

    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    if not sys.stdin.isatty():
        raise CommandError("no terminal to ask for a password; use --password-stdin")
    first = getpass.getpass("Kata sandi / Password: ")
    if first != getpass.getpass("Ulangi / Repeat: "):
        raise CommandError("the two passwords differ")
    return first


async def _create_staff(settings: Settings, args: argparse.Namespace, password: str) -> str:
    from exam_server.database import make_async_engine, session_factory
    from exam_server.staff.accounts import create_account

    assert settings.database_url
    engine = make_async_engine(settings.database_url, pool_size=1)
    try:
        async with session_factory(engine)() as db, db.begin():
            user = await create_account(
                db, _cli_actor(), args.username, args.full_name, args.role, password
            )
            return user.username
    finally:
        await engine.dispose()


def cmd_staff_create(args: argparse.Namespace, settings: Settings) -> int:
    from exam_server.cli import CommandError, _migrate, services_ready
    from exam_server.staff.accounts import AccountError, check_new_account

    password = _read_password(args)
    try:
        check_new_account(args.username, args.role, password)  # before starting any server
    except AccountError as exc:
        raise CommandError(str(exc).split(" / ")[-1]) from None
    with services_ready(settings) as ready:
        _migrate(ready)
        try:
            username = asyncio.run(_create_staff(ready, args, password))
        except AccountError as exc:
            raise CommandError(str(exc).split(" / ")[-1]) from None
    print(f"staff account {username} ({args.role}) created; log in at /panitia/masuk")
    return 0


async def _import(settings: Settings, path: Path, dry_run: bool) -> dict[str, object]:
    from exam_server.database import make_async_engine, session_factory
    from exam_server.staff.candidate_import import parse_candidates
    from exam_server.staff.candidates_store import import_candidates

    parsed = parse_candidates(path.read_bytes(), path.name)
    assert settings.database_url
    engine = make_async_engine(settings.database_url, pool_size=1)
    try:
        async with session_factory(engine)() as db, db.begin():
            outcome = await import_candidates(db, _cli_actor(), parsed, path.name, dry_run=dry_run)
            if outcome.errors:
                await db.rollback()
    finally:
        await engine.dispose()
    result = outcome.as_json(settings.default_lang)
    result["dry_run"] = dry_run
    return result


def cmd_candidates_import(args: argparse.Namespace, settings: Settings) -> int:
    from exam_server.cli import CommandError, _migrate, services_ready

    path = Path(args.file)
    if not path.is_file():
        raise CommandError(f"{path}: no such file")
    with services_ready(settings) as ready:
        _migrate(ready)
        result = asyncio.run(_import(ready, path, args.dry_run))
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


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    staff = sub.add_parser("staff", help="committee staff accounts").add_subparsers(
        dest="staff_command", required=True
    )
    p = staff.add_parser("create", help="create a staff account (the first admin, for one)")
    p.add_argument("--username", required=True)
    p.add_argument("--role", default="admin", choices=["admin", "panitia", "proctor", "viewer"])
    p.add_argument("--full-name", default="")
    p.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    p.set_defaults(func=cmd_staff_create)

    cands = sub.add_parser("candidates", help="candidate lists").add_subparsers(
        dest="candidates_command", required=True
    )
    p = cands.add_parser("import", help="import a CSV or XLSX of candidates, all or nothing")
    p.add_argument("file")
    p.add_argument("--dry-run", action="store_true", help="check the file, write nothing")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=cmd_candidates_import)
