"""Sessions in PostgreSQL: the changes the session pages and ``tkd sessions`` share.

Schedule and room, the rotating token, who sits where (by hand, by unit; spreading and
moving live in ``scheduling``), proctors, and the participant cards of a session.
Refusals raise ``FormError``/``SchedulingError`` before anything is written.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from exam_server.db.audit import Actor, changed, record, snapshot
from exam_server.db.models import Attempt, Candidate, Exam, ExamSession, SessionCandidate
from exam_server.db.staff_models import CredentialIssue, ProctorAssignment, StaffUser
from exam_server.delivery.credentials import session_token
from exam_server.display import (
    DEFAULT_TIME_ZONE,
    ZONE_CHOICES,
    mask_nik_public,
    zone_label,
    zone_name,
)
from exam_server.settings import valid_time_zone
from exam_server.staff.candidates_store import issue_passwords
from exam_server.staff.cards import Card
from exam_server.staff.exam_forms import FormError, Problems, local_datetime
from exam_server.staff.scheduling import (
    SchedulingError,
    assign,
    has_started,
    seated_candidate,
    seats_taken,
    unscheduled_for_exam,
)

SESSION_FIELDS = (
    "exam_id",
    "name",
    "room",
    "starts_at",
    "ends_at",
    "capacity",
    "token_required",
    "token_period_s",
    "time_zone",
)
TIME_ZONES = ZONE_CHOICES
NUMBERS = re.compile(r"[\s,;]+")
DAYS_ID = ["Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu"]
DAYS_EN = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


def session_values(
    form: Mapping[str, Any], default_zone: str = DEFAULT_TIME_ZONE
) -> dict[str, Any]:
    """The session form (date, start, end in the session's zone; token minutes) as values;
    every problem is reported at once."""
    problems = Problems()
    name = str(form.get("name", "")).strip()
    if not name or len(name) > 200:
        problems.add("Nama sesi wajib diisi.", "A session name is required.")
    zone = str(form.get("time_zone", "") or "").strip() or default_zone
    if zone not in TIME_ZONES and not valid_time_zone(zone):
        problems.add(f"Zona waktu {zone} tidak dikenal.", f"Unknown time zone {zone}.")
        zone = default_zone
    date = str(form.get("date", "")).strip()
    starts = problems.take(lambda: local_datetime(date, str(form.get("start", "")).strip(), zone))
    ends = problems.take(lambda: local_datetime(date, str(form.get("end", "")).strip(), zone))
    if starts is not None and ends is not None and ends <= starts:
        problems.add("Jam selesai harus setelah jam mulai.", "The end must be after the start.")
    capacity_raw = str(form.get("capacity", "") or "").strip()
    if capacity_raw and not (capacity_raw.isdigit() and int(capacity_raw) > 0):
        problems.add(
            "Kapasitas harus bilangan bulat positif.", "Capacity must be a positive whole number."
        )
    period_raw = str(form.get("token_minutes", "") or "").strip() or "15"
    if not period_raw.isdigit() or not 1 <= int(period_raw) <= 24 * 60:
        problems.add("Periode token 1-1440 menit.", "The token period is 1-1440 minutes.")
    exam_raw = str(form.get("exam_id", ""))
    if not exam_raw.isdigit():
        problems.add("Pilih ujian.", "Choose an exam.")
    problems.done()
    return {
        "exam_id": int(exam_raw),
        "name": name,
        "room": str(form.get("room", "") or "").strip()[:200],
        "starts_at": starts,
        "ends_at": ends,
        "capacity": int(capacity_raw) if capacity_raw else None,
        "token_required": form.get("token_required") == "1",
        "token_period_s": int(period_raw) * 60,
        "time_zone": zone,
    }


def session_form(session: ExamSession) -> dict[str, str]:
    """A session's current values as the session form's fields (local date and times)."""
    zone = ZoneInfo(zone_name(session))
    start, end = session.starts_at.astimezone(zone), session.ends_at.astimezone(zone)
    return {
        "exam_id": str(session.exam_id),
        "name": session.name,
        "room": session.room or "",
        "time_zone": zone_name(session),
        "date": f"{start:%Y-%m-%d}",
        "start": f"{start:%H:%M}",
        "end": f"{end:%H:%M}",
        "capacity": "" if session.capacity is None else str(session.capacity),
        "token_required": "1" if session.token_required else "",
        "token_minutes": str(session.token_period_s // 60),
    }


def token_now(secret: str, session: ExamSession, now: float | None = None) -> tuple[str, int]:
    """The current token and the seconds until it changes."""
    now = time.time() if now is None else now
    period = session.token_period_s
    return session_token(secret, session.id, period, now), int(period - now % period)


def when_text(session: ExamSession, lang: str) -> str:
    name = zone_name(session)
    zone = ZoneInfo(name)
    start, end = session.starts_at.astimezone(zone), session.ends_at.astimezone(zone)
    day = (DAYS_EN if lang == "en" else DAYS_ID)[start.weekday()]
    return f"{day} {start:%d-%m-%Y %H:%M}-{end:%H:%M} {zone_label(name, start)}"


async def get_session(db: AsyncSession, session_id: int, lock: bool = False) -> ExamSession | None:
    """The session, or None; ``lock`` holds its row (FOR UPDATE) until the caller commits."""
    return await db.get(ExamSession, session_id, with_for_update=lock)


async def sessions_by_start(
    db: AsyncSession, *, exam_id: int | None = None, proctor_id: int | None = None
) -> list[ExamSession]:
    """Sessions in start order; of one exam, and/or only those assigned to one proctor."""
    # Sessions starting together (two rooms at 08:00) keep one order: the order they were made.
    query = select(ExamSession).order_by(ExamSession.starts_at, ExamSession.id)
    if exam_id is not None:
        query = query.where(ExamSession.exam_id == exam_id)
    if proctor_id is not None:
        query = query.join(ProctorAssignment, ProctorAssignment.session_id == ExamSession.id).where(
            ProctorAssignment.staff_id == proctor_id
        )
    return list(await db.scalars(query))


async def sessions_with_exams(
    db: AsyncSession, *, exam_id: int | None = None, proctor_id: int | None = None
) -> list[tuple[ExamSession, Exam]]:
    """Each session with its exam, in start order; of one exam, and/or only those assigned
    to one proctor."""
    query = select(ExamSession, Exam).join(Exam, Exam.id == ExamSession.exam_id)
    if proctor_id is not None:
        query = query.join(ProctorAssignment, ProctorAssignment.session_id == ExamSession.id).where(
            ProctorAssignment.staff_id == proctor_id
        )
    if exam_id is not None:
        query = query.where(ExamSession.exam_id == exam_id)
    rows = await db.execute(query.order_by(ExamSession.starts_at))
    return [(session, exam) for session, exam in rows]


async def other_sessions(db: AsyncSession, session: ExamSession) -> list[ExamSession]:
    """The exam's other sessions, in start order: where a candidate may be moved to."""
    return list(
        await db.scalars(
            select(ExamSession)
            .where(ExamSession.exam_id == session.exam_id, ExamSession.id != session.id)
            .order_by(ExamSession.starts_at)
        )
    )


@dataclass(frozen=True)
class SessionPeople:
    """One page of a session's candidates, each with their attempt's status (None: not
    logged in yet), how many match the search, and how many sit in the session in all."""

    people: list[tuple[Candidate, str | None]]
    matching: int
    seated: int


async def session_people(
    db: AsyncSession, session_id: int, search: str, page_no: int, per_page: int
) -> SessionPeople:
    """The session's candidates by participant number, page ``page_no`` (from 1); ``search``
    matches part of a name, participant number or NIK."""
    listed = (
        select(Candidate, Attempt.status)
        .join(SessionCandidate, SessionCandidate.candidate_id == Candidate.id)
        .outerjoin(
            Attempt,
            (Attempt.candidate_id == Candidate.id) & (Attempt.session_id == session_id),
        )
        .where(SessionCandidate.session_id == session_id)
    )
    if search:
        like = f"%{search}%"
        listed = listed.where(
            Candidate.name.ilike(like)
            | Candidate.participant_no.ilike(like)
            | Candidate.nik.ilike(like)
        )
    matching = await db.scalar(select(func.count()).select_from(listed.subquery())) or 0
    seated = (
        await db.scalar(select(func.count()).where(SessionCandidate.session_id == session_id)) or 0
    )
    rows = await db.execute(
        listed.order_by(Candidate.participant_no).offset((page_no - 1) * per_page).limit(per_page)
    )
    return SessionPeople([(c, status) for c, status in rows], int(matching), int(seated))


async def session_has_begun(db: AsyncSession, session_id: int) -> bool:
    """Whether any candidate has started in the session."""
    return bool(
        await db.scalar(select(Attempt.id).where(Attempt.session_id == session_id).limit(1))
    )


async def session_proctor_ids(db: AsyncSession, session_id: int) -> set[int]:
    """The staff ids of the proctors assigned to the session."""
    return set(
        await db.scalars(
            select(ProctorAssignment.staff_id).where(ProctorAssignment.session_id == session_id)
        )
    )


async def find_session(db: AsyncSession, session_id: int | str, lock: bool = False) -> ExamSession:
    text = str(session_id).strip()
    session = await db.get(ExamSession, int(text), with_for_update=lock) if text.isdigit() else None
    if session is None:
        raise FormError(f"Sesi {text} tidak ada.", f"No session {text}.")
    return session


async def create_session(db: AsyncSession, actor: Actor, values: dict[str, Any]) -> ExamSession:
    if await db.get(Exam, values["exam_id"]) is None:
        raise FormError("Ujian tidak ada.", "No such exam.")
    session = ExamSession(**values)
    db.add(session)
    await db.flush()
    record(db, actor, "session.create", "session", session.id, new=values)
    return session


async def update_session(
    db: AsyncSession, actor: Actor, session: ExamSession, values: dict[str, Any]
) -> bool:
    """Whether anything changed; a session never changes exam nor shrinks below its seats."""
    values = {**values, "exam_id": session.exam_id}
    seated = await seats_taken(db, session.id)
    if values["capacity"] is not None and values["capacity"] < seated:
        raise FormError(
            f"Kapasitas {values['capacity']} lebih kecil dari {seated} peserta yang sudah terjadwal.",
            f"A capacity of {values['capacity']} is below the {seated} candidates already scheduled.",
        )
    old, new = changed(snapshot(session, SESSION_FIELDS), values)
    for key, value in values.items():
        setattr(session, key, value)
    if new:
        record(db, actor, "session.update", "session", session.id, old=old, new=new)
    return bool(new)


async def candidate_ids(db: AsyncSession, wanted_text: str) -> list[int]:
    """Participant numbers or NIKs (one per line, or separated by commas) as candidate ids."""
    wanted = [w for w in NUMBERS.split(wanted_text.upper()) if w]
    found: dict[str, int] = {}
    for column in (Candidate.participant_no, Candidate.nik):
        for start in range(0, len(wanted), 5000):
            chunk = wanted[start : start + 5000]
            rows = await db.execute(select(column, Candidate.id).where(column.in_(chunk)))
            found.update({key: cid for key, cid in rows})
    unknown = [w for w in wanted if w not in found]
    if unknown:
        shown = ", ".join(unknown[:50]) + (" …" if len(unknown) > 50 else "")
        raise SchedulingError(f"Tidak dikenal: {shown}", f"Unknown: {shown}")
    return [found[w] for w in wanted]


async def add_to_session(
    db: AsyncSession, actor: Actor, session: ExamSession, numbers: str = "", unit: str = ""
) -> tuple[int, dict[int, str]]:
    """By hand (numbers or NIKs) or every unscheduled candidate of a unit; see ``assign``."""
    if unit.strip():
        ids = await unscheduled_for_exam(db, session.exam_id, unit.strip())
        return await assign(db, actor, session, ids, f"unit {unit.strip()}")
    return await assign(db, actor, session, await candidate_ids(db, numbers), "hand")


async def remove_from_session(
    db: AsyncSession, actor: Actor, session: ExamSession, participant_no: str, reason: str
) -> Candidate:
    """Take a candidate off a session they have not started (wrongly scheduled, withdrawn)."""
    if not reason.strip():
        raise SchedulingError("Alasan wajib diisi.", "A reason is required.")
    candidate = await seated_candidate(db, session.id, participant_no)
    if await has_started(db, candidate.id, session.id):
        raise SchedulingError(
            "Peserta sudah mulai ujian di sesi ini; tidak dapat dikeluarkan.",
            "The candidate has already started in this session and cannot be removed.",
        )
    await db.execute(
        delete(SessionCandidate).where(
            SessionCandidate.session_id == session.id, SessionCandidate.candidate_id == candidate.id
        )
    )
    record(
        db,
        actor,
        "session.unassign",
        "candidate",
        candidate.id,
        old={"session_id": session.id, "session": session.name},
        reason=reason.strip(),
    )
    return candidate


async def delete_session(db: AsyncSession, actor: Actor, session: ExamSession, reason: str) -> None:
    """Delete a session nobody has started; its candidates become unscheduled."""
    if not reason.strip():
        raise SchedulingError("Alasan wajib diisi.", "A reason is required.")
    if await db.scalar(select(Attempt.id).where(Attempt.session_id == session.id).limit(1)):
        raise SchedulingError(
            "Peserta sudah mulai ujian di sesi ini; sesi tidak dapat dihapus.",
            "Candidates have started in this session; it cannot be deleted.",
        )
    numbers = list(
        await db.scalars(
            select(Candidate.participant_no)
            .join(SessionCandidate, SessionCandidate.candidate_id == Candidate.id)
            .where(SessionCandidate.session_id == session.id)
            .order_by(Candidate.participant_no)
        )
    )
    old = {**snapshot(session, SESSION_FIELDS), "participant_nos": numbers}
    await db.execute(delete(SessionCandidate).where(SessionCandidate.session_id == session.id))
    await db.delete(session)
    record(db, actor, "session.delete", "session", session.id, old=old, reason=reason.strip())


async def set_proctor(
    db: AsyncSession, actor: Actor, session: ExamSession, user: StaffUser | None, remove: bool
) -> None:
    if user is None or user.role != "proctor" or not user.active:
        raise FormError("Pilih pengawas.", "Choose a proctor.")
    existing = await db.scalar(
        select(ProctorAssignment).where(
            ProctorAssignment.session_id == session.id, ProctorAssignment.staff_id == user.id
        )
    )
    if remove and existing is not None:
        await db.delete(existing)
        record(
            db,
            actor,
            "session.proctor_remove",
            "session",
            session.id,
            old={"proctor": user.username},
        )
    elif not remove and existing is None:
        db.add(ProctorAssignment(session_id=session.id, staff_id=user.id))
        record(
            db, actor, "session.proctor_add", "session", session.id, new={"proctor": user.username}
        )


async def session_cards(
    db: AsyncSession,
    actor: Actor,
    secret_key: str,
    session: ExamSession,
    which: str,
    lang: str,
    login_url: str = "",
) -> list[Card]:
    """Cards with fresh passwords: for everybody (``which`` "all") or those without one yet.

    Issuing replaces the earlier passwords, so the cards are made only when printed. A
    candidate who has started this session keeps their password: a reprint never locks
    out somebody in the middle of the exam (see ``started_in_session``).
    """
    exam = await db.get(Exam, session.exam_id)
    assert exam is not None
    query = (
        select(Candidate)
        .join(SessionCandidate, SessionCandidate.candidate_id == Candidate.id)
        .where(SessionCandidate.session_id == session.id)
    )
    if which != "all":
        query = query.where(Candidate.id.not_in(select(CredentialIssue.candidate_id)))
    query = query.where(
        Candidate.id.not_in(select(Attempt.candidate_id).where(Attempt.session_id == session.id))
    )
    people = {c.id: c for c in await db.scalars(query)}
    seats = dict(
        (
            await db.execute(
                select(SessionCandidate.candidate_id, SessionCandidate.seat).where(
                    SessionCandidate.session_id == session.id
                )
            )
        ).all()
    )
    if not people:
        return []
    issued = await issue_passwords(
        db, actor, secret_key, list(people), f"cards session={session.id} which={which}"
    )
    when = when_text(session, lang)
    return [
        Card(
            name=people[i.candidate_id].name,
            participant_no=i.participant_no,
            password=i.password,
            exam_title=exam.title,
            session=session.name,
            when=when,
            room=session.room,
            unit=people[i.candidate_id].unit,
            nik_masked=mask_nik_public(people[i.candidate_id].nik),
            birth_date=_birth(people[i.candidate_id]),
            login_url=login_url,
            seat=seats.get(i.candidate_id),
        )
        for i in issued
    ]


def _birth(candidate: Candidate) -> str:
    born = candidate.birth_date
    return f"{born:%d-%m-%Y}" if born else ""


async def started_in_session(db: AsyncSession, session_id: int) -> int:
    """How many of the session's candidates have started (a reprint skips them)."""
    return int(
        await db.scalar(select(func.count(Attempt.id)).where(Attempt.session_id == session_id)) or 0
    )


async def seat_counts(db: AsyncSession, session_ids: list[int]) -> dict[int, int]:
    rows = await db.execute(
        select(SessionCandidate.session_id, func.count())
        .where(SessionCandidate.session_id.in_(session_ids))
        .group_by(SessionCandidate.session_id)
    )
    return {sid: n for sid, n in rows}
