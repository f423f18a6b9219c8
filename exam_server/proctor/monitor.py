"""The proctor's live view of a session, read from PostgreSQL (who sits where) and Redis
(each attempt's checkpoint and presence): one snapshot in three round trips."""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select

from exam_server.db.models import Attempt, Candidate, ExamSession, SessionCandidate
from exam_server.db.staff_models import ProctorAssignment
from exam_server.delivery.checkpoint import attempt_key
from exam_server.delivery.presence import STALE_MS, live_key
from exam_server.delivery.services import Services
from exam_server.proctor import lockouts
from exam_server.proctor.room import Row, Seat, counts, make_row, mass_disconnect


def now_ms() -> int:
    return int(time.time() * 1000)


async def roster(services: Services, session_id: int) -> list[Seat]:
    async with services.sessions() as db:
        rows = (
            await db.execute(
                select(Candidate, SessionCandidate.seat, Attempt)
                .join(SessionCandidate, SessionCandidate.candidate_id == Candidate.id)
                .outerjoin(
                    Attempt,
                    (Attempt.candidate_id == Candidate.id) & (Attempt.session_id == session_id),
                )
                .where(SessionCandidate.session_id == session_id)
                .order_by(SessionCandidate.seat.nulls_last(), Candidate.participant_no)
            )
        ).all()
    return [
        Seat(
            c.id,
            c.participant_no,
            c.name,
            c.unit,
            c.nik,
            seat,
            a.id if a else None,
            len(a.question_ids) if a else 0,
            a.status if a else "",
            a.disqualified_reason if a else None,
        )
        for c, seat, a in rows
    ]


async def live_rows(services: Services, seats: list[Seat], now: int | None = None) -> list[Row]:
    now = now_ms() if now is None else now
    redis = services.redis
    async with redis.pipeline(transaction=False) as pipe:
        for seat in seats:
            if seat.attempt_id is not None:
                pipe.hgetall(attempt_key(seat.attempt_id))
                pipe.hgetall(live_key(seat.attempt_id))
        found = iter(await pipe.execute())
    locked = await lockouts.locked_numbers(services, [s.participant_no for s in seats])
    rows = []
    for seat in seats:
        checkpoint, live = (next(found), next(found)) if seat.attempt_id is not None else ({}, {})
        rows.append(
            make_row(seat, checkpoint or None, live, now, STALE_MS, seat.participant_no in locked)
        )
    return rows


@dataclass
class Snapshot:
    now_ms: int
    rows: list[Row]
    counts: dict[str, int]
    alarm: dict[str, Any] | None
    row_json: list[dict[str, Any]] = field(default_factory=list)

    def head(self) -> dict[str, Any]:
        return {"now_ms": self.now_ms, "counts": self.counts, "alarm": self.alarm}


async def snapshot(services: Services, seats: list[Seat]) -> Snapshot:
    now = now_ms()
    rows = await live_rows(services, seats, now)
    alarm = mass_disconnect(rows, now, services.settings.proctor_mass_disconnect)
    return Snapshot(
        now, rows, counts(rows), alarm.as_json() if alarm else None, [r.as_json() for r in rows]
    )


async def sessions_today(
    services: Services, staff_id: int | None, today: dt.date, zone: Any
) -> list[tuple[ExamSession, int, int, int]]:
    """Sessions overlapping ``today`` in ``zone``: (session, seated, started, submitted).

    ``staff_id`` None: every session (admin, panitia); otherwise a proctor's own.
    """
    start = dt.datetime.combine(today, dt.time(0, 0), zone)
    end = start + dt.timedelta(days=1)
    query = select(ExamSession).where(ExamSession.starts_at < end, ExamSession.ends_at > start)
    if staff_id is not None:
        query = query.join(ProctorAssignment, ProctorAssignment.session_id == ExamSession.id).where(
            ProctorAssignment.staff_id == staff_id
        )
    async with services.sessions() as db:
        sessions = list(await db.scalars(query.order_by(ExamSession.starts_at)))
        ids = [s.id for s in sessions]
        seated = (
            dict(
                (
                    await db.execute(
                        select(SessionCandidate.session_id, func.count())
                        .where(SessionCandidate.session_id.in_(ids))
                        .group_by(SessionCandidate.session_id)
                    )
                ).all()
            )
            if ids
            else {}
        )
        started: dict[int, int] = {}
        done: dict[int, int] = {}
        if ids:
            for sid, status, n in (
                await db.execute(
                    select(Attempt.session_id, Attempt.status, func.count())
                    .where(Attempt.session_id.in_(ids))
                    .group_by(Attempt.session_id, Attempt.status)
                )
            ).all():
                started[sid] = started.get(sid, 0) + n
                if status == "submitted":
                    done[sid] = done.get(sid, 0) + n
    return [(s, seated.get(s.id, 0), started.get(s.id, 0), done.get(s.id, 0)) for s in sessions]
