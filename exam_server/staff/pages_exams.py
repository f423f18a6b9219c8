"""Exam pages: the exam's settings, its sections, and each section's questions from the bank."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from exam_server.bank.store import bank_counts
from exam_server.delivery.papers import section_pools
from exam_server.staff.exam_forms import DRAWS, RELEASES, SCORING_MODELS, FormError, exam_values
from exam_server.staff.exams_store import (
    RuleOverride,
    create_exam,
    delete_section,
    draw_problems,
    exam_sections,
    exams_newest_first,
    fill_section,
    get_exam,
    get_section,
    rules_locked,
    save_section,
    update_exam,
)
from exam_server.staff.sessions_store import sessions_by_start
from exam_server.web.auth import page, services_of
from exam_server.web.identity import Staff
from exam_server.web.rendering import error_page, flash, redirect, render, request_lang


def _override(request: Request, staff: Staff) -> RuleOverride:
    # A started exam's rules change only by an admin with a reason (docs/scoring.md).
    return RuleOverride(staff.role == "admin", str(request.state.form.get("rule_reason", "")))


@page("exams.edit")
async def exam_list(request: Request, staff: Staff) -> Response:
    return await _exams_page(request, staff)


async def _exams_page(request: Request, staff: Staff, error: str = "") -> Response:
    async with services_of(request).sessions() as db:
        exams = await exams_newest_first(db)
    return await render(
        request,
        staff,
        "exams.html",
        status_code=400 if error else 200,
        exams=exams,
        error=error,
        releases=RELEASES,
    )


@page("exams.edit")
async def exam_create(request: Request, staff: Staff) -> Response:
    try:
        values = exam_values(request.state.form)
        async with services_of(request).sessions() as db, db.begin():
            exam = await create_exam(db, staff.actor, values)
    except FormError as exc:
        return await _exams_page(request, staff, exc.text(request_lang(request)))
    return redirect(f"/ujian/{exam.id}")


async def _exam_page(request: Request, staff: Staff, exam_id: int, error: str = "") -> Response:
    async with services_of(request).sessions() as db:
        exam = await get_exam(db, exam_id)
        if exam is None:
            return error_page(request, staff, 404, "Ujian tidak ada.", "No such exam.")
        sections = await exam_sections(db, exam_id)
        pool_refs = await section_pools(db, exam_id)
        bank = await bank_counts(db)
        locked = await rules_locked(db, exam_id)
        sessions = await sessions_by_start(db, exam_id=exam_id)
    pools = {section_id: len(refs) for section_id, refs in pool_refs.items()}
    return await render(
        request,
        staff,
        "exam_edit.html",
        status_code=400 if error else 200,
        exam=exam,
        sections=sections,
        pools=pools,
        draws=DRAWS,
        draw_problems=draw_problems(sections, pool_refs, request_lang(request)),
        bank=bank,
        sessions=sessions,
        error=error,
        releases=RELEASES,
        models=SCORING_MODELS,
        e_locked=locked,
    )


@page("exams.edit")
async def exam_view(request: Request, staff: Staff) -> Response:
    return await _exam_page(request, staff, request.path_params["exam_id"])


@page("exams.edit")
async def exam_update(request: Request, staff: Staff) -> Response:
    exam_id = request.path_params["exam_id"]
    try:
        values = exam_values(request.state.form)
        async with services_of(request).sessions() as db, db.begin():
            exam = await get_exam(db, exam_id, lock=True)
            if exam is None:
                return error_page(request, staff, 404, "Ujian tidak ada.", "No such exam.")
            await update_exam(db, staff.actor, exam, values, _override(request, staff))
    except FormError as exc:
        return await _exam_page(request, staff, exam_id, exc.text(request_lang(request)))
    await flash(request, staff, "Ujian disimpan.", "Exam saved.")
    return redirect(f"/ujian/{exam_id}")


@page("exams.edit")
async def section_save(request: Request, staff: Staff) -> Response:
    """Add a section (no id in the path) or change one."""
    exam_id = request.path_params["exam_id"]
    section_id = request.path_params.get("section_id")
    try:
        async with services_of(request).sessions() as db, db.begin():
            exam = await get_exam(db, exam_id, lock=True)
            if exam is None:
                return error_page(request, staff, 404, "Ujian tidak ada.", "No such exam.")
            section = None
            if section_id is not None:
                section = await get_section(db, section_id)
                if section is None or section.exam_id != exam_id:
                    return error_page(request, staff, 404, "Bagian tidak ada.", "No such section.")
            saved = await save_section(
                db, staff.actor, exam, request.state.form, section, _override(request, staff)
            )
    except FormError as exc:
        return await _exam_page(request, staff, exam_id, exc.text(request_lang(request)))
    await flash(request, staff, f"Bagian {saved.code} disimpan.", f"Section {saved.code} saved.")
    return redirect(f"/ujian/{exam_id}")


@page("exams.edit")
async def section_questions(request: Request, staff: Staff) -> Response:
    """Fill a section's pool from the bank: by bank section and category, first or random."""
    exam_id, section_id = request.path_params["exam_id"], request.path_params["section_id"]
    form = request.state.form
    count_raw = str(form.get("count", "")).strip()
    try:
        async with services_of(request).sessions() as db, db.begin():
            section = await get_section(db, section_id, lock=True)
            if section is None or section.exam_id != exam_id:
                return error_page(request, staff, 404, "Bagian tidak ada.", "No such section.")
            chosen = await fill_section(
                db,
                staff.actor,
                section,
                bank_section=str(form.get("bank_section", "")),
                category=str(form.get("category", "")),
                count=int(count_raw) if count_raw.isdigit() and int(count_raw) > 0 else None,
                order=str(form.get("order", "first")),
            )
            code = section.code
    except FormError as exc:
        return await _exam_page(request, staff, exam_id, exc.text(request_lang(request)))
    await flash(
        request,
        staff,
        f"{len(chosen)} soal dipasang pada bagian {code}.",
        f"{len(chosen)} questions set for section {code}.",
    )
    return redirect(f"/ujian/{exam_id}")


@page("exams.edit")
async def section_delete(request: Request, staff: Staff) -> Response:
    exam_id, section_id = request.path_params["exam_id"], request.path_params["section_id"]
    try:
        async with services_of(request).sessions() as db, db.begin():
            await get_exam(db, exam_id, lock=True)  # one change to the exam at a time
            section = await get_section(db, section_id)
            if section is None or section.exam_id != exam_id:
                return error_page(request, staff, 404, "Bagian tidak ada.", "No such section.")
            code = section.code
            await delete_section(db, staff.actor, section)
    except FormError as exc:
        return await _exam_page(request, staff, exam_id, exc.text(request_lang(request)))
    await flash(request, staff, f"Bagian {code} dihapus.", f"Section {code} removed.")
    return redirect(f"/ujian/{exam_id}")


routes = [
    Route("/ujian", exam_list, methods=["GET"]),
    Route("/ujian", exam_create, methods=["POST"]),
    Route("/ujian/{exam_id:int}", exam_view, methods=["GET"]),
    Route("/ujian/{exam_id:int}", exam_update, methods=["POST"]),
    Route("/ujian/{exam_id:int}/bagian", section_save, methods=["POST"]),
    Route("/ujian/{exam_id:int}/bagian/{section_id:int}", section_save, methods=["POST"]),
    Route("/ujian/{exam_id:int}/bagian/{section_id:int}/soal", section_questions, methods=["POST"]),
    Route("/ujian/{exam_id:int}/bagian/{section_id:int}/hapus", section_delete, methods=["POST"]),
]
