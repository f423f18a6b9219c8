"""``tkd questions key``: a key correction from the terminal, as the bank page makes it.

The question keeps its id, so answers already given stay attached; the change is audited
(``question.key``, actor ``cli:<login>``, with the reason) and the command names the exams
to re-grade (``tkd results regrade --exam CODE``).
"""

from __future__ import annotations

import argparse
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from exam_server.bank.store import KeyRefused, correct_key, exam_codes_using, get_question
from exam_server.cli.runner import CommandError, run_work
from exam_server.db.audit import Actor, record
from exam_server.settings import Settings
from exam_server.staff.exams_store import mark_question_results_stale
from question_bank.problems import ImportProblem


def parse_scores(text: str) -> dict[str, float]:
    """``A=5,B=4,C=3`` as option scores; ValueError names the part that is wrong."""
    scores: dict[str, float] = {}
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        option, _, value = part.partition("=")
        try:
            scores[option.strip()] = float(value.replace(",", ".").strip())
        except ValueError:
            raise ValueError(f"'{part}' is not OPTION=NUMBER") from None
    return scores


def cmd_key(args: argparse.Namespace, settings: Settings) -> int:

    reason = (args.reason or "").strip()
    if not reason:
        raise CommandError("alasan wajib: --reason TEXT / a reason is required: --reason TEXT")
    try:
        scores = parse_scores(args.scores) if args.scores else None
    except ValueError as exc:
        raise CommandError(str(exc)) from None

    async def work(
        db: AsyncSession, actor: Actor, s: Settings
    ) -> tuple[dict[str, float], dict[str, float], list[str]]:

        question = await get_question(db, args.question)
        if question is None:
            raise CommandError(f"soal {args.question} tidak ada / no question {args.question}")
        ids = [o["id"] for o in question.options]
        wanted = scores
        if wanted is None:
            if args.key not in ids:
                raise CommandError(f"--key must be one of {', '.join(ids)}")
            wanted = {i: 1.0 if i == args.key else 0.0 for i in ids}
        unknown = sorted(set(wanted) - set(ids))
        if unknown:
            raise CommandError(
                f"option {unknown[0]} is not in question {args.question} ({', '.join(ids)})"
            )
        wanted = {i: wanted.get(i, 0.0) for i in ids}
        try:
            change = await correct_key(db, args.question, wanted)
        except KeyRefused as refused:
            first = ImportProblem.found(refused.findings[0])
            raise CommandError(f"{first.message_id} / {first.message_en}") from None
        if change.old != change.new:
            record(
                db,
                actor,
                "question.key",
                "question",
                args.question,
                old=change.old,
                new=change.new,
                reason=reason,
            )
            await mark_question_results_stale(
                db, args.question, f"kunci soal #{args.question} ({actor.username}: {reason})"
            )
        codes = await exam_codes_using(db, args.question)
        return change.old, change.new, codes

    old, new, codes = run_work(settings, work)
    if old == new:
        print("kunci tidak berubah / the key did not change")
        return 0
    print(
        f"soal {args.question}: "
        + ", ".join(f"{o} {old[o]:g}→{new[o]:g}" for o in new if old[o] != new[o])
    )
    for code in codes:
        print(f"nilai ulang / re-grade: tkd results regrade --exam {code}")
    return 0


def register(questions: Any) -> None:
    p = questions.add_parser("key", help="correct a question's key (audited, with a reason)")
    p.add_argument("question", type=int, help="question id")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--key", help="the one right option, e.g. B")
    which.add_argument("--scores", help="a score per option, e.g. A=5,B=4,C=3,D=2,E=1 (TKP)")
    p.add_argument("--reason", required=True, help="why (goes to the audit log)")
    p.set_defaults(func=cmd_key)
