"""``tkd sessions``: schedule, seat, move, token and cards, as the session pages do.

The options fill the session form the pages read (``sessions_store.session_values``);
``update`` starts from the session's current values and changes only the options given.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from exam_server.cli.runner import CommandError, passwords_to_redis, run_work, writable
from exam_server.db.audit import Actor, snapshot
from exam_server.delivery.prepare import prepare_session
from exam_server.delivery.services import redis_client
from exam_server.settings import Settings
from exam_server.staff.accounts import account_named
from exam_server.staff.cards import render_cards
from exam_server.staff.exams_store import find_exam
from exam_server.staff.scheduling import move, seated_candidate, spread
from exam_server.staff.sessions_store import (
    SESSION_FIELDS,
    add_to_session,
    create_session,
    delete_session,
    find_session,
    remove_from_session,
    seat_counts,
    session_cards,
    session_form,
    session_values,
    sessions_by_start,
    set_proctor,
    token_now,
    update_session,
    when_text,
)


def _session_options(args: argparse.Namespace) -> dict[str, str]:
    form: dict[str, str] = {}
    for option, field in (
        ("name", "name"),
        ("room", "room"),
        ("date", "date"),
        ("start", "start"),
        ("end", "end"),
        ("capacity", "capacity"),
        ("token_minutes", "token_minutes"),
        ("time_zone", "time_zone"),
    ):
        value = getattr(args, option)
        if value is not None:
            form[field] = "" if field == "capacity" and value.lower() == "none" else value
    if args.token is not None:
        form["token_required"] = "1" if args.token else ""
    return form


def _session_json(session: Any, seated: int) -> dict[str, Any]:
    return {
        "id": session.id,
        **snapshot(session, SESSION_FIELDS),
        "seated": seated,
        "when": when_text(session, "en"),
    }


def cmd_sessions_list(args: argparse.Namespace, settings: Settings) -> int:

    async def work(db: Any, actor: Actor, s: Settings) -> list[dict[str, Any]]:
        exam_id = (await find_exam(db, args.exam)).id if args.exam else None
        sessions = await sessions_by_start(db, exam_id=exam_id)
        seated = await seat_counts(db, [x.id for x in sessions])
        return [_session_json(x, seated.get(x.id, 0)) for x in sessions]

    sessions = run_work(settings, work)
    if args.json:
        print(json.dumps(sessions, ensure_ascii=False))
        return 0
    for x in sessions:
        room = f" · {x['room']}" if x["room"] else ""
        cap = f"/{x['capacity']}" if x["capacity"] else ""
        token = " · token" if x["token_required"] else ""
        print(
            f"{x['id']:>5}  {x['when']}  {x['name']}{room} "
            f"(exam {x['exam_id']}, {x['seated']}{cap} seated{token})"
        )
    if not sessions:
        print("no sessions; create one with: tkd sessions create --exam CODE --name ... --date ...")
    return 0


def cmd_sessions_create(args: argparse.Namespace, settings: Settings) -> int:

    async def work(db: Any, actor: Actor, s: Settings) -> dict[str, Any]:
        exam = await find_exam(db, args.exam)
        form = {"token_minutes": "15", **_session_options(args), "exam_id": str(exam.id)}
        return _session_json(await create_session(db, actor, session_values(form, s.time_zone)), 0)

    session = run_work(settings, work)
    print(
        json.dumps(session, ensure_ascii=False)
        if args.json
        else f"session {session['name']} created (id {session['id']})"
    )
    return 0


def cmd_sessions_update(args: argparse.Namespace, settings: Settings) -> int:

    async def work(db: Any, actor: Actor, s: Settings) -> tuple[str, bool]:
        session = await find_session(db, args.session, lock=True)
        form = {**session_form(session), **_session_options(args)}
        return session.name, await update_session(
            db, actor, session, session_values(form, s.time_zone)
        )

    name, changed = run_work(settings, work)
    print(f"session {name} saved" if changed else f"session {name}: nothing changed")
    return 0


def cmd_sessions_add(args: argparse.Namespace, settings: Settings) -> int:

    numbers = " ".join(args.numbers)
    if args.file:
        if not Path(args.file).is_file():
            raise CommandError(f"{args.file}: no such file")
        numbers += "\n" + Path(args.file).read_text(encoding="utf-8-sig")
    if not numbers.strip() and not args.unit:
        raise CommandError("give participant numbers or NIKs, --file, or --unit")

    async def work(db: Any, actor: Actor, s: Settings) -> tuple[int, int]:
        session = await find_session(db, args.session, lock=True)
        added, elsewhere = await add_to_session(db, actor, session, numbers, args.unit or "")
        return added, len(elsewhere)

    added, elsewhere = run_work(settings, work)
    skipped = f" ({elsewhere} already in another session of this exam)" if elsewhere else ""
    print(f"{added} candidates added{skipped}")
    return 0


def cmd_sessions_remove(args: argparse.Namespace, settings: Settings) -> int:

    async def work(db: Any, actor: Actor, s: Settings) -> str:
        session = await find_session(db, args.session, lock=True)
        candidate = await remove_from_session(db, actor, session, args.participant_no, args.reason)
        return f"{candidate.participant_no} removed from {session.name}; now unscheduled"

    print(run_work(settings, work))
    return 0


def cmd_sessions_move(args: argparse.Namespace, settings: Settings) -> int:

    async def work(db: Any, actor: Actor, s: Settings) -> str:
        source = await find_session(db, args.source)
        target = await find_session(db, args.target, lock=True)
        candidate = await seated_candidate(db, source.id, args.participant_no)
        await move(db, actor, candidate, source, target, args.reason)
        return f"{candidate.participant_no} moved from {source.name} to {target.name}"

    print(run_work(settings, work))
    return 0


def cmd_sessions_spread(args: argparse.Namespace, settings: Settings) -> int:

    async def work(db: Any, actor: Actor, s: Settings) -> dict[int, int]:
        exam = await find_exam(db, args.exam)
        await db.refresh(exam, with_for_update=True)  # one spread at a time per exam
        return await spread(db, actor, exam.id, args.unit or "")

    counts = run_work(settings, work)
    print(f"{sum(counts.values())} candidates spread over {len(counts)} sessions")
    for session_id, n in counts.items():
        print(f"  session {session_id}: +{n}")
    return 0


def cmd_sessions_delete(args: argparse.Namespace, settings: Settings) -> int:

    async def work(db: Any, actor: Actor, s: Settings) -> str:
        session = await find_session(db, args.session, lock=True)
        name = session.name
        await delete_session(db, actor, session, args.reason)
        return f"session {name} deleted; its candidates are unscheduled"

    print(run_work(settings, work))
    return 0


def cmd_sessions_proctor(args: argparse.Namespace, settings: Settings) -> int:

    async def work(db: Any, actor: Actor, s: Settings) -> str:
        session = await find_session(db, args.session)
        user = await account_named(db, args.username.strip().lower())
        await set_proctor(db, actor, session, user, remove=args.remove)
        verb = "no longer proctors" if args.remove else "proctors"
        return f"{args.username} {verb} {session.name}"

    print(run_work(settings, work))
    return 0


def cmd_sessions_token(args: argparse.Namespace, settings: Settings) -> int:

    async def work(db: Any, actor: Actor, s: Settings) -> tuple[str, int, bool]:
        session = await find_session(db, args.session)
        token, changes_in = token_now(s.secret_key_value, session)
        return token, changes_in, session.token_required

    token, changes_in, required = run_work(settings, work)
    print(token)
    note = "" if required else "; this session does not ask for it"
    print(f"changes in {changes_in // 60}:{changes_in % 60:02d}{note}", file=sys.stderr)
    return 0


def cmd_sessions_cards(args: argparse.Namespace, settings: Settings) -> int:
    """The cards PDF: new passwords are issued in the same step, as on the page."""

    out = writable(args.out)
    lang = args.lang or settings.default_lang
    if args.all and not args.yes:
        raise CommandError(
            "--all replaces every password in the session (those who started are skipped); "
            "add --yes to confirm"
        )

    async def work(db: Any, actor: Actor, s: Settings) -> bytes:
        session = await find_session(db, args.session)
        which = "all" if args.all else "new"
        cards = await session_cards(
            db, actor, s.secret_key_value, session, which, lang, login_url=args.login_url
        )
        if not cards:
            raise CommandError(
                "no candidate in this session needs a card; --all reprints everybody's "
                "(their old passwords stop working)"
            )
        # Rendered inside the transaction: if the PDF fails, no password is replaced.
        pdf = render_cards(cards, args.per_page, lang)
        await passwords_to_redis(s, [(c.participant_no, c.password) for c in cards])
        return pdf

    pdf = run_work(settings, work)
    # The PDF holds passwords: readable by its owner only.
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pdf)
    print(f"cards written to {out} ({args.per_page} per page); print them and delete the file")
    return 0


def cmd_sessions_prepare(args: argparse.Namespace, settings: Settings) -> int:
    """Build every seated candidate's paper and login data into Redis now (docs/operations.md)."""

    async def work(db: Any, actor: Actor, s: Settings) -> Any:
        session = await find_session(db, args.session)
        redis = redis_client(str(s.redis_url))
        try:
            return await prepare_session(db, redis, session.id)
        finally:
            await redis.aclose()

    done = run_work(settings, work)
    if args.json:
        print(
            json.dumps(
                {
                    "session_id": done.session_id,
                    "seated": done.seated,
                    "new_papers": done.new_papers,
                    "prepared_at_ms": done.prepared_at_ms,
                }
            )
        )
    else:
        print(
            f"session {done.session_id} prepared: {done.seated} candidates, "
            f"{done.new_papers} new papers"
        )
    return 0


