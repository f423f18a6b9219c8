"""Fixtures for the proctor's room: the in-process app on the run's real services, personas,
and a session of the demo exam holding a few demo candidates of its own."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from staff.conftest import admin, app, panitia, proctor, services

from exam_server.db.models import Candidate, Exam, ExamSession, SessionCandidate
from exam_server.db.staff_models import ProctorAssignment, StaffUser
from exam_server.delivery.credentials import generate_password, hash_password
from exam_server.demo.seed import EXAM_CODE, DemoCredential
from exam_server.settings import Settings

# The committee's app and personas, shared with tests/staff and tests/results.
__all__ = ["admin", "app", "panitia", "proctor", "services"]


@dataclass
class Room:
    session_id: int
    creds: list  # type: ignore[type-arg]  # demo credentials seated here, in seat order


@pytest.fixture()
def fresh(db_engine, settings: Settings, demo) -> Callable[[int], list[DemoCredential]]:  # type: ignore[no-untyped-def]
    """Make candidates of the test's own (the demo's sixty are shared by the whole suite)."""

    def make(count: int) -> list[DemoCredential]:
        tag = secrets.token_hex(3).upper()
        creds = []
        with Session(db_engine) as db, db.begin():
            for i in range(count):
                password = generate_password()
                cred = DemoCredential(f"RU-{tag}-{i + 1:02d}", password, f"Peserta {tag} {i + 1}")
                db.add(
                    Candidate(
                        nik=f"88{secrets.randbelow(10**14):014d}",
                        name=cred.name,
                        unit="Dinas Uji",
                        participant_no=cred.participant_no,
                        password_hash=hash_password(settings.secret_key_value, password),
                    )
                )
                creds.append(cred)
        return creds

    return make


@pytest.fixture()
def room(db_engine, fresh) -> Iterator[Room]:  # type: ignore[no-untyped-def]
    """A session running now with three candidates of its own."""
    yield make_room(db_engine, fresh(3))


def make_room(db_engine, creds, name: str = "Ruang uji") -> Room:  # type: ignore[no-untyped-def]
    now = dt.datetime.now(dt.UTC)
    with Session(db_engine) as db, db.begin():
        exam = db.scalar(select(Exam).where(Exam.code == EXAM_CODE))
        session = ExamSession(
            exam_id=exam.id,
            name=name,
            room="Lab 2",
            starts_at=now - dt.timedelta(minutes=5),
            ends_at=now + dt.timedelta(hours=2),
        )
        db.add(session)
        db.flush()
        for cred in creds:
            cand = db.scalar(
                select(Candidate).where(Candidate.participant_no == cred.participant_no)
            )
            db.query(SessionCandidate).filter(SessionCandidate.candidate_id == cand.id).delete()
            db.flush()
            db.add(SessionCandidate(session_id=session.id, candidate_id=cand.id))
            db.flush()
        return Room(session.id, list(creds))


def assign(db_engine, username: str, session_id: int) -> None:  # type: ignore[no-untyped-def]
    with Session(db_engine) as db, db.begin():
        staff_id = db.scalar(select(StaffUser.id).where(StaffUser.username == username))
        db.add(ProctorAssignment(staff_id=staff_id, session_id=session_id))
