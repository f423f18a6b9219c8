"""Dashboards per exam and per session, and their CSV exports."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from exam_server.db.audit import record
from exam_server.db.models import Exam, ExamSession
from exam_server.staff.dashboard import STATES, counts, rows_for, to_csv
from exam_server.staff.exams_store import exams_by_code, get_exam
from exam_server.staff.sessions_store import get_session, sessions_by_start
from exam_server.web.auth import may_see_session, page, services_of
from exam_server.web.identity import Staff
from exam_server.web.rendering import error_page, render, request_lang
from exam_server.web.spreadsheet_csv import csv_style


@page("dashboard.view")
async def dashboard_home(request: Request, staff: Staff) -> Response:
    async with services_of(request).sessions() as db:
        proctor = staff.role == "proctor"
        exams = [] if proctor else await exams_by_code(db)
        sessions = await sessions_by_start(db, proctor_id=staff.id if proctor else None)
    return await render(request, staff, "dashboard_home.html", exams=exams, sessions=sessions)


async def _exam_rows(request: Request, staff: Staff) -> tuple[Exam | None, list[ExamSession], list]:  # type: ignore[type-arg]
    async with services_of(request).sessions() as db:
        exam = await get_exam(db, request.path_params["exam_id"])
        if exam is None:
            return None, [], []
        sessions = await sessions_by_start(db, exam_id=exam.id)
        rows = await rows_for(db, [s.id for s in sessions])
    return exam, sessions, rows


@page("dashboard.view")
async def exam_dashboard(request: Request, staff: Staff) -> Response:
    if staff.role == "proctor":  # proctors see their own sessions only
        return error_page(
            request,
            staff,
            403,
            "Peran Anda tidak mengizinkan halaman ini.",
            "Your role does not allow this page.",
        )
    exam, sessions, rows = await _exam_rows(request, staff)
    if exam is None:
        return error_page(request, staff, 404, "Ujian tidak ada.", "No such exam.")
    per_session = [(s, counts([r for r in rows if r.session_id == s.id])) for s in sessions]
    return await render(
        request,
        staff,
        "dashboard.html",
        title=f"{exam.code} · {exam.title}",
        totals=counts(rows),
        per_session=per_session,
        rows=None,
        states=STATES,
        csv_url=f"/panitia/dasbor/ujian/{exam.id}.csv",
    )


@page("dashboard.view")
async def session_dashboard(request: Request, staff: Staff) -> Response:
    session_id = request.path_params["session_id"]
    if not await may_see_session(request, staff, session_id):
        return error_page(
            request,
            staff,
            403,
            "Sesi ini bukan tugas Anda.",
            "This session is not assigned to you.",
        )
    async with services_of(request).sessions() as db:
        session = await get_session(db, session_id)
        if session is None:
            return error_page(request, staff, 404, "Sesi tidak ada.", "No such session.")
        rows = await rows_for(db, [session_id])
    return await render(
        request,
        staff,
        "dashboard.html",
        title=session.name,
        totals=counts(rows),
        per_session=None,
        rows=rows,
        states=STATES,
        refresh=30,
        session=session,
        csv_url=f"/panitia/dasbor/sesi/{session_id}.csv" if staff.can("export") else "",
    )


def _csv(data: bytes, name: str) -> Response:
    return Response(
        data,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@page("export")
async def exam_csv(request: Request, staff: Staff) -> Response:
    exam, _, rows = await _exam_rows(request, staff)
    if exam is None:
        return error_page(request, staff, 404, "Ujian tidak ada.", "No such exam.")
    await _log_export(request, staff, "exam", exam.id, len(rows))
    return _csv(
        to_csv(rows, request_lang(request), csv_style(request.query_params.get("sep"))),
        f"kehadiran-{exam.code}.csv",
    )


@page("export")
async def session_csv(request: Request, staff: Staff) -> Response:
    session_id = request.path_params["session_id"]
    async with services_of(request).sessions() as db:
        if await get_session(db, session_id) is None:
            return error_page(request, staff, 404, "Sesi tidak ada.", "No such session.")
        rows = await rows_for(db, [session_id])
    await _log_export(request, staff, "session", session_id, len(rows))
    return _csv(
        to_csv(rows, request_lang(request), csv_style(request.query_params.get("sep"))),
        f"kehadiran-sesi-{session_id}.csv",
    )


async def _log_export(
    request: Request, staff: Staff, entity: str, entity_id: int, count: int
) -> None:
    # Exports carry personal data (NIK): who took which list is worth knowing.
    async with services_of(request).sessions() as db, db.begin():
        record(db, staff.actor, "export.attendance", entity, entity_id, new={"rows": count})


routes = [
    Route("/dasbor", dashboard_home, methods=["GET"]),
    Route("/dasbor/ujian/{exam_id:int}", exam_dashboard, methods=["GET"]),
    Route("/dasbor/ujian/{exam_id:int}.csv", exam_csv, methods=["GET"]),
    Route("/dasbor/sesi/{session_id:int}", session_dashboard, methods=["GET"]),
    Route("/dasbor/sesi/{session_id:int}.csv", session_csv, methods=["GET"]),
]
