"""Candidate pages: list with search and filters, twin names, import, correction, deletion,
password re-issue."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, exists, func, or_, select
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from exam_server.models import Attempt, Candidate, ExamSession, SessionCandidate
from exam_server.staff.audit import record
from exam_server.staff.auth import Staff, page, services_of
from exam_server.staff.candidate_import import (
    CandidateRow,
    check_row,
    parse_candidates,
    template_csv,
    template_xlsx,
)
from exam_server.staff.candidates_store import (
    CorrectionError,
    correct_candidate,
    delete_candidate,
    import_candidates,
    issue_passwords,
    session_names,
    twin_group_count,
    twin_groups,
)
from exam_server.staff.models import AuditEntry, CredentialIssue
from exam_server.staff.rendering import error_page, flash, redirect, render, request_lang

PAGE_SIZE = 50
STATUSES = {
    "unscheduled": ("Belum dijadwalkan", "Not scheduled"),
    "scheduled": ("Terjadwal", "Scheduled"),
    "in_progress": ("Sedang ujian", "In progress"),
    "submitted": ("Selesai", "Submitted"),
}


def _latest_attempt_status() -> Any:
    return (
        select(Attempt.status)
        .where(Attempt.candidate_id == Candidate.id)
        .order_by(Attempt.id.desc())
        .limit(1)
        .scalar_subquery()
    )


def _status_filter(status: str) -> ColumnElement[bool] | None:
    scheduled = exists().where(SessionCandidate.candidate_id == Candidate.id)
    attempted = exists().where(Attempt.candidate_id == Candidate.id)
    latest = _latest_attempt_status()
    return {
        "unscheduled": ~scheduled,
        "scheduled": scheduled & ~attempted,
        "in_progress": latest.in_(["running", "paused", "waiting"]),
        "submitted": latest == "submitted",
    }.get(status)


def status_of(session_name: str | None, attempt_status: str | None) -> str:
    if attempt_status == "submitted":
        return "submitted"
    if attempt_status is not None:
        return "in_progress"
    return "scheduled" if session_name else "unscheduled"


async def _twins_page(request: Request, staff: Staff) -> Response:
    """Every twin group whole, whatever the other filters say: half a pair tells nobody
    anything."""
    async with services_of(request).sessions() as db:
        groups = await twin_groups(db)
        sessions = await session_names(db, [c.id for g in groups for c in g.candidates])
    return await render(request, staff, "candidates_twins.html", groups=groups, sessions=sessions)


@page("candidates.edit")
async def candidate_list(request: Request, staff: Staff) -> Response:
    params = request.query_params
    q, unit, status = params.get("q", "").strip(), params.get("unit", ""), params.get("status", "")
    if status == "twins":
        return await _twins_page(request, staff)
    page_no = max(1, int(params["page"])) if params.get("page", "").isdigit() else 1
    session_name = (
        select(ExamSession.name)
        .join(SessionCandidate, SessionCandidate.session_id == ExamSession.id)
        .where(SessionCandidate.candidate_id == Candidate.id)
        .order_by(ExamSession.starts_at.desc())
        .limit(1)
        .scalar_subquery()
    )
    query = select(
        Candidate, session_name.label("session"), _latest_attempt_status().label("attempt")
    )
    count = select(func.count()).select_from(Candidate)
    conditions: list[ColumnElement[bool]] = []
    if q:
        like = f"%{q.replace('%', '').replace('_', '')}%"
        conditions.append(
            or_(
                Candidate.name.ilike(like),
                Candidate.nik.like(like),
                Candidate.participant_no.ilike(like),
            )
        )
    if unit:
        conditions.append(Candidate.unit == unit)
    chosen = _status_filter(status)
    if chosen is not None:
        conditions.append(chosen)
    for condition in conditions:
        query, count = query.where(condition), count.where(condition)
    async with services_of(request).sessions() as db:
        total = await db.scalar(count) or 0
        rows = (
            await db.execute(
                query.order_by(Candidate.participant_no)
                .offset((page_no - 1) * PAGE_SIZE)
                .limit(PAGE_SIZE)
            )
        ).all()
        units = list(await db.scalars(select(Candidate.unit).distinct().order_by(Candidate.unit)))
        twins = await twin_group_count(db)
    return await render(
        request,
        staff,
        "candidates.html",
        rows=[(c, s, status_of(s, a)) for c, s, a in rows],
        total=total,
        page_no=page_no,
        pages=max(1, -(-total // PAGE_SIZE)),
        q=q,
        unit=unit,
        status=status,
        units=[u for u in units if u],
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
        history = list(
            await db.scalars(
                select(AuditEntry)
                .where(AuditEntry.entity == "candidate", AuditEntry.entity_id == str(candidate.id))
                .order_by(AuditEntry.id.desc())
            )
        )
        issued = await db.get(CredentialIssue, candidate.id)
        sessions = list(
            await db.scalars(
                select(ExamSession)
                .join(SessionCandidate, SessionCandidate.session_id == ExamSession.id)
                .where(SessionCandidate.candidate_id == candidate.id)
                .order_by(ExamSession.starts_at)
            )
        )
        attempted = bool(
            await db.scalar(select(exists().where(Attempt.candidate_id == candidate.id)))
        )
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
        error=error,
    )


@page("candidates.edit")
async def candidate_view(request: Request, staff: Staff) -> Response:
    async with services_of(request).sessions() as db:
        candidate = await db.get(Candidate, request.path_params["candidate_id"])
    if candidate is None:
        return error_page(request, staff, 404, "Peserta tidak ada.", "No such candidate.")
    return await _candidate_page(request, staff, candidate)


def _row_from_form(form: Any) -> CandidateRow | str:
    fields = ["nik", "name", "birth_date", "unit", "phone", "email", "photo"]
    checked = check_row(
        0, [str(form.get(f, "")).strip() for f in fields], {f: i for i, f in enumerate(fields)}
    )
    if isinstance(checked, list):
        return checked[0].message_id + " / " + checked[0].message_en
    return checked


@page("candidates.edit")
async def candidate_correct(request: Request, staff: Staff) -> Response:
    form = request.state.form
    en = request_lang(request) == "en"
    try:
        async with services_of(request).sessions() as db, db.begin():
            candidate = await db.get(
                Candidate, request.path_params["candidate_id"], with_for_update=True
            )
            if candidate is None:
                return error_page(request, staff, 404, "Peserta tidak ada.", "No such candidate.")
            row = _row_from_form(form)
            if isinstance(row, str):
                raise CorrectionError(*row.split(" / ", 1))
            # Raises before anything changes, so leaving the block writes nothing.
            changes = await correct_candidate(
                db, staff.actor, candidate, row, str(form.get("reason", ""))
            )
    except CorrectionError as exc:
        async with services_of(request).sessions() as db:
            fresh = await db.get(Candidate, request.path_params["candidate_id"])
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
            candidate = await db.get(Candidate, request.path_params["candidate_id"])
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
            fresh = await db.get(Candidate, request.path_params["candidate_id"])
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
        candidate = await db.get(Candidate, request.path_params["candidate_id"])
        if candidate is None:
            return error_page(request, staff, 404, "Peserta tidak ada.", "No such candidate.")
        if not reason:
            return await _candidate_page(
                request, staff, candidate,
                "Alasan wajib diisi." if request_lang(request) == "id" else "A reason is required.",
                400,
            )  # fmt: skip
        [cred] = await issue_passwords(
            db, staff.actor, services.settings.secret_key_value, [candidate.id], reason
        )
        record(db, staff.actor, "candidate.reissue", "candidate", candidate.id, reason=reason)
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
