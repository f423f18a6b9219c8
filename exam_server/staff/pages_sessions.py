"""Session pages: schedule, rooms, capacity, assignment, moves, proctors and the token."""

from __future__ import annotations

import re
import time
from typing import Any

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from exam_server.credentials import session_token
from exam_server.models import Attempt, Candidate, Exam, ExamSession, SessionCandidate
from exam_server.staff.audit import changed, record, snapshot
from exam_server.staff.auth import Staff, may_see_session, page, services_of
from exam_server.staff.exam_forms import FormError, local_datetime
from exam_server.staff.models import ProctorAssignment, StaffUser
from exam_server.staff.rendering import error_page, flash, redirect, render, request_lang
from exam_server.staff.scheduling import SchedulingError, assign, move, spread

SESSION_FIELDS = ("exam_id", "name", "room", "starts_at", "ends_at", "capacity",
                  "token_required", "token_period_s")  # fmt: skip


def session_values(form: Any) -> dict[str, Any]:
    name = str(form.get("name", "")).strip()
    if not name or len(name) > 200:
        raise FormError("Nama sesi wajib diisi.", "A session name is required.")
    date = str(form.get("date", "")).strip()
    starts = local_datetime(date, str(form.get("start", "")).strip())
    ends = local_datetime(date, str(form.get("end", "")).strip())
    if ends <= starts:
        raise FormError("Jam selesai harus setelah jam mulai.", "The end must be after the start.")
    capacity_raw = str(form.get("capacity", "")).strip()
    if capacity_raw and not (capacity_raw.isdigit() and int(capacity_raw) > 0):
        raise FormError(
            "Kapasitas harus bilangan bulat positif.", "Capacity must be a positive whole number."
        )
    period_raw = str(form.get("token_minutes", "")).strip() or "15"
    if not period_raw.isdigit() or not 1 <= int(period_raw) <= 24 * 60:
        raise FormError("Periode token 1-1440 menit.", "The token period is 1-1440 minutes.")
    exam_raw = str(form.get("exam_id", ""))
    if not exam_raw.isdigit():
        raise FormError("Pilih ujian.", "Choose an exam.")
    return {
        "exam_id": int(exam_raw),
        "name": name,
        "room": str(form.get("room", "")).strip()[:200],
        "starts_at": starts,
        "ends_at": ends,
        "capacity": int(capacity_raw) if capacity_raw else None,
        "token_required": form.get("token_required") == "1",
        "token_period_s": int(period_raw) * 60,
    }


@page("sessions.view")
async def session_list(request: Request, staff: Staff) -> Response:
    return await _sessions_page(request, staff)


async def _sessions_page(request: Request, staff: Staff, error: str = "") -> Response:
    exam_filter = request.query_params.get("exam", "")
    query = select(ExamSession, Exam).join(Exam, Exam.id == ExamSession.exam_id)
    if staff.role == "proctor":
        query = query.join(ProctorAssignment, ProctorAssignment.session_id == ExamSession.id).where(
            ProctorAssignment.staff_id == staff.id
        )
    if exam_filter.isdigit():
        query = query.where(ExamSession.exam_id == int(exam_filter))
    async with services_of(request).sessions() as db:
        rows = (await db.execute(query.order_by(ExamSession.starts_at))).all()
        exams = list(await db.scalars(select(Exam).order_by(Exam.code)))
    return await render(request, staff, "sessions.html", status_code=400 if error else 200,
                        rows=rows, exams=exams, error=error, exam_filter=exam_filter)  # fmt: skip


@page("sessions.edit")
async def session_create(request: Request, staff: Staff) -> Response:
    try:
        values = session_values(request.state.form)
    except FormError as exc:
        return await _sessions_page(request, staff, exc.text(request_lang(request)))
    async with services_of(request).sessions() as db, db.begin():
        if await db.get(Exam, values["exam_id"]) is None:
            return error_page(request, staff, 404, "Ujian tidak ada.", "No such exam.")
        session = ExamSession(**values)
        db.add(session)
        await db.flush()
        record(db, staff.actor, "session.create", "session", session.id, new=values)
    return redirect(f"/sesi/{session.id}")


def token_now(secret: str, session: ExamSession, now: float | None = None) -> tuple[str, int]:
    """The current token and the seconds until it changes."""
    now = time.time() if now is None else now
    period = session.token_period_s
    return session_token(secret, session.id, period, now), int(period - now % period)


