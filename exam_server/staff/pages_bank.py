"""The question bank pages: counts, import, export, the question list and key corrections.

A key correction is how the committee acts on a flagged item (issue 6): the question keeps
its id, so the exams that use it and the answers already given stay attached, the change
and its reason go to the audit log, and a re-grade of the exam applies the new key.
"""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from exam_server.bank.store import (
    KeyRefused,
    bank_counts,
    bank_items,
    bank_sections,
    correct_key,
    exam_sections_using,
    get_question,
    save_items,
    search_questions,
)
from exam_server.db.audit import record
from exam_server.db.models import Question
from exam_server.refusal import Refusal
from exam_server.staff.exams_store import mark_question_results_stale
from exam_server.web.auth import page, services_of
from exam_server.web.identity import Staff
from exam_server.web.media import staff_routes as media_routes
from exam_server.web.rendering import error_page, flash, redirect, render, request_lang
from question_bank.exporting import export_bank
from question_bank.importing import parse_bank
from question_bank.items import ItemKind
from question_bank.problems import ImportProblem
from question_bank.sanitize import html_to_text

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
EXPORT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": XLSX,
    "qti": "application/zip",
    "gift": "text/plain; charset=utf-8",
}
PAGE_SIZE = 50


def _problem(p: Any, lang: str) -> dict[str, Any]:
    return {
        "line": p.line,
        "item": p.item,
        "message": p.message_en if lang == "en" else p.message_id,
    }


@page("bank.edit")
async def bank_page(request: Request, staff: Staff) -> Response:
    async with services_of(request).sessions() as db:
        bank = await bank_counts(db)
    return await render(request, staff, "bank.html", bank=bank, report=None, saved=None, notes=[])


@page("bank.edit")
async def bank_import(request: Request, staff: Staff) -> Response:
    upload = request.state.form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return error_page(request, staff, 400, "Pilih berkas soal.", "Choose a question file.")
    data = await upload.read()
    form = request.state.form
    fmt = str(form.get("format", "")) or None
    skip = form.get("skip_unsupported") == "1"
    report = await run_in_threadpool(
        lambda: parse_bank(data, upload.filename or "", fmt, skip_unsupported=skip)
    )
    saved = None
    if report.ok and request.state.form.get("dry_run") != "1":
        async with services_of(request).sessions() as db, db.begin():
            saved = await save_items(db, report.items)
            record(
                db,
                staff.actor,
                "bank.import",
                "question",
                "",
                new={
                    "file": upload.filename,
                    "imported": saved.imported,
                    "duplicates": saved.duplicates,
                    "question_ids": saved.ids,
                },
            )
    async with services_of(request).sessions() as db:
        bank = await bank_counts(db)
    return await render(
        request,
        staff,
        "bank.html",
        status_code=200 if report.ok else 400,
        bank=bank,
        report=report,
        errors=[_problem(p, request_lang(request)) for p in report.errors],
        notes=[_problem(p, request_lang(request)) for p in [*report.warnings, *report.skipped]],
        saved=saved,
        filename=upload.filename,
    )


