"""Session pages: schedule, rooms, capacity, assignment, moves, proctors and the token."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from exam_server.db.models import ExamSession
from exam_server.delivery.prepare import preparation, prepare_session, refresh_if_prepared
from exam_server.staff.accounts import active_proctors, get_account
from exam_server.staff.candidate_search import units as candidate_units
from exam_server.staff.exam_forms import FormError
from exam_server.staff.exams_store import exams_by_code, get_exam
from exam_server.staff.lockouts import clear_candidate_lockout
from exam_server.staff.scheduling import SchedulingError, move, seated_candidate, spread
from exam_server.staff.sessions_store import (
    add_to_session,
    create_session,
    delete_session,
    get_session,
    other_sessions,
    remove_from_session,
    session_has_begun,
    session_people,
    session_proctor_ids,
    session_values,
    sessions_with_exams,
    set_proctor,
    token_now,
    update_session,
)
from exam_server.web.auth import may_see_session, page, services_of
from exam_server.web.identity import Staff
from exam_server.web.rendering import error_page, flash, redirect, render, request_lang

Refusal = FormError | SchedulingError
T = TypeVar("T")


def _text(exc: Refusal, request: Request) -> str:
    return exc.en_text if request_lang(request) == "en" else exc.id_text


@page("sessions.view")
async def session_list(request: Request, staff: Staff) -> Response:
    return await _sessions_page(request, staff)


async def _sessions_page(request: Request, staff: Staff, error: str = "") -> Response:
    exam_filter = request.query_params.get("exam", "")
    async with services_of(request).sessions() as db:
        rows = await sessions_with_exams(
            db,
            exam_id=int(exam_filter) if exam_filter.isdigit() else None,
            proctor_id=staff.id if staff.role == "proctor" else None,
        )
        exams = await exams_by_code(db)
    return await render(
        request,
        staff,
        "sessions.html",
        status_code=400 if error else 200,
        rows=rows,
        exams=exams,
        error=error,
        exam_filter=exam_filter,
    )


@page("sessions.edit")
async def session_create(request: Request, staff: Staff) -> Response:
    try:
        values = session_values(request.state.form, services_of(request).settings.time_zone)
        async with services_of(request).sessions() as db, db.begin():
            session = await create_session(db, staff.actor, values)
    except FormError as exc:
        return await _sessions_page(request, staff, _text(exc, request))
    return redirect(f"/sesi/{session.id}")


PEOPLE_PER_PAGE = 100


async def _session_page(
    request: Request, staff: Staff, session_id: int, error: str = ""
) -> Response:
    services = services_of(request)
    async with services.sessions() as db:
        session = await get_session(db, session_id)
        if session is None:
            return error_page(request, staff, 404, "Sesi tidak ada.", "No such session.")
        exam = await get_exam(db, session.exam_id)
        # A session of 2,000 candidates pages, 100 at a time, and searches (name, number, NIK).
        q = request.query_params.get("q", "").strip()[:100]
        raw_page = request.query_params.get("page", "")
        page_no = max(1, int(raw_page)) if raw_page.isdigit() else 1
        found = await session_people(db, session.id, q, page_no, PEOPLE_PER_PAGE)
        started = await session_has_begun(db, session.id)
        others = await other_sessions(db, session)
        units = await candidate_units(db)
        proctors = await active_proctors(db)
        assigned = await session_proctor_ids(db, session.id)
        prep = await preparation(db, services.redis, session.id)
    token, changes_in = token_now(services.settings.secret_key_value, session)
    return await render(
        request,
        staff,
        "session.html",
        status_code=400 if error else 200,
        prep=prep,
        s=session,
        exam=exam,
        people=found.people,
        others=others,
        units=units,
        proctors=proctors,
        assigned=assigned,
        token=token,
        changes_in=changes_in,
        error=error,
        started=started,
        seated=found.seated,
        matching=found.matching,
        q=q,
        page_no=page_no,
        pages=max(1, -(-found.matching // PEOPLE_PER_PAGE)),
    )


def _not_yours(request: Request, staff: Staff) -> Response:
    return error_page(
        request, staff, 403, "Sesi ini bukan tugas Anda.", "This session is not assigned to you."
    )


@page("sessions.view")
async def session_view(request: Request, staff: Staff) -> Response:
    session_id = request.path_params["session_id"]
    if not await may_see_session(request, staff, session_id):
        return _not_yours(request, staff)
    return await _session_page(request, staff, session_id)


@page("sessions.view")
async def session_token_page(request: Request, staff: Staff) -> Response:
    """Full-screen token for the proctor to read out; the page refreshes itself."""
    services = services_of(request)
    session_id = request.path_params["session_id"]
    if not await may_see_session(request, staff, session_id):
        return _not_yours(request, staff)
    async with services.sessions() as db:
        session = await get_session(db, session_id)
    if session is None:
        return error_page(request, staff, 404, "Sesi tidak ada.", "No such session.")
    token, changes_in = token_now(services.settings.secret_key_value, session)
    return await render(
        request,
        staff,
        "token.html",
        s=session,
        token=token,
        changes_in=changes_in,
        refresh=min(30, changes_in + 1),
    )


async def _change_session(
    request: Request,
    staff: Staff,
    change: Callable[[AsyncSession, ExamSession], Awaitable[T]],
) -> T | Response:
    """``change`` on the path's session, locked; on a refusal the session page with why."""
    session_id = request.path_params["session_id"]
    try:
        async with services_of(request).sessions() as db, db.begin():
            session = await get_session(db, session_id, lock=True)
            if session is None:
                return error_page(request, staff, 404, "Sesi tidak ada.", "No such session.")
            done = await change(db, session)
    except (FormError, SchedulingError) as exc:
        return await _session_page(request, staff, session_id, _text(exc, request))
    await refresh_if_prepared(services_of(request), session_id)  # issue 11: no stale login data
    return done


