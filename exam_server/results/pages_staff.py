"""The committee's results pages, mounted under ``/panitia``: results with ranks per
exam, streamed CSV/XLSX exports, re-grading, item analysis and the scoreboard switch.

Capabilities (``exam_server.web.auth``): reading and exporting need ``export`` (admin,
panitia, viewer); re-grading needs ``exams.edit`` (admin, panitia); the scoreboard switch
needs ``sessions.edit``. Exports and every change are written to the audit log.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from exam_server.db.audit import record
from exam_server.db.models import Exam
from exam_server.results import scoreboard
from exam_server.results.analysis import FLAG_TEXT, analyse_exam, export_rows
from exam_server.results.export import (
    XlsxTable,
    csv_stream,
    file_chunks,
    temp_xlsx_path,
    write_xlsx,
)
from exam_server.results.regrade import regrade_exam
from exam_server.results.rendering import render
from exam_server.results.standings import (
    STATUS_TEXT,
    Columns,
    exam_heads,
    ranked_page,
    reasons,
    result_units,
    row_status,
    section_points,
)
from exam_server.results.store import exam_result_counts
from exam_server.staff.exams_store import get_exam
from exam_server.staff.sessions_store import get_session, sessions_by_start
from exam_server.web.auth import page, services_of
from exam_server.web.identity import Staff
from exam_server.web.rendering import error_page, flash, redirect, request_lang
from exam_server.web.spreadsheet_csv import csv_style, csv_text

PAGE_ROWS = 100


def _int_param(request: Request, name: str) -> int | None:
    raw = request.query_params.get(name, "")
    return int(raw) if raw.isdigit() else None


def _filters(request: Request) -> tuple[int | None, str | None]:
    unit = request.query_params.get("unit", "").strip()[:200]
    return _int_param(request, "session"), unit or None


async def _exam_or_404(request: Request, staff: Staff) -> Exam | Response:
    async with services_of(request).sessions() as db:
        exam = await get_exam(db, request.path_params["exam_id"])
    if exam is None:
        return error_page(request, staff, 404, "Ujian tidak ada.", "No such exam.")
    return exam


@page("export")
async def results_home(request: Request, staff: Staff) -> Response:
    async with services_of(request).sessions() as db:
        counts = await exam_result_counts(db)
    return await render(request, "staff_home.html", staff, exams=counts)


@page("export")
async def exam_results(request: Request, staff: Staff) -> Response:
    exam = await _exam_or_404(request, staff)
    if isinstance(exam, Response):
        return exam
    session_id, unit = _filters(request)
    page_no = max(1, _int_param(request, "page") or 1)
    services = services_of(request)
    async with services.sessions() as db:
        heads = await exam_heads(db, exam.id)
        rows = await ranked_page(
            db, exam.id, heads, session_id, unit, PAGE_ROWS + 1, (page_no - 1) * PAGE_ROWS
        )
        sessions = await sessions_by_start(db, exam_id=exam.id)
        units = await result_units(db, exam.id)
    boards = {s.id: await scoreboard.is_on(services.redis, s.id) for s in sessions}
    lang = request_lang(request)
    shown: list[dict[str, Any]] = [
        {
            "row": r,
            "status": row_status(r),
            "status_text": STATUS_TEXT[row_status(r)][lang == "en"],
            "points": section_points(r.sections),
            "reasons": reasons(r.failed_rules, lang),
        }
        for r in rows[:PAGE_ROWS]
    ]
    query = "&".join(f"{k}={v}" for k, v in (("session", session_id), ("unit", unit)) if v)
    return await render(
        request,
        "exam_results.html",
        staff,
        exam=exam,
        heads=heads,
        rows=shown,
        sessions=sessions,
        units=units,
        boards=boards,
        session_id=session_id,
        unit=unit or "",
        page_no=page_no,
        more=len(rows) > PAGE_ROWS,
        query=query,
    )


async def _log(
    request: Request, staff: Staff, action: str, exam_id: int, detail: dict[str, Any]
) -> None:
    # Exports carry personal data (NIK): who took which list is worth knowing.
    async with services_of(request).sessions() as db, db.begin():
        record(db, staff.actor, action, "exam", exam_id, new=detail)


def _attachment(name: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"}


@page("export")
async def export_csv(request: Request, staff: Staff) -> Response:
    exam = await _exam_or_404(request, staff)
    if isinstance(exam, Response):
        return exam
    session_id, unit = _filters(request)
    services = services_of(request)
    async with services.sessions() as db:
        columns = Columns(await exam_heads(db, exam.id), request_lang(request))
    style = csv_style(request.query_params.get("sep"))
    await _log(
        request,
        staff,
        "export.results",
        exam.id,
        {"format": "csv", "session": session_id, "unit": unit, "separator": style.delimiter},
    )

    async def body() -> Any:
        async with services.engine.connect() as conn:
            async for chunk in csv_stream(conn, exam.id, columns, session_id, unit, style):
                yield chunk

    return StreamingResponse(
        body(), media_type="text/csv; charset=utf-8", headers=_attachment(f"hasil-{exam.code}.csv")
    )


@page("export")
async def export_xlsx(request: Request, staff: Staff) -> Response:
    exam = await _exam_or_404(request, staff)
    if isinstance(exam, Response):
        return exam
    session_id, unit = _filters(request)
    services = services_of(request)
    async with services.sessions() as db:
        columns = Columns(await exam_heads(db, exam.id), request_lang(request))
    path = temp_xlsx_path()
    try:
        async with services.engine.connect() as conn:
            count = await write_xlsx(conn, path, exam.id, columns, session_id, unit)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    await _log(
        request,
        staff,
        "export.results",
        exam.id,
        {"format": "xlsx", "session": session_id, "unit": unit, "rows": count},
    )
    return StreamingResponse(
        file_chunks(path),
        headers=_attachment(f"hasil-{exam.code}.xlsx"),
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        background=BackgroundTask(path.unlink, missing_ok=True),
    )


@page("exams.edit")
async def regrade(request: Request, staff: Staff) -> Response:
    exam = await _exam_or_404(request, staff)
    if isinstance(exam, Response):
        return exam
    async with services_of(request).sessions() as db, db.begin():
        report = await regrade_exam(db, exam.id, staff.actor, now=dt.datetime.now(dt.UTC))
    return await render(request, "regrade.html", staff, exam=exam, report=report)


@page("export")
async def analysis_page(request: Request, staff: Staff) -> Response:
    exam = await _exam_or_404(request, staff)
    if isinstance(exam, Response):
        return exam
    async with services_of(request).sessions() as db:
        sections = await analyse_exam(db, exam.id)
    return await render(
        request, "analysis.html", staff, exam=exam, sections=sections, flag_text=FLAG_TEXT
    )


async def _analysis_table(request: Request, staff: Staff, fmt: str) -> Response:
    exam = await _exam_or_404(request, staff)
    if isinstance(exam, Response):
        return exam
    async with services_of(request).sessions() as db:
        sections = await analyse_exam(db, exam.id)
    header, rows = export_rows(sections, request_lang(request))
    await _log(request, staff, "export.item_analysis", exam.id, {"format": fmt, "rows": len(rows)})
    name = f"analisis-soal-{exam.code}.{fmt}"
    if fmt == "csv":
        style = csv_style(request.query_params.get("sep"))
        return Response(
            ("\ufeff" + csv_text([header, *rows], style)).encode(),
            media_type="text/csv; charset=utf-8",
            headers=_attachment(name),
        )
    path = temp_xlsx_path()
    table = XlsxTable(path, "Analisis soal", header)
    table.add(rows)
    table.close()
    return StreamingResponse(
        file_chunks(path),
        headers=_attachment(name),
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


@page("export")
async def analysis_csv(request: Request, staff: Staff) -> Response:
    return await _analysis_table(request, staff, "csv")


@page("export")
async def analysis_xlsx(request: Request, staff: Staff) -> Response:
    return await _analysis_table(request, staff, "xlsx")


@page("sessions.edit")
async def board_switch(request: Request, staff: Staff) -> Response:
    session_id = request.path_params["session_id"]
    on = request.state.form.get("on") == "1"
    services = services_of(request)
    async with services.sessions() as db, db.begin():
        session = await get_session(db, session_id)
        if session is None:
            return error_page(request, staff, 404, "Sesi tidak ada.", "No such session.")
        await scoreboard.switch(services.redis, session_id, on)
        record(db, staff.actor, "scoreboard.on" if on else "scoreboard.off", "session", session_id)
    if on:
        await flash(
            request,
            staff,
            f"Papan skor aktif: /papan/{session_id}",
            f"Scoreboard on: /papan/{session_id}",
        )
    else:
        await flash(request, staff, "Papan skor dimatikan.", "Scoreboard switched off.")
    return redirect(f"/hasil/ujian/{session.exam_id}")


routes = [
    Route("/hasil", results_home, methods=["GET"]),
    Route("/hasil/ujian/{exam_id:int}", exam_results, methods=["GET"]),
    Route("/hasil/ujian/{exam_id:int}/hasil.csv", export_csv, methods=["GET"]),
    Route("/hasil/ujian/{exam_id:int}/hasil.xlsx", export_xlsx, methods=["GET"]),
    Route("/hasil/ujian/{exam_id:int}/nilai-ulang", regrade, methods=["POST"]),
    Route("/hasil/ujian/{exam_id:int}/analisis", analysis_page, methods=["GET"]),
    Route("/hasil/ujian/{exam_id:int}/analisis.csv", analysis_csv, methods=["GET"]),
    Route("/hasil/ujian/{exam_id:int}/analisis.xlsx", analysis_xlsx, methods=["GET"]),
    Route("/hasil/sesi/{session_id:int}/papan", board_switch, methods=["POST"]),
]