@page("bank.edit")
async def bank_export(request: Request, staff: Staff) -> Response:
    """The whole bank as CSV, XLSX or a QTI 2.1 package (images only in QTI)."""
    fmt = request.path_params["fmt"]
    if fmt not in EXPORT_TYPES:
        return error_page(request, staff, 404, "Format tidak dikenal.", "Unknown format.")
    async with services_of(request).sessions() as db:
        items = await bank_items(db)
        record(
            db,
            staff.actor,
            "bank.export",
            "question",
            "",
            new={"format": fmt, "count": len(items)},
        )
        await db.commit()
    data = await run_in_threadpool(export_bank, items, fmt)
    name = "bank-soal.zip" if fmt == "qti" else f"bank-soal.{fmt}"
    return Response(
        data,
        media_type=EXPORT_TYPES[fmt],
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def _key_text(options: list[dict[str, Any]], weighted: bool) -> str:
    if weighted:
        return " ".join(f"{o['id']}={float(o.get('score', 0)):g}" for o in options)
    return ", ".join(o["id"] for o in options if float(o.get("score", 0)) > 0)


@page("bank.edit")
async def question_list(request: Request, staff: Staff) -> Response:
    """The bank's questions, searchable by text, section and category, 50 to a page."""
    params = request.query_params
    text, section = params.get("q", "").strip(), params.get("seksi", "").strip()
    page_no = max(1, int(params["hal"])) if params.get("hal", "").isdigit() else 1
    async with services_of(request).sessions() as db:
        found = await search_questions(db, text, section, page_no, PAGE_SIZE)
        sections = await bank_sections(db)
    total = found.total
    questions = [
        {
            "id": q.id,
            "section": q.section,
            "category": q.category,
            "excerpt": html_to_text(q.stem_html)[:120],
            "key": _key_text(q.options, q.weighted),
            "external_id": q.external_id or "",
        }
        for q in found.questions
    ]
    return await render(
        request,
        staff,
        "bank_questions.html",
        questions=questions,
        total=total,
        q=text,
        section=section,
        sections=sections,
        page_no=page_no,
        pages=max(1, -(-total // PAGE_SIZE)),
    )


async def _question_page(
    request: Request, staff: Staff, question_id: int, errors: list[str] | None = None
) -> Response:
    async with services_of(request).sessions() as db:
        question = await get_question(db, question_id)
        if question is None:
            return error_page(request, staff, 404, "Soal tidak ditemukan.", "No such question.")
        used_in = await exam_sections_using(db, question_id)
    return await render(
        request,
        staff,
        "bank_question.html",
        status_code=400 if errors else 200,
        question=question,
        used_in=used_in,
        errors=errors or [],
        choose_one=not question.weighted and question.kind != ItemKind.MULTIPLE.value,
    )


@page("bank.edit")
async def question_view(request: Request, staff: Staff) -> Response:
    return await _question_page(request, staff, request.path_params["question_id"])


def _scores_from_form(form: Any, question: Question) -> dict[str, float]:
    """The corrected scores: a chosen key (one right option) or a number per option."""
    ids = [o["id"] for o in question.options]
    if not question.weighted and question.kind != ItemKind.MULTIPLE.value:
        key = str(form.get("key", ""))
        if key not in ids:
            raise Refusal("Pilih kunci jawaban.", "Choose the key.")
        return {i: 1.0 if i == key else 0.0 for i in ids}
    scores = {}
    for option_id in ids:
        raw = str(form.get(f"score_{option_id}", "")).replace(",", ".").strip()
        try:
            value = float(raw)
        except ValueError:
            raise Refusal(
                f"Nilai opsi {option_id} bukan angka.",
                f"The score of option {option_id} is not a number.",
            ) from None
        # Multiple-answer items are edited as percentages, as in the spreadsheet template.
        scores[option_id] = value if question.weighted else value / 100.0
    return scores


@page("bank.edit")
async def question_correct_key(request: Request, staff: Staff) -> Response:
    question_id = request.path_params["question_id"]
    form, lang = request.state.form, request_lang(request)
    reason = str(form.get("reason", "")).strip()
    async with services_of(request).sessions() as db:
        question = await get_question(db, question_id)
        if question is None:
            return error_page(request, staff, 404, "Soal tidak ditemukan.", "No such question.")
        try:
            scores = _scores_from_form(form, question)
        except Refusal as exc:
            return await _question_page(request, staff, question_id, [exc.text(lang)])
    if not reason:
        needed = Refusal(
            "Tuliskan alasan koreksi kunci.", "Give the reason for the key correction."
        )
        return await _question_page(request, staff, question_id, [needed.text(lang)])
    async with services_of(request).sessions() as db:
        try:
            async with db.begin():
                change = await correct_key(db, question_id, scores)
                if change.old != change.new:
                    record(
                        db,
                        staff.actor,
                        "question.key",
                        "question",
                        question_id,
                        old=change.old,
                        new=change.new,
                        reason=reason,
                    )
                    # Shown on every affected result until the explicit re-grade.
                    await mark_question_results_stale(
                        db, question_id, f"kunci soal #{question_id} ({staff.username}: {reason})"
                    )
        except KeyRefused as refused:
            problems = [ImportProblem.found(finding) for finding in refused.findings]
            texts = [p.message_en if lang == "en" else p.message_id for p in problems]
            return await _question_page(request, staff, question_id, texts)
    if change.old == change.new:
        await flash(request, staff, "Kunci tidak berubah.", "The key did not change.")
    else:
        await flash(
            request,
            staff,
            f"Kunci soal #{question_id} dikoreksi. Nilai ulang ujian yang memakainya agar hasil ikut berubah.",
            f"The key of question #{question_id} was corrected. Re-grade the exams that use it to update results.",
        )
    return redirect(f"/bank/soal/{question_id}")


routes = [
    *media_routes,
    Route("/bank", bank_page, methods=["GET"]),
    Route("/bank/impor", bank_import, methods=["POST"]),
    Route("/bank/ekspor.{fmt:str}", bank_export, methods=["GET"]),
    Route("/bank/soal", question_list, methods=["GET"]),
    Route("/bank/soal/{question_id:int}", question_view, methods=["GET"]),
    Route("/bank/soal/{question_id:int}/kunci", question_correct_key, methods=["POST"]),
]