@page("sessions.edit")
async def session_prepare(request: Request, staff: Staff) -> Response:
    """Prepare now rather than wait for the automatic run before the start."""
    services = services_of(request)
    session_id = request.path_params["session_id"]
    async with services.sessions() as db:
        if await get_session(db, session_id) is None:
            return error_page(request, staff, 404, "Sesi tidak ada.", "No such session.")
        done = await prepare_session(db, services.redis, session_id)
    await flash(
        request,
        staff,
        f"Sesi disiapkan untuk {done.seated} peserta.",
        f"Session prepared for {done.seated} candidates.",
    )
    return redirect(f"/sesi/{session_id}")


@page("sessions.edit")
async def session_update(request: Request, staff: Staff) -> Response:
    session_id = request.path_params["session_id"]
    try:
        values = session_values(request.state.form, services_of(request).settings.time_zone)
    except FormError as exc:
        return await _session_page(request, staff, session_id, _text(exc, request))
    done = await _change_session(
        request, staff, lambda db, s: update_session(db, staff.actor, s, values)
    )
    if isinstance(done, Response):
        return done
    await flash(request, staff, "Sesi disimpan.", "Session saved.")
    return redirect(f"/sesi/{session_id}")


@page("sessions.edit")
async def session_add(request: Request, staff: Staff) -> Response:
    """By hand (participant numbers or NIKs, one per line) or by unit."""
    form = request.state.form
    numbers, unit = str(form.get("numbers", "")), str(form.get("unit", ""))
    done = await _change_session(
        request, staff, lambda db, s: add_to_session(db, staff.actor, s, numbers, unit)
    )
    if isinstance(done, Response):
        return done
    added, elsewhere = done
    skipped = f" ({len(elsewhere)} sudah terjadwal di sesi lain)" if elsewhere else ""
    skipped_en = f" ({len(elsewhere)} already in another session)" if elsewhere else ""
    await flash(
        request,
        staff,
        f"{added} peserta ditambahkan{skipped}.",
        f"{added} candidates added{skipped_en}.",
    )
    return redirect(f"/sesi/{request.path_params['session_id']}")


@page("sessions.view")
async def session_unlock(request: Request, staff: Staff) -> Response:
    """End a candidate's log-in lockout (proctors too, for their own sessions)."""
    if not await may_see_session(request, staff, request.path_params["session_id"]):
        return _not_yours(request, staff)
    services, form = services_of(request), request.state.form
    number, reason = str(form.get("participant_no", "")), str(form.get("reason", ""))
    done = await _change_session(
        request,
        staff,
        lambda db, s: clear_candidate_lockout(
            db, services.redis, services.settings, staff.actor, s, number, reason
        ),
    )
    if isinstance(done, Response):
        return done
    await flash(
        request,
        staff,
        f"Kunci masuk {number.strip().upper()} dibuka.",
        f"Log-in lockout of {number.strip().upper()} cleared.",
    )
    return redirect(f"/sesi/{request.path_params['session_id']}")


@page("sessions.edit")
async def session_remove(request: Request, staff: Staff) -> Response:
    """Take one candidate off this session (they become unscheduled), with a reason."""
    form = request.state.form
    number, reason = str(form.get("participant_no", "")), str(form.get("reason", ""))
    done = await _change_session(
        request, staff, lambda db, s: remove_from_session(db, staff.actor, s, number, reason)
    )
    if isinstance(done, Response):
        return done
    await flash(
        request,
        staff,
        f"{done.participant_no} dikeluarkan dari sesi.",
        f"{done.participant_no} removed from the session.",
    )
    return redirect(f"/sesi/{request.path_params['session_id']}")


