"""The room's papers from the database: who was seated, who came, what happened when.

The incident log is the audit log's proctor entries for the session (each action with
its reason and the minutes given), so the berita acara says exactly what was done.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from sqlalchemy import func, select

from exam_server.db.models import Attempt, Candidate, Exam, ExamSession, SessionCandidate
from exam_server.db.staff_models import AuditEntry, ProctorAssignment, StaffUser
from exam_server.delivery.services import Services
from exam_server.display import mask_nik, session_time
from exam_server.proctor.actions import ACTIONS
from exam_server.proctor.monitor import live_rows, roster
from exam_server.proctor.papers_pdf import (
    AttendanceLine,
    Incident,
    Report,
    ReportCounts,
    RoomHeader,
    render_attendance,
    render_report,
)


async def room_header(db: Any, session: ExamSession) -> RoomHeader:
    exam = await db.get(Exam, session.exam_id)
    proctors = list(
        await db.scalars(
            select(func.coalesce(func.nullif(StaffUser.full_name, ""), StaffUser.username))
            .join(ProctorAssignment, ProctorAssignment.staff_id == StaffUser.id)
            .where(ProctorAssignment.session_id == session.id)
            .order_by(StaffUser.username)
        )
    )
    start = session_time(session.starts_at, session, "%d-%m-%Y %H:%M")
    end = session_time(session.ends_at, session, "%H:%M")  # carries the zone: "09:40 WIB"
    return RoomHeader(
        exam.title if exam else "",
        session.name,
        session.room,
        f"{start.rpartition(' ')[0]}-{end}",
        proctors,
    )


async def attendance_pdf(services: Services, session: ExamSession) -> Callable[[], bytes]:
    async with services.sessions() as db:
        header = await room_header(db, session)
        people = (
            await db.execute(
                select(Candidate, SessionCandidate.seat)
                .join(SessionCandidate, SessionCandidate.candidate_id == Candidate.id)
                .where(SessionCandidate.session_id == session.id)
                .order_by(SessionCandidate.seat.nulls_last(), Candidate.participant_no)
            )
        ).all()
    lines = [
        AttendanceLine(i, c.participant_no, c.name, mask_nik(c.nik), c.unit, seat)
        for i, (c, seat) in enumerate(people, start=1)
    ]
    return lambda: render_attendance(header, lines)


def incident_of(session: ExamSession, entry: AuditEntry) -> Incident:
    kind = entry.action.removeprefix("proctor.")
    what = ACTIONS.get(kind, (kind, kind))[0]
    new = entry.new if isinstance(entry.new, dict) else {}
    if new.get("minutes"):
        what += f" {new['minutes']} menit"
    given = new.get("given_back_ms") or {}
    if given:
        what += " (" + ", ".join(f"{n} {round(ms / 60000)} menit" for n, ms in given.items()) + ")"
    if new.get("message"):
        what += f': "{new["message"]}"'
    numbers = new.get("participant_nos") or []
    if new.get("everyone") or kind == "end":
        who = f"semua peserta ({len(numbers)})"
    else:
        who = ", ".join(numbers) or "-"
    return Incident(
        session_time(entry.at, session, "%H:%M:%S"), what, who, entry.reason, entry.username
    )


async def report_data(services: Services, session: ExamSession) -> Report:
    async with services.sessions() as db:
        header = await room_header(db, session)
        scheduled = await db.scalar(
            select(func.count()).where(SessionCandidate.session_id == session.id)
        )
        by_status = dict(
            (
                await db.execute(
                    select(Attempt.status, func.count())
                    .where(Attempt.session_id == session.id)
                    .group_by(Attempt.status)
                )
            ).all()
        )
        disqualified = await db.scalar(
            select(func.count()).where(
                Attempt.session_id == session.id, Attempt.disqualified_at.is_not(None)
            )
        )
        entries = list(
            await db.scalars(
                select(AuditEntry)
                .where(
                    AuditEntry.entity == "session",
                    AuditEntry.entity_id == str(session.id),
                    AuditEntry.action.like("proctor.%"),
                )
                .order_by(AuditEntry.at, AuditEntry.id)
            )
        )
    present = sum(by_status.values())
    # Finished as the server knows it now: a submit is in Redis before PostgreSQL hears of it.
    live = await live_rows(services, await roster(services, session.id))
    finished = max(by_status.get("submitted", 0), sum(1 for r in live if r.st == "submitted"))
    given: dict[str, int] = {}
    for entry in entries:
        for number, ms in ((entry.new or {}).get("given_back_ms") or {}).items():
            given[number] = given.get(number, 0) + int(ms)
    counts = ReportCounts(
        int(scheduled or 0),
        present,
        int(scheduled or 0) - present,
        finished,
        int(disqualified or 0),
    )
    return Report(
        header,
        counts,
        [incident_of(session, e) for e in entries],
        sorted((n, round(ms / 60000)) for n, ms in given.items()),
        session_time(dt.datetime.now(dt.UTC), session),
    )


async def report_pdf(services: Services, session: ExamSession) -> Callable[[], bytes]:
    report = await report_data(services, session)
    return lambda: render_report(report)
