"""The proctor's pages, under ``/panitia/pengawas``: home, the live room, actions, papers.

Proctors reach only the sessions given to them; admins and the committee reach all.
The room page is a shell; ``/static/proctor.js`` fills it from ``/data`` and keeps it
current from ``/live`` (server-sent events), so nothing the proctor types is lost to a
reload (docs/proctor.md). Every action is confirmed, has a reason and is audited.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from zoneinfo import ZoneInfo

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from exam_server.db.models import ExamSession
from exam_server.delivery.presence import room_channel
from exam_server.display import session_time, zone_label, zone_name
from exam_server.proctor.actions import ACTIONS, ActionError, perform, read_action
from exam_server.proctor.feed import feed_of
from exam_server.proctor.monitor import roster, sessions_today, snapshot
from exam_server.proctor.papers import attendance_pdf, report_pdf
from exam_server.proctor.room import STATUSES, changed_rows
from exam_server.staff.sessions_store import get_session
from exam_server.web.auth import current_staff, may_see_session, page, services_of
from exam_server.web.identity import Staff
from exam_server.web.rendering import error_page, flash, redirect, render, request_lang

REFRESH_S = 2.0  # answer counts and clocks are re-read at least this often
ROSTER_S = 30.0
ABSENT_ROSTER_S = 5.0


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
        session = await get_session(db, session_id)
    if session is None:
        return error_page(request, staff, 404, "Sesi tidak ada.", "No such session.")
    return session


@page("sessions.view")
async def home(request: Request, staff: Staff) -> Response:
    services = services_of(request)
    zone_key = zone_name(None, services.settings.time_zone)
    zone = ZoneInfo(zone_key)
    today = dt.datetime.now(zone).date()
    mine = None if staff.role in ("admin", "panitia") else staff.id
    sessions = await sessions_today(services, mine, today, zone)
    return await render(
        request,
        staff,
        "pengawas_home.html",
        sessions=sessions,
        today=today,
        zone=zone_label(zone_key),
        when=session_time,
    )


@page("sessions.view")
async def monitor(request: Request, staff: Staff) -> Response:
    session = await _session_or_error(request, staff)
    if isinstance(session, Response):
        return session
    return await render(
        request,
        staff,
        "pengawas.html",
        session=session,
        actions=ACTIONS,
        statuses=STATUSES,
        when=session_time,
    )


@page("sessions.view")
async def data(request: Request, staff: Staff) -> Response:
    session = await _session_or_error(request, staff)
    if isinstance(session, Response):
        return session
    services = services_of(request)
    snap = await snapshot(services, await roster(services, session.id))
    body = {**snap.head(), "full": True, "rows": snap.row_json}
    return JSONResponse(body, headers={"Cache-Control": "no-store"})


@page("sessions.view")
async def live(request: Request, staff: Staff) -> Response:
    """Server-sent events: the whole room first, then only the rows that changed."""
    session = await _session_or_error(request, staff)
    if isinstance(session, Response):
        return session
    services = services_of(request)
    feed = feed_of(request.app.state, services.redis)
    session_id = session.id

    async def events() -> AsyncIterator[str]:
        queue = feed.join(session_id)
        try:
            seats = await roster(services, session_id)
            seats_at = time.monotonic()
            sent: dict[int, dict[str, object]] = {}
            last_head: object = None
            last_sent = 0.0
            yield "retry: 2000\n\n"
            while True:
                snap = await snapshot(services, seats)
                rows = snap.row_json if not sent else changed_rows(sent, snap.row_json)
                head = (snap.counts, snap.alarm)
                if not sent or rows or head != last_head or time.monotonic() - last_sent > 15:
                    body = {**snap.head(), "full": not sent, "rows": rows}
                    yield f"event: room\ndata: {json.dumps(body, separators=(',', ':'))}\n\n"
                    last_sent, last_head = time.monotonic(), head
                    sent = {r["id"]: r for r in snap.row_json}
                news = await _wait(queue, REFRESH_S)
                known = {s.attempt_id for s in seats}
                # A first login's news may be missed (a resubscribe): while anyone is still
                # absent, the roster is re-read often, else seldom.
                every = ABSENT_ROSTER_S if None in known else ROSTER_S
                if time.monotonic() - seats_at > every or any(
                    e.get("k") == "action" or e.get("a") not in known for e in news
                ):
                    # A proctor who logged out (or was disabled) stops getting the room.
                    if await current_staff(request) is None:
                        return
                    seats, seats_at = await roster(services, session_id), time.monotonic()
        finally:
            feed.leave(session_id, queue)

    return StreamingResponse(
        events(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


async def _wait(queue: asyncio.Queue[dict[str, object]], timeout: float) -> list[dict[str, object]]:
    """News from the room, or nothing after ``timeout``; a burst is read as one."""
    try:
        first = await asyncio.wait_for(queue.get(), timeout)
    except TimeoutError:
        return []
    await asyncio.sleep(0.1)
    news = [first]
    while not queue.empty():
        news.append(queue.get_nowait())
    return news


def _wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "")


async def _answer(
    request: Request, staff: Staff, session_id: int, status: int, id_text: str, en_text: str
) -> Response:
    if _wants_json(request):
        text = en_text if request_lang(request) == "en" else id_text
        return JSONResponse({"ok": status < 400, "message": text}, status_code=status)
    if status >= 400:
        return error_page(request, staff, status, id_text, en_text)
    await flash(request, staff, id_text, en_text)
    return redirect(f"/pengawas/{session_id}")


async def _act(request: Request, staff: Staff, preset: str | None = None) -> Response:
    session = await _session_or_error(request, staff)
    if isinstance(session, Response):
        return session
    services = services_of(request)
    form = request.state.form
    fields = dict(form)
    ids = form.getlist("ids")
    seats = await roster(services, session.id)
    if preset:  # the older one-purpose addresses: same checks, same audit
        fields["action"] = preset
        number = str(form.get("participant_no", "")).strip().upper()
        if number:  # one candidate by number, as the old "add time" form allowed
            ids = [str(s.candidate_id) for s in seats if s.participant_no == number] or ["0"]
        fields.setdefault("scope", "selected" if number else "all")
    try:
        action = read_action(fields, ids, staff.role)
        done = await perform(services, staff.actor, session, action, seats)
    except ActionError as exc:
        return await _answer(request, staff, session.id, exc.status, exc.id_text, exc.en_text)
    await services.redis.publish(room_channel(session.id), json.dumps({"a": 0, "k": "action"}))
    return await _answer(request, staff, session.id, 200, done.id_text, done.en_text)


@page("sessions.view")
async def act(request: Request, staff: Staff) -> Response:
    return await _act(request, staff)


def _preset(kind: str) -> Callable[[Request], Awaitable[Response]]:
    @page("sessions.view")
    async def endpoint(request: Request, staff: Staff) -> Response:
        return await _act(request, staff, kind)

    endpoint.__name__ = f"act_{kind}"
    return endpoint


async def _paper(request: Request, staff: Staff, which: str) -> Response:
    session = await _session_or_error(request, staff)
    if isinstance(session, Response):
        return session
    services = services_of(request)
    make = attendance_pdf if which == "daftar-hadir" else report_pdf
    pdf = await make(services, session)
    rendered = await run_in_threadpool(pdf)
    return Response(
        rendered,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'inline; filename="{which}-sesi-{session.id}.pdf"',
            "Cache-Control": "no-store",
        },
    )


@page("sessions.view")
async def attendance(request: Request, staff: Staff) -> Response:
    return await _paper(request, staff, "daftar-hadir")


@page("sessions.view")
async def report(request: Request, staff: Staff) -> Response:
    return await _paper(request, staff, "berita-acara")


routes = [
    Route("/pengawas", home, methods=["GET"]),
    Route("/pengawas/{session_id:int}", monitor, methods=["GET"]),
    Route("/pengawas/{session_id:int}/data", data, methods=["GET"]),
    Route("/pengawas/{session_id:int}/live", live, methods=["GET"]),
    Route("/pengawas/{session_id:int}/aksi", act, methods=["POST"]),
    Route("/pengawas/{session_id:int}/daftar-hadir.pdf", attendance, methods=["GET"]),
    Route("/pengawas/{session_id:int}/berita-acara.pdf", report, methods=["GET"]),
    Route("/pengawas/{session_id:int}/jeda", _preset("pause"), methods=["POST"]),
    Route("/pengawas/{session_id:int}/lanjut", _preset("resume"), methods=["POST"]),
    Route("/pengawas/{session_id:int}/tambah-waktu", _preset("extend"), methods=["POST"]),
    Route("/pengawas/{session_id:int}/pengumuman", _preset("notice"), methods=["POST"]),
]