async def _session_page(
    request: Request, staff: Staff, session_id: int, error: str = ""
) -> Response:
    services = services_of(request)
    async with services.sessions() as db:
        session = await db.get(ExamSession, session_id)
        if session is None:
            return error_page(request, staff, 404, "Sesi tidak ada.", "No such session.")
        exam = await db.get(Exam, session.exam_id)
        people = (
            await db.execute(
                select(Candidate, Attempt.status)
                .join(SessionCandidate, SessionCandidate.candidate_id == Candidate.id)
                .outerjoin(
                    Attempt,
                    (Attempt.candidate_id == Candidate.id) & (Attempt.session_id == session.id),
                )
                .where(SessionCandidate.session_id == session.id)
                .order_by(Candidate.participant_no)
            )
        ).all()
        others = list(
            await db.scalars(
                select(ExamSession)
                .where(ExamSession.exam_id == session.exam_id, ExamSession.id != session.id)
                .order_by(ExamSession.starts_at)
            )
        )
        units = list(await db.scalars(select(Candidate.unit).distinct().order_by(Candidate.unit)))
        proctors = list(
            await db.scalars(
                select(StaffUser)
                .where(StaffUser.role == "proctor", StaffUser.active)
                .order_by(StaffUser.username)
            )
        )
        assigned = set(
            await db.scalars(
                select(ProctorAssignment.staff_id).where(ProctorAssignment.session_id == session.id)
            )
        )
    token, changes_in = token_now(services.settings.secret_key_value, session)
    return await render(
        request, staff, "session.html", status_code=400 if error else 200,
        s=session, exam=exam, people=people, others=others, units=[u for u in units if u],
        proctors=proctors, assigned=assigned, token=token, changes_in=changes_in, error=error,
    )  # fmt: skip


@page("sessions.view")
async def session_view(request: Request, staff: Staff) -> Response:
    session_id = request.path_params["session_id"]
    if not await may_see_session(request, staff, session_id):
        return error_page(
            request,
            staff,
            403,
            "Sesi ini bukan tugas Anda.",
            "This session is not assigned to you.",
        )
    return await _session_page(request, staff, session_id)


@page("sessions.view")
async def session_token_page(request: Request, staff: Staff) -> Response:
    """Full-screen token for the proctor to read out; the page refreshes itself."""
    services = services_of(request)
    session_id = request.path_params["session_id"]
    if not await may_see_session(request, staff, session_id):
        return error_page(
            request,
            staff,
            403,
            "Sesi ini bukan tugas Anda.",
            "This session is not assigned to you.",
        )
    async with services.sessions() as db:
        session = await db.get(ExamSession, session_id)
    if session is None:
        return error_page(request, staff, 404, "Sesi tidak ada.", "No such session.")
    token, changes_in = token_now(services.settings.secret_key_value, session)
    return await render(request, staff, "token.html", s=session, token=token,
                        changes_in=changes_in, refresh=min(30, changes_in + 1))  # fmt: skip


@page("sessions.edit")
async def session_update(request: Request, staff: Staff) -> Response:
    session_id = request.path_params["session_id"]
    try:
        values = session_values(request.state.form)
    except FormError as exc:
        return await _session_page(request, staff, session_id, exc.text(request_lang(request)))
    async with services_of(request).sessions() as db, db.begin():
        session = await db.get(ExamSession, session_id, with_for_update=True)
        if session is None:
            return error_page(request, staff, 404, "Sesi tidak ada.", "No such session.")
        values["exam_id"] = session.exam_id  # a session never changes exam
        seated = len(list(await db.scalars(
            select(SessionCandidate.candidate_id).where(SessionCandidate.session_id == session.id)
        )))  # fmt: skip
        if values["capacity"] is not None and values["capacity"] < seated:
            return await _session_page(
                request, staff, session_id,
                f"Kapasitas {values['capacity']} lebih kecil dari {seated} peserta yang sudah terjadwal."
                if request_lang(request) == "id"
                else f"A capacity of {values['capacity']} is below the {seated} candidates already scheduled.",
            )  # fmt: skip
        old, new = changed(snapshot(session, SESSION_FIELDS), values)
        for key, value in values.items():
            setattr(session, key, value)
        if new:
            record(db, staff.actor, "session.update", "session", session.id, old=old, new=new)
    await flash(request, staff, "Sesi disimpan.", "Session saved.")
    return redirect(f"/sesi/{session_id}")


NUMBERS = re.compile(r"[\s,;]+")


@page("sessions.edit")
async def session_add(request: Request, staff: Staff) -> Response:
    """By hand (participant numbers or NIKs, one per line) or by unit."""
    session_id = request.path_params["session_id"]
    form = request.state.form
    lang = request_lang(request)
    async with services_of(request).sessions() as db, db.begin():
        session = await db.get(ExamSession, session_id, with_for_update=True)
        if session is None:
            return error_page(request, staff, 404, "Sesi tidak ada.", "No such session.")
        unit = str(form.get("unit", "")).strip()
        if unit:
            from exam_server.staff.scheduling import unscheduled_for_exam

            ids, how = await unscheduled_for_exam(db, session.exam_id, unit), f"unit {unit}"
            unknown: list[str] = []
        else:
            wanted = [w for w in NUMBERS.split(str(form.get("numbers", "")).upper()) if w]
            by_number = select(Candidate.participant_no, Candidate.id).where(
                Candidate.participant_no.in_(wanted)
            )
            by_nik = select(Candidate.nik, Candidate.id).where(Candidate.nik.in_(wanted))
            found: dict[str, int] = {}
            for query in (by_number, by_nik):
                found.update({key: cid for key, cid in await db.execute(query)})
            ids, how = [found[w] for w in wanted if w in found], "hand"
            unknown = [w for w in wanted if w not in found]
        if unknown:
            return await _session_page(
                request, staff, session_id,
                ("Tidak dikenal: " if lang == "id" else "Unknown: ") + ", ".join(unknown[:50]),
            )  # fmt: skip
        try:
            added, elsewhere = await assign(db, staff.actor, session, ids, how)
        except SchedulingError as exc:
            return await _session_page(
                request, staff, session_id, exc.en_text if lang == "en" else exc.id_text
            )
    skipped = f" ({len(elsewhere)} sudah terjadwal di sesi lain)" if elsewhere else ""
    skipped_en = f" ({len(elsewhere)} already in another session)" if elsewhere else ""
    await flash(
        request,
        staff,
        f"{added} peserta ditambahkan{skipped}.",
        f"{added} candidates added{skipped_en}.",
    )
    return redirect(f"/sesi/{session_id}")


