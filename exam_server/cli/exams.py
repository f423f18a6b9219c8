"""``tkd exams`` and ``tkd dashboard``: what the exam and dashboard pages do, from a terminal.

The options fill the same forms the pages read (``exam_forms``), so a value the page
refuses is refused here with the same words; ``update`` starts from the current values
and changes only the options given.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from exam_server.cli.runner import run_work, writable
from exam_server.db.audit import Actor, record, snapshot
from exam_server.delivery.papers import section_pools
from exam_server.settings import Settings
from exam_server.staff.dashboard import counts, rows_for, to_csv
from exam_server.staff.exam_forms import (
    DRAWS,
    RELEASES,
    SCORING_MODELS,
    FormError,
    exam_form,
    exam_values,
    section_form,
)
from exam_server.staff.exams_store import (
    EXAM_FIELDS,
    SECTION_FIELDS,
    create_exam,
    delete_section,
    draw_problems,
    exam_sections,
    exams_by_code,
    fill_section,
    find_exam,
    find_section,
    save_section,
    update_exam,
)
from exam_server.staff.sessions_store import find_session, sessions_by_start


def _exam_options(args: argparse.Namespace) -> dict[str, str]:
    """The exam form fields that the command line gave (None: not given)."""
    form: dict[str, str] = {}
    for option, field in (
        ("code", "code"),
        ("title", "title"),
        ("results", "results_release"),
        ("rules_id", "rules_id"),
        ("rules_en", "rules_en"),
    ):
        if getattr(args, option) is not None:
            form[field] = getattr(args, option)
    for option, field in (("shared_minutes", "shared_minutes"), ("pass_mark", "total_pass_mark")):
        value = getattr(args, option)
        if value is not None:
            form[field] = "" if value.lower() == "none" else value
    if args.release_at is not None:
        date, _, time = args.release_at.strip().partition(" ")
        form.update(release_date=date, release_time=time)
    for flag in ("shuffle_questions", "shuffle_options", "show_answer_sheet"):
        if getattr(args, flag) is not None:
            form[flag] = "1" if getattr(args, flag) else ""
    return form


def _exam_json(exam: Any) -> dict[str, Any]:

    return {"id": exam.id, **snapshot(exam, EXAM_FIELDS)}


def cmd_exams_list(args: argparse.Namespace, settings: Settings) -> int:

    async def work(db: Any, actor: Actor, s: Settings) -> list[dict[str, Any]]:
        return [_exam_json(e) for e in await exams_by_code(db)]

    exams = run_work(settings, work)
    if args.json:
        print(json.dumps(exams, ensure_ascii=False))
        return 0
    for e in exams:
        clock = f"{e['shared_minutes']} min shared" if e["shared_minutes"] else "per-section clock"
        print(
            f"{e['id']:>5}  {e['code']:<16} {e['title']}  ({clock}, results {e['results_release']})"
        )
    if not exams:
        print("no exams yet; create one with: tkd exams create --code CODE --title TITLE")
    return 0


def cmd_exams_create(args: argparse.Namespace, settings: Settings) -> int:

    async def work(db: Any, actor: Actor, s: Settings) -> dict[str, Any]:
        return _exam_json(await create_exam(db, actor, exam_values(_exam_options(args))))

    exam = run_work(settings, work)
    print(
        json.dumps(exam, ensure_ascii=False)
        if args.json
        else f"exam {exam['code']} created (id {exam['id']}); add sections with: "
        f"tkd exams section {exam['code']} --code TWK --name ... --questions N"
    )
    return 0


def cmd_exams_update(args: argparse.Namespace, settings: Settings) -> int:

    async def work(db: Any, actor: Actor, s: Settings) -> tuple[str, bool]:
        exam = await find_exam(db, args.exam)
        await db.refresh(exam, with_for_update=True)
        form = {**exam_form(exam), **_exam_options(args)}
        return exam.code, await update_exam(db, actor, exam, exam_values(form))

    code, changed = run_work(settings, work)
    print(f"exam {code} saved" if changed else f"exam {code}: nothing changed")
    return 0


def _section_options(args: argparse.Namespace) -> dict[str, str]:
    form = {"code": args.code}
    for option, field in (
        ("name", "name"),
        ("questions", "question_count"),
        ("minutes", "minutes"),
        ("model", "model"),
        ("pass_mark", "pass_mark"),
        ("points_correct", "points_correct"),
        ("points_wrong", "points_wrong"),
        ("points_blank", "points_blank"),
        ("draw", "draw"),
        ("category_quota", "category_quota"),
    ):
        value = getattr(args, option)
        if value is not None:
            form[field] = "" if field in ("minutes", "pass_mark") and value == "none" else value
    if args.balance_difficulty is not None:
        form["balance_difficulty"] = "1" if args.balance_difficulty else ""
    return form


def cmd_exams_section(args: argparse.Namespace, settings: Settings) -> int:
    """Add a section, or change the section with this code (only the options given)."""

    async def work(db: Any, actor: Actor, s: Settings) -> tuple[str, str, bool]:
        exam = await find_exam(db, args.exam)
        await db.refresh(exam, with_for_update=True)
        try:
            section = await find_section(db, exam, args.code)
        except FormError:
            section = None
        form = {**(section_form(section) if section else {}), **_section_options(args)}
        saved = await save_section(db, actor, exam, form, section)
        return exam.code, saved.code, section is None

    exam_code, code, created = run_work(settings, work)
    print(f"section {code} of {exam_code} {'added' if created else 'saved'}")
    return 0


def cmd_exams_fill(args: argparse.Namespace, settings: Settings) -> int:

    async def work(db: Any, actor: Actor, s: Settings) -> tuple[str, int]:
        exam = await find_exam(db, args.exam)
        section = await find_section(db, exam, args.section)
        await db.refresh(section, with_for_update=True)
        chosen = await fill_section(
            db,
            actor,
            section,
            args.bank_section,
            args.category or "",
            args.count,
            "random" if args.random else "first",
        )
        return section.code, len(chosen)

    code, count = run_work(settings, work)
    print(f"{count} questions set for section {code}")
    return 0


def cmd_exams_remove_section(args: argparse.Namespace, settings: Settings) -> int:

    async def work(db: Any, actor: Actor, s: Settings) -> str:
        exam = await find_exam(db, args.exam)
        await db.refresh(exam, with_for_update=True)
        section = await find_section(db, exam, args.section)
        await delete_section(db, actor, section)
        return f"section {section.code} removed from {exam.code}"

    print(run_work(settings, work))
    return 0


def cmd_exams_show(args: argparse.Namespace, settings: Settings) -> int:

    async def work(db: Any, actor: Actor, s: Settings) -> dict[str, Any]:
        exam = await find_exam(db, args.exam)
        sections = await exam_sections(db, exam.id)
        pools = await section_pools(db, exam.id)
        problems = draw_problems(sections, pools, s.default_lang)
        sessions = await sessions_by_start(db, exam_id=exam.id)
        return {
            **_exam_json(exam),
            "sections": [
                {
                    "id": x.id,
                    **snapshot(x, SECTION_FIELDS),
                    "pool": len(pools.get(x.id, [])),
                    "problem": problems.get(x.id),
                }
                for x in sections
            ],
            "sessions": [
                {"id": x.id, "name": x.name, "starts_at": x.starts_at.isoformat()} for x in sessions
            ],
        }

    exam = run_work(settings, work)
    if args.json:
        print(json.dumps(exam, ensure_ascii=False))
        return 0
    print(f"{exam['code']} · {exam['title']} (id {exam['id']})")
    for x in exam["sections"]:
        clock = f", {x['minutes']} min" if x["minutes"] else ""
        print(
            f"  section {x['code']} {x['name']}: {x['question_count']} questions from a pool of "
            f"{x['pool']}{clock}, {x['scoring']['model']}, draw {x['draw']}"
        )
        if x["problem"]:
            print(f"    ! {x['problem']}")
    for x in exam["sessions"]:
        print(f"  session {x['id']}: {x['name']} ({x['starts_at']})")
    return 0


def cmd_dashboard(args: argparse.Namespace, settings: Settings) -> int:
    """Counts per session (and the candidate rows to CSV) for an exam or one session."""

    csv_path = writable(args.csv) if args.csv else None

    async def work(db: Any, actor: Actor, s: Settings) -> tuple[list[Any], list[Any]]:
        if args.session is not None:
            sessions = [await find_session(db, args.session)]
            entity, entity_id = "session", sessions[0].id
        else:
            exam = await find_exam(db, args.exam)
            sessions = await sessions_by_start(db, exam_id=exam.id)
            entity, entity_id = "exam", exam.id
        rows = await rows_for(db, [x.id for x in sessions])
        if csv_path:
            # The same log line as the page's export: the list carries NIKs.
            record(
                db,
                actor,
                "export.attendance",
                entity,
                entity_id,
                new={"rows": len(rows), "file": csv_path.name},
            )
        return sessions, rows

    sessions, rows = run_work(settings, work)
    per_session = {x.id: counts([r for r in rows if r.session_id == x.id]) for x in sessions}
    if csv_path:
        csv_path.write_bytes(to_csv(rows, settings.default_lang))
    if args.json:
        print(
            json.dumps(
                {
                    "total": counts(rows),
                    "sessions": [
                        {"id": x.id, "name": x.name, **per_session[x.id]} for x in sessions
                    ],
                }
            )
        )
        return 0
    header = ("scheduled", "logged_in", "in_progress", "submitted", "absent")
    print(f"{'session':<30} " + " ".join(f"{h:>11}" for h in header))
    for x in sessions:
        print(f"{x.name[:30]:<30} " + " ".join(f"{per_session[x.id][h]:>11}" for h in header))
    total = counts(rows)
    print(f"{'total':<30} " + " ".join(f"{total[h]:>11}" for h in header))
    if args.csv:
        print(f"{len(rows)} rows written to {args.csv}")
    return 0


def _exam_arguments(p: argparse.ArgumentParser, creating: bool) -> None:
    p.add_argument("--code", required=creating, default=None)
    p.add_argument("--title", required=creating, default=None)
    p.add_argument(
        "--shared-minutes",
        default=None,
        help="one clock for all sections (minutes); 'none' for a clock per section",
    )
    p.add_argument(
        "--results",
        default=None,
        choices=RELEASES,
        help="when candidates see their results (default immediate)",
    )
    p.add_argument(
        "--release-at", default=None, help="'YYYY-MM-DD HH:MM' (WIB), with --results after"
    )
    p.add_argument("--pass-mark", default=None, help="total pass mark; 'none' for none")
    p.add_argument("--shuffle-questions", action=argparse.BooleanOptionalAction, default=None)
    p.add_argument("--shuffle-options", action=argparse.BooleanOptionalAction, default=None)
    p.add_argument(
        "--show-answer-sheet",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="candidates see their own answer sheet once results are released",
    )
    p.add_argument("--rules-id", default=None, help="rules shown before the exam (Indonesian)")
    p.add_argument("--rules-en", default=None, help="rules shown before the exam (English)")
    p.add_argument("--json", action="store_true")


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    exams = sub.add_parser("exams", help="exams and their sections").add_subparsers(
        dest="exams_command", required=True
    )
    p = exams.add_parser("list", help="every exam")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_exams_list)

    p = exams.add_parser("create", help="create an exam")
    _exam_arguments(p, creating=True)
    p.set_defaults(func=cmd_exams_create)

    p = exams.add_parser("update", help="change an exam (only the options given)")
    p.add_argument("exam", help="exam id or code")
    _exam_arguments(p, creating=False)
    p.set_defaults(func=cmd_exams_update)

    p = exams.add_parser("show", help="an exam's sections, pools and sessions")
    p.add_argument("exam", help="exam id or code")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_exams_show)

    p = exams.add_parser("section", help="add a section, or change the section with this code")
    p.add_argument("exam", help="exam id or code")
    p.add_argument("--code", required=True, help="section code, e.g. TWK")
    p.add_argument("--name", default=None)
    p.add_argument("--questions", default=None, help="questions per candidate")
    p.add_argument("--minutes", default=None, help="the section's own clock; 'none' for none")
    p.add_argument("--model", default=None, choices=SCORING_MODELS)
    p.add_argument("--points-correct", default=None)
    p.add_argument("--points-wrong", default=None)
    p.add_argument("--points-blank", default=None)
    p.add_argument("--pass-mark", default=None, help="the section's pass mark; 'none' for none")
    p.add_argument("--draw", default=None, choices=list(DRAWS))
    p.add_argument("--balance-difficulty", action=argparse.BooleanOptionalAction, default=None)
    p.add_argument("--category-quota", default=None, help="e.g. 'Pancasila=10; UUD 1945=5'")
    p.set_defaults(func=cmd_exams_section)

    p = exams.add_parser("fill", help="set a section's questions from the bank")
    p.add_argument("exam", help="exam id or code")
    p.add_argument("section", help="section code or id")
    p.add_argument("--from", dest="bank_section", required=True, help="bank section, e.g. TWK")
    p.add_argument("--category", default=None, help="only this bank category")
    p.add_argument("--count", type=int, default=None, help="how many (default: all)")
    p.add_argument("--random", action="store_true", help="a random sample, not the first ones")
    p.set_defaults(func=cmd_exams_fill)

    p = exams.add_parser("remove-section", help="remove a section before anybody has started")
    p.add_argument("exam", help="exam id or code")
    p.add_argument("section", help="section code or id")
    p.set_defaults(func=cmd_exams_remove_section)

    p = sub.add_parser("dashboard", help="who is scheduled, in progress, submitted, absent")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--exam", help="exam id or code: every session of it")
    which.add_argument("--session", help="one session id")
    p.add_argument("--csv", default=None, help="also write one row per candidate to this file")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_dashboard)
