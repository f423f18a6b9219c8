"""Candidate pages: list with search and filters, twin names, import, correction, deletion,
password re-issue."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from exam_server.db.audit import record
from exam_server.db.models import Candidate
from exam_server.delivery.revocation import passwords_reissued
from exam_server.staff.audit_log import entity_history
from exam_server.staff.candidate_import import (
    parse_candidates,
    template_csv,
    template_xlsx,
)
from exam_server.staff.candidate_search import STATUSES, search_candidates, units
from exam_server.staff.candidates_store import (
    CorrectionError,
    candidate_attempts,
    candidate_sessions,
    correct_candidate,
    corrected_row,
    delete_candidate,
    get_candidate,
    import_candidates,
    issue_passwords,
    password_issue,
    session_names,
    twin_group_count,
    twin_groups,
)
from exam_server.web.auth import page, services_of
from exam_server.web.identity import Staff
from exam_server.web.rendering import error_page, flash, redirect, render, request_lang

PAGE_SIZE = 50


TWIN_GROUPS_PER_PAGE = 25


async def _twins_page(request: Request, staff: Staff, q: str, page_no: int) -> Response:
    """Twin groups, each whole (half a pair tells nobody anything), 25 groups a page and
    searchable by name: 305 twins must not make one 64,000-pixel page."""
    async with services_of(request).sessions() as db:
        total = await twin_group_count(db, q)
        groups = await twin_groups(
            db, q, offset=(page_no - 1) * TWIN_GROUPS_PER_PAGE, limit=TWIN_GROUPS_PER_PAGE
        )
        sessions = await session_names(db, [c.id for g in groups for c in g.candidates])
    return await render(
        request,
        staff,
        "candidates_twins.html",
        groups=groups,
        sessions=sessions,
        total=total,
        q=q,
        page_no=page_no,
        pages=max(1, -(-total // TWIN_GROUPS_PER_PAGE)),
    )


@page("candidates.edit")
async def candidate_list(request: Request, staff: Staff) -> Response:
    params = request.query_params
    q, unit, status = params.get("q", "").strip(), params.get("unit", ""), params.get("status", "")
    page_no = max(1, int(params["page"])) if params.get("page", "").isdigit() else 1
    if status == "twins":
        return await _twins_page(request, staff, q, page_no)
    async with services_of(request).sessions() as db:
        total, found = await search_candidates(
            db, q, unit, status, offset=(page_no - 1) * PAGE_SIZE, limit=PAGE_SIZE
        )
        all_units = await units(db)
        twins = await twin_group_count(db)
    return await render(
        request,
        staff,
        "candidates.html",
        rows=[(f.candidate, f.session, f.status) for f in found],
        total=total,
        page_no=page_no,
        pages=max(1, -(-total // PAGE_SIZE)),
        q=q,
        unit=unit,
        status=status,
        units=all_units,
        statuses=STATUSES,
        twins=twins,
    )


@page("candidates.edit")
async def import_form(request: Request, staff: Staff) -> Response:
    return await render(request, staff, "candidates_import.html", outcome=None)


@page("candidates.edit")
async def import_submit(request: Request, staff: Staff) -> Response:
    form = request.state.form
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return error_page(
            request, staff, 400, "Pilih berkas CSV atau XLSX.", "Choose a CSV or XLSX file."
        )
    data = await upload.read()
    dry_run = form.get("dry_run") == "1"
    # Parsing an XLSX of thousands of rows is CPU work: off the event loop.
    parsed = await run_in_threadpool(parse_candidates, data, upload.filename)
    async with services_of(request).sessions() as db, db.begin():
        outcome = await import_candidates(db, staff.actor, parsed, upload.filename, dry_run=dry_run)
        if outcome.errors:
            await db.rollback()
    return await render(
        request,
        staff,
        "candidates_import.html",
        status_code=400 if outcome.errors else 200,
        outcome=outcome,
        filename=upload.filename,
        dry_run=dry_run,
        lang_en=request_lang(request) == "en",
    )


@page("candidates.edit")
async def template_download(request: Request, staff: Staff) -> Response:
    kind = request.path_params["kind"]
    if kind not in ("csv", "xlsx"):
        return error_page(request, staff, 404, "Tidak ada.", "Not found.")
    if kind == "csv":
        return Response(
            template_csv(),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="templat-peserta.csv"'},
        )
    return Response(
        template_xlsx(),
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": 'attachment; filename="templat-peserta.xlsx"'},
    )


async def _candidate_page(
    request: Request, staff: Staff, candidate: Candidate, error: str = "", status_code: int = 200
) -> Response:
    async with services_of(request).sessions() as db:
        history = await entity_history(db, "candidate", candidate.id)
        issued = await password_issue(db, candidate.id)
        sessions = await candidate_sessions(db, candidate.id)
        attempts = await candidate_attempts(db, candidate.id)
        attempted = bool(attempts)
    return await render(
        request,
        staff,
        "candidate_edit.html",
        status_code=status_code,
        c=candidate,
        history=history,
        issued=issued,
        sessions=sessions,
        attempted=attempted,
        attempts=attempts,
        error=error,
    )


@page("candidates.edit")
async def candidate_view(request: Request, staff: Staff) -> Response:
    async with services_of(request).sessions() as db:
        candidate = await get_candidate(db, request.path_params["candidate_id"])
    if candidate is None:
        return error_page(request, staff, 404, "Peserta tidak ada.", "No such candidate.")
    return await _candidate_page(request, staff, candidate)


@page("candidates.edit")
async def candidate_correct(request: Request, staff: Staff) -> Response:
    form = request.state.form
    en = request_lang(request) == "en"
    try:
        async with services_of(request).sessions() as db, db.begin():
            candidate = await get_candidate(db, request.path_params["candidate_id"], lock=True)
            if candidate is None:
                return error_page(request, staff, 404, "Peserta tidak ada.", "No such candidate.")
            row = corrected_row(form)
            # Raises before anything changes, so leaving the block writes nothing.
            changes = await correct_candidate(
                db, staff.actor, candidate, row, str(form.get("reason", ""))
            )
    except CorrectionError as exc:
        async with services_of(request).sessions() as db:
            fresh = await get_candidate(db, request.path_params["candidate_id"])
        assert fresh is not None
        return await _candidate_page(request, staff, fresh, exc.en_text if en else exc.id_text, 400)
    if changes:
        await flash(request, staff, "Data peserta diperbaiki.", "Candidate data corrected.")
    else:
        await flash(request, staff, "Tidak ada perubahan.", "Nothing changed.")
    return redirect(f"/kandidat/{candidate.id}")


@page("candidates.edit")
async def candidate_delete(request: Request, staff: Staff) -> Response:
    """Delete a wrongly registered candidate; refused once they have entered an exam."""
    form = request.state.form
    reason = str(form.get("reason", ""))
    en = request_lang(request) == "en"
    try:
        async with services_of(request).sessions() as db, db.begin():
            candidate = await get_candidate(db, request.path_params["candidate_id"])
            if candidate is None:
                return error_page(request, staff, 404, "Peserta tidak ada.", "No such candidate.")
            name, number = candidate.name, candidate.participant_no
            # The page's tick box: a deletion is never one stray click.
            if form.get("confirm") != "1":
                raise CorrectionError(
                    "Centang konfirmasi untuk menghapus peserta.",
                    "Tick the confirmation to delete the candidate.",
                )
            # Raises before anything changes, so leaving the block writes nothing.
            await delete_candidate(db, staff.actor, candidate, reason)
    except CorrectionError as exc:
        async with services_of(request).sessions() as db:
            fresh = await get_candidate(db, request.path_params["candidate_id"])
        if fresh is None:
            return error_page(request, staff, 404, "Peserta tidak ada.", "No such candidate.")
        return await _candidate_page(request, staff, fresh, exc.en_text if en else exc.id_text, 400)
    await flash(
        request,
        staff,
        f"Peserta {name} ({number}) dihapus.",
        f"Candidate {name} ({number}) deleted.",
    )
    return redirect("/kandidat")


@page("cards.print")
async def candidate_reissue(request: Request, staff: Staff) -> Response:
    """A new password for one candidate (lost card): shown once, on this page only."""
    services = services_of(request)
    reason = str(request.state.form.get("reason", "")).strip()
    async with services.sessions() as db, db.begin():
        candidate = await get_candidate(db, request.path_params["candidate_id"])
        if candidate is None:
            return error_page(request, staff, 404, "Peserta tidak ada.", "No such candidate.")
        if not reason:
            return await _candidate_page(
                request,
                staff,
                candidate,
                "Alasan wajib diisi." if request_lang(request) == "id" else "A reason is required.",
                400,
            )
        [cred] = await issue_passwords(
            db, staff.actor, services.settings.secret_key_value, [candidate.id], reason
        )
        record(db, staff.actor, "candidate.reissue", "candidate", candidate.id, reason=reason)
    await passwords_reissued(services, [cred])  # an impersonator's socket ends now
    return await render(request, staff, "password_once.html", c=candidate, password=cred.password)


routes = [
    Route("/kandidat", candidate_list, methods=["GET"]),
    Route("/kandidat/impor", import_form, methods=["GET"]),
    Route("/kandidat/impor", import_submit, methods=["POST"]),
    Route("/kandidat/templat.{kind:str}", template_download, methods=["GET"]),
    Route("/kandidat/{candidate_id:int}", candidate_view, methods=["GET"]),
    Route("/kandidat/{candidate_id:int}", candidate_correct, methods=["POST"]),
    Route("/kandidat/{candidate_id:int}/sandi", candidate_reissue, methods=["POST"]),
    Route("/kandidat/{candidate_id:int}/hapus", candidate_delete, methods=["POST"]),
]