@page("sessions.edit")
async def exam_spread(request: Request, staff: Staff) -> Response:
    exam_id = request.path_params["exam_id"]
    unit = str(request.state.form.get("unit", "")).strip()
    try:
        async with services_of(request).sessions() as db, db.begin():
            if await db.get(Exam, exam_id, with_for_update=True) is None:
                return error_page(request, staff, 404, "Ujian tidak ada.", "No such exam.")
            counts = await spread(db, staff.actor, exam_id, unit)
    except SchedulingError as exc:
        await flash(request, staff, exc.id_text, exc.en_text)
        return redirect(f"/sesi?exam={exam_id}")
    total = sum(counts.values())
    await flash(request, staff, f"{total} peserta disebar ke {len(counts)} sesi.",
                f"{total} candidates spread over {len(counts)} sessions.")  # fmt: skip
    return redirect(f"/sesi?exam={exam_id}")


@page("sessions.edit")
async def session_move(request: Request, staff: Staff) -> Response:
    session_id = request.path_params["session_id"]
    form = request.state.form
    lang = request_lang(request)
    target_raw = str(form.get("target", ""))
    try:
        async with services_of(request).sessions() as db, db.begin():
            source = await db.get(ExamSession, session_id)
            target = await db.get(ExamSession, int(target_raw)) if target_raw.isdigit() else None
            number = str(form.get("participant_no", "")).strip().upper()
            candidate = await db.scalar(
                select(Candidate)
                .join(SessionCandidate, SessionCandidate.candidate_id == Candidate.id)
                .where(
                    Candidate.participant_no == number, SessionCandidate.session_id == session_id
                )
            )
            if source is None or target is None or candidate is None:
                raise SchedulingError("Peserta atau sesi tujuan tidak ada di sesi ini.",
                                      "The candidate or the target session is not there.")  # fmt: skip
            await move(db, staff.actor, candidate, source, target, str(form.get("reason", "")))
    except SchedulingError as exc:
        return await _session_page(
            request, staff, session_id, exc.en_text if lang == "en" else exc.id_text
        )
    await flash(
        request, staff, f"{number} dipindah ke {target.name}.", f"{number} moved to {target.name}."
    )
    return redirect(f"/sesi/{session_id}")


@page("sessions.edit")
async def session_proctor(request: Request, staff: Staff) -> Response:
    session_id = request.path_params["session_id"]
    form = request.state.form
    raw = str(form.get("staff_id", ""))
    remove = form.get("remove") == "1"
    async with services_of(request).sessions() as db, db.begin():
        session = await db.get(ExamSession, session_id)
        user = await db.get(StaffUser, int(raw)) if raw.isdigit() else None
        if session is None or user is None or user.role != "proctor":
            return error_page(request, staff, 400, "Pilih pengawas.", "Choose a proctor.")
        existing = await db.scalar(
            select(ProctorAssignment).where(
                ProctorAssignment.session_id == session_id, ProctorAssignment.staff_id == user.id
            )
        )
        if remove and existing is not None:
            await db.delete(existing)
            record(
                db,
                staff.actor,
                "session.proctor_remove",
                "session",
                session_id,
                old={"proctor": user.username},
            )
        elif not remove and existing is None:
            db.add(ProctorAssignment(session_id=session_id, staff_id=user.id))
            record(
                db,
                staff.actor,
                "session.proctor_add",
                "session",
                session_id,
                new={"proctor": user.username},
            )
    return redirect(f"/sesi/{session_id}")


routes = [
    Route("/sesi", session_list, methods=["GET"]),
    Route("/sesi", session_create, methods=["POST"]),
    Route("/sesi/{session_id:int}", session_view, methods=["GET"]),
    Route("/sesi/{session_id:int}", session_update, methods=["POST"]),
    Route("/sesi/{session_id:int}/token", session_token_page, methods=["GET"]),
    Route("/sesi/{session_id:int}/tambah", session_add, methods=["POST"]),
    Route("/sesi/{session_id:int}/pindah", session_move, methods=["POST"]),
    Route("/sesi/{session_id:int}/pengawas", session_proctor, methods=["POST"]),
    Route("/ujian/{exam_id:int}/sebar", exam_spread, methods=["POST"]),
]