@page("sessions.edit")
async def session_delete(request: Request, staff: Staff) -> Response:
    reason = str(request.state.form.get("reason", ""))

    async def delete(db: AsyncSession, session: ExamSession) -> tuple[int, str]:
        kept = session.exam_id, session.name
        await delete_session(db, staff.actor, session, reason)
        return kept

    done = await _change_session(request, staff, delete)
    if isinstance(done, Response):
        return done
    exam_id, name = done
    await flash(request, staff, f"Sesi {name} dihapus.", f"Session {name} deleted.")
    return redirect(f"/sesi?exam={exam_id}")


@page("sessions.edit")
async def exam_spread(request: Request, staff: Staff) -> Response:
    exam_id = request.path_params["exam_id"]
    unit = str(request.state.form.get("unit", "")).strip()
    try:
        async with services_of(request).sessions() as db, db.begin():
            if await get_exam(db, exam_id, lock=True) is None:
                return error_page(request, staff, 404, "Ujian tidak ada.", "No such exam.")
            counts = await spread(db, staff.actor, exam_id, unit)
    except SchedulingError as exc:
        await flash(request, staff, exc.id_text, exc.en_text)
        return redirect(f"/sesi?exam={exam_id}")
    total = sum(counts.values())
    await flash(
        request,
        staff,
        f"{total} peserta disebar ke {len(counts)} sesi.",
        f"{total} candidates spread over {len(counts)} sessions.",
    )
    return redirect(f"/sesi?exam={exam_id}")


@page("sessions.edit")
async def session_move(request: Request, staff: Staff) -> Response:
    session_id = request.path_params["session_id"]
    form = request.state.form
    target_raw = str(form.get("target", ""))
    try:
        async with services_of(request).sessions() as db, db.begin():
            source = await get_session(db, session_id)
            target = await get_session(db, int(target_raw)) if target_raw.isdigit() else None
            if source is None or target is None:
                raise SchedulingError("Sesi tujuan tidak ada.", "No such target session.")
            candidate = await seated_candidate(db, source.id, str(form.get("participant_no", "")))
            await move(db, staff.actor, candidate, source, target, str(form.get("reason", "")))
    except SchedulingError as exc:
        return await _session_page(request, staff, session_id, _text(exc, request))
    number = candidate.participant_no
    await flash(
        request, staff, f"{number} dipindah ke {target.name}.", f"{number} moved to {target.name}."
    )
    return redirect(f"/sesi/{session_id}")


@page("sessions.edit")
async def session_proctor(request: Request, staff: Staff) -> Response:
    session_id = request.path_params["session_id"]
    form = request.state.form
    raw = str(form.get("staff_id", ""))
    try:
        async with services_of(request).sessions() as db, db.begin():
            session = await get_session(db, session_id)
            if session is None:
                return error_page(request, staff, 404, "Sesi tidak ada.", "No such session.")
            user = await get_account(db, int(raw)) if raw.isdigit() else None
            await set_proctor(db, staff.actor, session, user, remove=form.get("remove") == "1")
    except FormError as exc:
        return error_page(request, staff, 400, exc.id_text, exc.en_text)
    return redirect(f"/sesi/{session_id}")


routes = [
    Route("/sesi", session_list, methods=["GET"]),
    Route("/sesi", session_create, methods=["POST"]),
    Route("/sesi/{session_id:int}", session_view, methods=["GET"]),
    Route("/sesi/{session_id:int}", session_update, methods=["POST"]),
    Route("/sesi/{session_id:int}/token", session_token_page, methods=["GET"]),
    Route("/sesi/{session_id:int}/tambah", session_add, methods=["POST"]),
    Route("/sesi/{session_id:int}/keluarkan", session_remove, methods=["POST"]),
    Route("/sesi/{session_id:int}/buka-kunci", session_unlock, methods=["POST"]),
    Route("/sesi/{session_id:int}/hapus", session_delete, methods=["POST"]),
    Route("/sesi/{session_id:int}/pindah", session_move, methods=["POST"]),
    Route("/sesi/{session_id:int}/pengawas", session_proctor, methods=["POST"]),
    Route("/sesi/{session_id:int}/siapkan", session_prepare, methods=["POST"]),
    Route("/ujian/{exam_id:int}/sebar", exam_spread, methods=["POST"]),
]