def _session_arguments(p: argparse.ArgumentParser, creating: bool) -> None:
    p.add_argument("--name", required=creating, default=None)
    p.add_argument("--room", default=None, help="place or room")
    p.add_argument("--date", required=creating, default=None, help="YYYY-MM-DD")
    p.add_argument("--start", required=creating, default=None, help="HH:MM in the session's zone")
    p.add_argument("--end", required=creating, default=None, help="HH:MM in the session's zone")
    p.add_argument(
        "--time-zone",
        default=None,
        help="Asia/Jakarta (WIB), Asia/Makassar (WITA), Asia/Jayapura (WIT); default TKD_TIME_ZONE",
    )
    p.add_argument("--capacity", default=None, help="places; 'none' for no limit")
    p.add_argument(
        "--token",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="candidates need the session token to log in",
    )
    p.add_argument("--token-minutes", default=None, help="the token changes every N minutes (15)")


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    sessions = sub.add_parser("sessions", help="exam sessions: schedule, seats, token, cards")
    cmds = sessions.add_subparsers(dest="sessions_command", required=True)

    p = cmds.add_parser("list", help="sessions, with their seats taken")
    p.add_argument("--exam", default=None, help="only this exam (id or code)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_sessions_list)

    p = cmds.add_parser("create", help="a session of an exam")
    p.add_argument("--exam", required=True, help="exam id or code")
    _session_arguments(p, creating=True)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_sessions_create)

    p = cmds.add_parser("update", help="change a session (only the options given)")
    p.add_argument("session", help="session id")
    _session_arguments(p, creating=False)
    p.set_defaults(func=cmd_sessions_update)

    p = cmds.add_parser("add", help="seat candidates by participant number or NIK, or a unit")
    p.add_argument("session", help="session id")
    p.add_argument("numbers", nargs="*", help="participant numbers or NIKs")
    p.add_argument("--file", default=None, help="a text file of numbers or NIKs, one per line")
    p.add_argument("--unit", default=None, help="every unscheduled candidate of this unit")
    p.set_defaults(func=cmd_sessions_add)

    p = cmds.add_parser("remove", help="take a candidate off a session, with a reason")
    p.add_argument("session", help="session id")
    p.add_argument("participant_no")
    p.add_argument("--reason", required=True)
    p.set_defaults(func=cmd_sessions_remove)

    p = cmds.add_parser("move", help="move a candidate to another session, with a reason")
    p.add_argument("participant_no")
    p.add_argument("--from", dest="source", required=True, help="session id")
    p.add_argument("--to", dest="target", required=True, help="session id")
    p.add_argument("--reason", required=True)
    p.set_defaults(func=cmd_sessions_move)

    p = cmds.add_parser("spread", help="spread unscheduled candidates over an exam's sessions")
    p.add_argument("--exam", required=True, help="exam id or code")
    p.add_argument("--unit", default=None, help="only this unit")
    p.set_defaults(func=cmd_sessions_spread)

    p = cmds.add_parser("delete", help="delete a session nobody has started, with a reason")
    p.add_argument("session", help="session id")
    p.add_argument("--reason", required=True)
    p.set_defaults(func=cmd_sessions_delete)

    p = cmds.add_parser("proctor", help="give a session to a proctor (or take it back)")
    p.add_argument("session", help="session id")
    p.add_argument("username")
    p.add_argument("--remove", action="store_true")
    p.set_defaults(func=cmd_sessions_proctor)

    p = cmds.add_parser("token", help="print the session token now")
    p.add_argument("session", help="session id")
    p.set_defaults(func=cmd_sessions_token)

    p = cmds.add_parser("prepare", help="put papers and login data in Redis ahead of the start")
    p.add_argument("session", help="session id")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_sessions_prepare)

    p = cmds.add_parser("cards", help="participant cards as a PDF (issues passwords)")
    p.add_argument("session", help="session id")
    p.add_argument("--out", required=True, help="the PDF file to write")
    p.add_argument("--per-page", type=int, choices=[1, 8], default=8)
    p.add_argument(
        "--all",
        action="store_true",
        help="everybody, replacing their passwords (default: those without one)",
    )
    p.add_argument(
        "--yes",
        action="store_true",
        help="confirm --all: the old passwords stop working (started candidates are skipped)",
    )
    p.add_argument(
        "--login-url",
        default="",
        help="the candidates' login address, printed as text and QR on each card",
    )
    p.add_argument("--lang", choices=["id", "en"], default=None)
    p.set_defaults(func=cmd_sessions_cards)
