"""Putting candidates into sessions: by hand, by unit, or spread by capacity.

A candidate sits at most one session of an exam, and a session never holds more than
its capacity. The spreading plan is a pure function; the rest is thin database work.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from exam_server.db.audit import Actor, record
from exam_server.db.models import Attempt, Candidate, ExamSession, SessionCandidate
from exam_server.refusal import Refusal


class SchedulingError(Refusal):
    """A seating or session change the capacity and attempt rules refuse."""


@dataclass(frozen=True)
class Room:
    session_id: int
    free: int | None  # None: no capacity limit


def plan_spread(candidate_ids: Sequence[int], rooms: Sequence[Room]) -> dict[int, list[int]]:
    """Balance candidates over sessions, filling each up to its free places.

    Water-filling: every session gets the same number where room allows, and the sessions
    that are full sooner hand their share to the others. Candidates keep their order
    (sorted by unit by the caller), so a unit mostly sits together; earlier sessions get
    the remainder.
    """
    if not rooms:
        raise SchedulingError("Ujian ini belum punya sesi.", "This exam has no sessions yet.")
    total_free = sum(r.free for r in rooms if r.free is not None)
    if all(r.free is not None for r in rooms) and len(candidate_ids) > total_free:
        short = len(candidate_ids) - total_free
        raise SchedulingError(
            f"Kapasitas kurang {short} tempat untuk {len(candidate_ids)} peserta.",
            f"Capacity is {short} places short for {len(candidate_ids)} candidates.",
        )
    counts = {r.session_id: 0 for r in rooms}
    left = len(candidate_ids)
    open_rooms = list(rooms)
    while left and open_rooms:
        share, extra = divmod(left, len(open_rooms))
        still_open = []
        given_total = 0
        for i, room in enumerate(open_rooms):
            want = share + (1 if i < extra else 0)
            room_left = None if room.free is None else room.free - counts[room.session_id]
            give = want if room_left is None else min(want, room_left)
            counts[room.session_id] += give
            given_total += give
            if room_left is None or counts[room.session_id] < (room.free or 0):
                still_open.append(room)
        left -= given_total
        if given_total == 0:
            break
        open_rooms = still_open
    plan: dict[int, list[int]] = {}
    start = 0
    for room in rooms:
        plan[room.session_id] = list(candidate_ids[start : start + counts[room.session_id]])
        start += counts[room.session_id]
    return plan


async def seats_taken(db: AsyncSession, session_id: int) -> int:
    return (
        await db.scalar(select(func.count()).where(SessionCandidate.session_id == session_id)) or 0
    )


async def _already_in_exam(db: AsyncSession, exam_id: int, ids: Sequence[int]) -> dict[int, str]:
    rows = await db.execute(
        select(SessionCandidate.candidate_id, ExamSession.name)
        .join(ExamSession, ExamSession.id == SessionCandidate.session_id)
        .where(ExamSession.exam_id == exam_id, SessionCandidate.candidate_id.in_(ids))
    )
    return {cid: name for cid, name in rows}


async def assign(
    db: AsyncSession, actor: Actor, session: ExamSession, candidate_ids: Sequence[int], how: str
) -> tuple[int, dict[int, str]]:
    """Add candidates; returns (added, {candidate_id: session they already sit})."""
    ids = list(dict.fromkeys(candidate_ids))
    elsewhere = await _already_in_exam(db, session.exam_id, ids)
    new_ids = [i for i in ids if i not in elsewhere]
    if session.capacity is not None:
        free = session.capacity - await seats_taken(db, session.id)
        if len(new_ids) > free:
            raise SchedulingError(
                f"Sesi {session.name} hanya punya {max(free, 0)} tempat kosong untuk "
                f"{len(new_ids)} peserta.",
                f"Session {session.name} has only {max(free, 0)} free places for "
                f"{len(new_ids)} candidates.",
            )
    if new_ids:
        for start in range(0, len(new_ids), 1000):
            await db.execute(
                insert(SessionCandidate)
                .values(
                    [
                        {"session_id": session.id, "candidate_id": c}
                        for c in new_ids[start : start + 1000]
                    ]
                )
                .on_conflict_do_nothing()
            )
        numbers = list(
            await db.scalars(select(Candidate.participant_no).where(Candidate.id.in_(new_ids)))
        )
        record(
            db,
            actor,
            "session.assign",
            "session",
            session.id,
            new={"how": how, "participant_nos": sorted(numbers)},
        )
    return len(new_ids), elsewhere


async def unscheduled_for_exam(db: AsyncSession, exam_id: int, unit: str = "") -> list[int]:
    in_exam = (
        select(SessionCandidate.candidate_id)
        .join(ExamSession, ExamSession.id == SessionCandidate.session_id)
        .where(ExamSession.exam_id == exam_id)
    )
    query = select(Candidate.id).where(Candidate.id.not_in(in_exam))
    if unit:
        query = query.where(Candidate.unit == unit)
    return list(await db.scalars(query.order_by(Candidate.unit, Candidate.participant_no)))


async def spread(db: AsyncSession, actor: Actor, exam_id: int, unit: str = "") -> dict[int, int]:
    sessions = list(
        await db.scalars(
            select(ExamSession)
            .where(ExamSession.exam_id == exam_id)
            .order_by(ExamSession.starts_at, ExamSession.id)
        )
    )
    rooms = []
    for s in sessions:
        free = None if s.capacity is None else max(0, s.capacity - await seats_taken(db, s.id))
        rooms.append(Room(s.id, free))
    ids = await unscheduled_for_exam(db, exam_id, unit)
    plan = plan_spread(ids, rooms)
    by_id = {s.id: s for s in sessions}
    for session_id, chosen in plan.items():
        if chosen:
            await assign(
                db, actor, by_id[session_id], chosen, "spread" + (f" unit={unit}" if unit else "")
            )
    return {sid: len(chosen) for sid, chosen in plan.items()}


async def has_started(db: AsyncSession, candidate_id: int, session_id: int) -> bool:
    """Whether the candidate has an attempt in the session: then their seat is evidence."""
    found = await db.scalar(
        select(Attempt.id).where(
            Attempt.candidate_id == candidate_id, Attempt.session_id == session_id
        )
    )
    return found is not None


async def seated_candidate(db: AsyncSession, session_id: int, participant_no: str) -> Candidate:
    number = participant_no.strip().upper()
    candidate = await db.scalar(
        select(Candidate)
        .join(SessionCandidate, SessionCandidate.candidate_id == Candidate.id)
        .where(Candidate.participant_no == number, SessionCandidate.session_id == session_id)
    )
    if candidate is None:
        raise SchedulingError(
            f"{number} tidak terjadwal di sesi ini.", f"{number} is not scheduled in this session."
        )
    return candidate


async def move(
    db: AsyncSession,
    actor: Actor,
    candidate: Candidate,
    source: ExamSession,
    target: ExamSession,
    reason: str,
) -> None:
    if not reason.strip():
        raise SchedulingError(
            "Alasan pemindahan wajib diisi.", "A reason for the move is required."
        )
    if target.exam_id != source.exam_id or target.id == source.id:
        raise SchedulingError(
            "Pindahkan hanya ke sesi lain dari ujian yang sama.",
            "Move only to another session of the same exam.",
        )
    if await has_started(db, candidate.id, source.id):
        raise SchedulingError(
            "Peserta sudah mulai ujian di sesi ini; tidak dapat dipindah.",
            "The candidate has already started in this session and cannot be moved.",
        )
    if target.capacity is not None and await seats_taken(db, target.id) >= target.capacity:
        raise SchedulingError(f"Sesi {target.name} sudah penuh.", f"Session {target.name} is full.")
    await db.execute(
        delete(SessionCandidate).where(
            SessionCandidate.session_id == source.id, SessionCandidate.candidate_id == candidate.id
        )
    )
    db.add(SessionCandidate(session_id=target.id, candidate_id=candidate.id))
    record(
        db,
        actor,
        "session.move",
        "candidate",
        candidate.id,
        old={"session_id": source.id, "session": source.name},
        new={"session_id": target.id, "session": target.name},
        reason=reason.strip(),
    )
