"""The exam as a candidate would see it: ``/panitia/ujian/{id}/pratinjau``.

One paper is drawn exactly as a first login draws it (``exam_server.delivery.papers``: the
same section draws, question shuffle and option shuffle from a seed), so the committee
checks order, lettering, timing and rules before anybody sits the exam. ``?seed=`` shows
another candidate's paper; the page names the seed so a paper can be shown again.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from exam_server.db.models import Exam, ExamSection, Question
from exam_server.delivery.papers import paper_ids, section_pools
from exam_server.web.auth import page, services_of
from exam_server.web.identity import Staff
from exam_server.web.rendering import error_page, render
from question_bank.assembly import option_order, question_order

LETTERS = "ABCDEFGHIJ"


@dataclass(frozen=True)
class PreviewQuestion:
    number: int
    section: str
    question_id: int
    stem_html: str
    options: list[tuple[str, str]]  # (letter on screen, html)


@page("exams.edit")
async def exam_preview(request: Request, staff: Staff) -> Response:
    exam_id = request.path_params["exam_id"]
    raw_seed = request.query_params.get("seed", "").strip()
    seed = raw_seed if raw_seed.isalnum() and len(raw_seed) <= 64 else secrets.token_hex(16)
    async with services_of(request).sessions() as db:
        exam = await db.get(Exam, exam_id)
        if exam is None:
            return error_page(request, staff, 404, "Ujian tidak ada.", "No such exam.")
        sections = list(
            await db.scalars(
                select(ExamSection)
                .where(ExamSection.exam_id == exam.id)
                .order_by(ExamSection.position)
            )
        )
        pools = await section_pools(db, exam.id)
        problem = ""
        try:
            ids_by_section = paper_ids(sections, pools, seed, exam_seed=f"exam:{exam.id}")
        except ValueError as exc:
            ids_by_section, problem = [[] for _ in sections], str(exc)
        order = question_order(ids_by_section, seed, shuffle=exam.shuffle_questions)
        questions = {
            q.id: q for q in await db.scalars(select(Question).where(Question.id.in_(order)))
        }
    section_of = {
        qid: sec.code for sec, ids in zip(sections, ids_by_section, strict=True) for qid in ids
    }
    shown: list[PreviewQuestion] = []
    for number, qid in enumerate(order, start=1):
        q = questions[qid]
        ids = [o["id"] for o in q.options]
        if exam.shuffle_options and q.kind != "true_false":
            ids = option_order(ids, [bool(o.get("fixed")) for o in q.options], seed, qid)
        html = {o["id"]: o["html"] for o in q.options}
        shown.append(
            PreviewQuestion(
                number,
                section_of.get(qid, ""),
                qid,
                q.stem_html,
                [(LETTERS[i], html[oid]) for i, oid in enumerate(ids)],
            )
        )
    minutes = exam.shared_minutes or sum(s.minutes or 0 for s in sections)
    return await render(
        request,
        staff,
        "exam_preview.html",
        exam=exam,
        sections=sections,
        questions=shown,
        seed=seed,
        minutes=minutes,
        problem=problem,
    )


routes = [Route("/ujian/{exam_id:int}/pratinjau", exam_preview, methods=["GET"])]
