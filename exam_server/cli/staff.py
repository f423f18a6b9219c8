"""``tkd staff`` (README.md, "The command line"), and the runner that the committee's commands share:
one transaction, acting as ``cli:<login>`` in the audit log.

Registered by ``exam_server.cli.main`` through ``register(sub)``.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from typing import TYPE_CHECKING, Any

from exam_server.cli.audit import cmd_verify
from exam_server.cli.runner import CommandError, run_work
from exam_server.db.audit import Actor
from exam_server.db.staff_models import ROLES
from exam_server.settings import Settings
from exam_server.staff.accounts import (
    AccountError,
    account_named,
    check_new_account,
    create_account,
    staff_users,
    update_account,
)
from exam_server.staff.audit_log import audit_entries

if TYPE_CHECKING:
    pass


def _read_password(args: argparse.Namespace) -> str:

    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    if not sys.stdin.isatty():
        raise CommandError("no terminal to ask for a password; use --password-stdin")
    first = getpass.getpass("Kata sandi / Password: ")
    if first != getpass.getpass("Ulangi / Repeat: "):
        raise CommandError("the two passwords differ")
    return first


def cmd_staff_create(args: argparse.Namespace, settings: Settings) -> int:

    password = _read_password(args)
    try:
        check_new_account(args.username, args.role, password)  # before starting any server
    except AccountError as exc:
        raise CommandError(exc.en_text) from None  # this early check has always answered in English

    async def work(db: Any, actor: Actor, s: Settings) -> str:

        user = await create_account(db, actor, args.username, args.full_name, args.role, password)
        return str(user.username)

    username = run_work(settings, work)
    print(f"staff account {username} ({args.role}) created; log in at /panitia/masuk")
    return 0


def cmd_staff_list(args: argparse.Namespace, settings: Settings) -> int:

    async def work(db: Any, actor: Actor, s: Settings) -> list[dict[str, Any]]:
        users = await staff_users(db)
        return [
            {"username": u.username, "full_name": u.full_name, "role": u.role, "active": u.active}
            for u in users
        ]

    users = run_work(settings, work)
    if args.json:
        print(json.dumps(users, ensure_ascii=False))
    for u in [] if args.json else users:
        state = "" if u["active"] else "  (disabled)"
        print(f"{u['username']:<24} {u['role']:<8} {u['full_name']}{state}")
    return 0


def cmd_staff_update(args: argparse.Namespace, settings: Settings) -> int:

    password = _read_password(args) if args.password_stdin or args.new_password else ""

    async def work(db: Any, actor: Actor, s: Settings) -> bool:
        name = args.username.strip().lower()
        user = await account_named(db, name, lock=True)
        if user is None:
            raise AccountError(f"Akun {name} tidak ada.", f"No account {name}.")
        role = args.role or user.role
        active = user.active if args.active is None else args.active
        return await update_account(db, actor, user, role, active, password)

    changed = run_work(settings, work)
    print(f"account {args.username} saved" if changed else f"{args.username}: nothing changed")
    return 0


def cmd_audit(args: argparse.Namespace, settings: Settings) -> int:
    """The audit log, newest first: what the admins' page shows."""
    if args.what == "verify":
        return cmd_verify(args, settings)

    async def work(db: Any, actor: Actor, s: Settings) -> list[dict[str, Any]]:
        found = await audit_entries(
            db,
            args.limit,
            entity=args.entity or "",
            entity_id=args.id or "",
            action=args.action or "",
            username=args.user or "",
        )
        return [
            {
                "id": e.id,
                "at": e.at.isoformat(),
                "username": e.username,
                "action": e.action,
                "entity": e.entity,
                "entity_id": e.entity_id,
                "old": e.old,
                "new": e.new,
                "reason": e.reason,
            }
            for e in found
        ]

    entries = run_work(settings, work)
    if args.json:
        print(json.dumps(entries, ensure_ascii=False))
        return 0
    for e in entries:
        why = f"  reason: {e['reason']}" if e["reason"] else ""
        print(
            f"{e['at'][:19]}  {e['username']:<20} {e['action']:<22} "
            f"{e['entity']} {e['entity_id']}{why}"
        )
        for label, values in (("old", e["old"]), ("new", e["new"])):
            if values:
                print(f"    {label}: {json.dumps(values, ensure_ascii=False)[:300]}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    staff = sub.add_parser("staff", help="committee staff accounts").add_subparsers(
        dest="staff_command", required=True
    )
    p = staff.add_parser("create", help="create a staff account (the first admin, for one)")
    p.add_argument("--username", required=True)
    p.add_argument("--role", default="admin", choices=ROLES)
    p.add_argument("--full-name", default="")
    p.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    p.set_defaults(func=cmd_staff_create)
    p = staff.add_parser("update", help="change a role, disable or enable, or set a password")
    p.add_argument("username")
    p.add_argument("--role", default=None, choices=ROLES)
    p.add_argument("--disable", dest="active", action="store_false", default=None)
    p.add_argument("--enable", dest="active", action="store_true", default=None)
    p.add_argument("--new-password", action="store_true", help="ask for a new password")
    p.add_argument(
        "--password-stdin", action="store_true", help="read the new password from standard input"
    )
    p.set_defaults(func=cmd_staff_update)
    p = staff.add_parser("list", help="every staff account and its role")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_staff_list)

    p = sub.add_parser("audit", help="read the audit log, newest first; `audit verify` checks it")
    p.add_argument("what", nargs="?", choices=["verify"], help="verify: is the hash chain whole")
    p.add_argument("--entity", default=None, help="staff, candidate, exam, session, question, ...")
    p.add_argument("--id", default=None, help="the object's id")
    p.add_argument("--action", default=None, help="e.g. candidate.correct")
    p.add_argument("--user", default=None, help="who acted (a username, or cli:<login>)")
    p.add_argument("--limit", type=int, default=50)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_audit)
