"""The proctor's pages, under ``/panitia/pengawas``: a live view and the interventions.

Proctors reach only the sessions given to them; admins and the committee reach all.
Every intervention is written to the audit log.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from exam_server.db.audit import record
from exam_server.db.models import ExamSession
from exam_server.proctor.interventions import (
    extend_attempts,
    pause_session,
    resume_session,
    send_notice,
)
from exam_server.proctor.monitor import live_rows
from exam_server.web.auth import may_see_session, page, services_of
from exam_server.web.identity import Staff
from exam_server.web.rendering import error_page, flash, redirect, render


async def _session_or_error(request: Request, staff: Staff) -> ExamSession | Response:
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
        session = await db.get(ExamSession, session_id)
    if session is None:
        return error_page(request, staff, 404, "Sesi tidak ada.", "No such session.")
    return session


@page("sessions.view")
async def monitor(request: Request, staff: Staff) -> Response:
    session = await _session_or_error(request, staff)
    if isinstance(session, Response):
        return session
    rows = await live_rows(services_of(request), session.id)
    counts: dict[str, int] = {}
    for row in rows:
        counts[row.status] = counts.get(row.status, 0) + 1
    return await render(
        request, staff, "pengawas.html", session=session, rows=rows, counts=counts, refresh=10
    )


async def _audit(
    request: Request, staff: Staff, action: str, session_id: int, new: dict[str, object]
) -> None:
    async with services_of(request).sessions() as db, db.begin():
        record(db, staff.actor, action, "session", session_id, new=new)


async def _switch_clock(request: Request, staff: Staff, pausing: bool) -> Response:
    """Pause or resume every attempt of the session, audited, with a flash of how many."""
    session = await _session_or_error(request, staff)
    if isinstance(session, Response):
        return session
    switch = pause_session if pausing else resume_session
    changed = await switch(services_of(request), session.id)
    action = "proctor.pause" if pausing else "proctor.resume"
    await _audit(request, staff, action, session.id, {"attempts": len(changed)})
    if pausing:
        id_text, en_text = "Sesi dijeda untuk", "Session paused for"
    else:
        id_text, en_text = "Sesi dilanjutkan untuk", "Session resumed for"
    await flash(
        request,
        staff,
        f"{id_text} {len(changed)} peserta.",
        f"{en_text} {len(changed)} candidates.",
    )
    return redirect(f"/pengawas/{session.id}")


@page("sessions.view")
async def pause(request: Request, staff: Staff) -> Response:
    return await _switch_clock(request, staff, pausing=True)


@page("sessions.view")
async def resume(request: Request, staff: Staff) -> Response:
    return await _switch_clock(request, staff, pausing=False)


@page("sessions.view")
async def extend(request: Request, staff: Staff) -> Response:
    session = await _session_or_error(request, staff)
    if isinstance(session, Response):
        return session
    form = request.state.form
    reason = str(form.get("reason", "")).strip()
    try:
        minutes = int(str(form.get("minutes", "")))
    except ValueError:
        minutes = 0
    if not 1 <= minutes <= 240 or not reason:
        return error_page(
            request,
            staff,
            400,
            "Isi menit (1-240) dan alasannya.",
            "Give minutes (1-240) and a reason.",
        )
    number = str(form.get("participant_no", "")).strip().upper()
    rows = await live_rows(services_of(request), session.id)
    targets = [
        r.attempt_id for r in rows if r.attempt_id and (not number or r.participant_no == number)
    ]
    if number and not targets:
        return error_page(
            request,
            staff,
            404,
            "Peserta itu belum memulai ujian di sesi ini.",
            "That candidate has not started in this session.",
        )
    changed = await extend_attempts(services_of(request), targets, minutes)
    async with services_of(request).sessions() as db, db.begin():
        record(db, staff.actor, "proctor.extend", "session", session.id, reason=reason,
               new={"minutes": minutes, "participant_no": number or None, "attempts": len(changed)})  # fmt: skip
    await flash(request, staff, f"Waktu ditambah {minutes} menit untuk {len(changed)} peserta.",
                f"Added {minutes} minutes for {len(changed)} candidates.")  # fmt: skip
    return redirect(f"/pengawas/{session.id}")


@page("sessions.view")
async def notice(request: Request, staff: Staff) -> Response:
    session = await _session_or_error(request, staff)
    if isinstance(session, Response):
        return session
    message = str(request.state.form.get("message", "")).strip()
    if not message:
        return error_page(request, staff, 400, "Tulis pengumumannya.", "Write the notice.")
    sent = await send_notice(services_of(request), session.id, message)
    await _audit(
        request, staff, "proctor.notice", session.id, {"message": message[:500], "attempts": sent}
    )
    await flash(
        request,
        staff,
        f"Pengumuman dikirim ke {sent} peserta.",
        f"Notice sent to {sent} candidates.",
    )
    return redirect(f"/pengawas/{session.id}")


routes = [
    Route("/pengawas/{session_id:int}", monitor, methods=["GET"]),
    Route("/pengawas/{session_id:int}/jeda", pause, methods=["POST"]),
    Route("/pengawas/{session_id:int}/lanjut", resume, methods=["POST"]),
    Route("/pengawas/{session_id:int}/tambah-waktu", extend, methods=["POST"]),
    Route("/pengawas/{session_id:int}/pengumuman", notice, methods=["POST"]),
]
