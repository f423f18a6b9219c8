"""Question bank pages beyond import and key correction: the downloadable question
template, and editing a question's text (a typo in the stem or an option), audited.

A question used by an exam that somebody has started is part of that exam's fixed rules
(docs/scoring.md): only an admin may change its text then, always with a reason.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from exam_server.bank.store import KeyRefused, edit_text, get_question, started_exams_using
from exam_server.db.audit import record
from exam_server.db.models import Question
from exam_server.web.auth import page, services_of
from exam_server.web.identity import Staff
from exam_server.web.rendering import error_page, flash, redirect, render, request_lang
from question_bank.problems import ImportProblem
from question_bank.sanitize import html_to_cell
from question_bank.template import TEMPLATE_DIR

MEDIA = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@page("bank.edit")
async def question_template(request: Request, staff: Staff) -> Response:
    """The committee's question template, with one worked example per kind (TWK single
    answer, TKP weighted, TIU several answers), as ``question_bank.template`` ships it."""
    kind = request.path_params["kind"]
    if kind not in MEDIA:
        return error_page(request, staff, 404, "Tidak ada.", "Not found.")
    data = (TEMPLATE_DIR / f"template-soal.{kind}").read_bytes()
    return Response(
        data,
        media_type=MEDIA[kind],
        headers={"Content-Disposition": f'attachment; filename="templat-soal.{kind}"'},
    )


async def _edit_page(
    request: Request, staff: Staff, question: Question, errors: list[str], status: int = 200
) -> Response:
    async with services_of(request).sessions() as db:
        started = await started_exams_using(db, question.id)
    typed = request.state.form if errors and request.method == "POST" else None
    return await render(
        request,
        staff,
        "bank_question_text.html",
        status_code=status,
        question=question,
        errors=errors,
        started=started,
        cell=html_to_cell,
        typed_form=typed,
    )


@page("bank.edit")
async def text_form(request: Request, staff: Staff) -> Response:
    async with services_of(request).sessions() as db:
        question = await get_question(db, request.path_params["question_id"])
    if question is None:
        return error_page(request, staff, 404, "Soal tidak ditemukan.", "No such question.")
    return await _edit_page(request, staff, question, [])


@page("bank.edit")
async def text_save(request: Request, staff: Staff) -> Response:
    question_id = request.path_params["question_id"]
    form, en = request.state.form, request_lang(request) == "en"
    async with services_of(request).sessions() as db:
        question = await get_question(db, question_id)
        if question is None:
            return error_page(request, staff, 404, "Soal tidak ditemukan.", "No such question.")
        started = await started_exams_using(db, question_id)
    errors: list[str] = []
    reason = str(form.get("reason", "")).strip()
    if not reason:
        errors.append("Give the reason for the change." if en else "Tuliskan alasan perubahan.")
    if started and staff.role != "admin":
        errors.append(
            "Candidates have started an exam that uses this question: only an admin may change it."
            if en
            else "Peserta sudah mulai ujian yang memakai soal ini: hanya admin yang dapat mengubahnya."
        )
    stem = str(form.get("stem", ""))
    options = {str(o["id"]): str(form.get(f"option_{o['id']}", "")) for o in question.options}
    if not stem.strip():
        errors.append("The question text is empty." if en else "Teks soal kosong.")
    if errors:
        return await _edit_page(request, staff, question, errors, 400)
    async with services_of(request).sessions() as db:
        try:
            async with db.begin():
                change = await edit_text(db, question_id, stem, options)
                if change.new:
                    record(
                        db,
                        staff.actor,
                        "question.text",
                        "question",
                        question_id,
                        old=change.old,
                        new=change.new,
                        reason=reason,
                    )
        except KeyRefused as refused:
            problems = [ImportProblem.found(finding) for finding in refused.findings]
            texts = [p.message_en if en else p.message_id for p in problems]
            return await _edit_page(request, staff, question, texts, 400)
    if change.new:
        await flash(
            request,
            staff,
            f"Teks soal #{question_id} diperbaiki.",
            f"The text of question #{question_id} was corrected.",
        )
    else:
        await flash(request, staff, "Teks tidak berubah.", "The text did not change.")
    return redirect(f"/bank/soal/{question_id}")


routes = [
    Route("/bank/templat.{kind:str}", question_template, methods=["GET"]),
    Route("/bank/soal/{question_id:int}/teks", text_form, methods=["GET"]),
    Route("/bank/soal/{question_id:int}/teks", text_save, methods=["POST"]),
]
