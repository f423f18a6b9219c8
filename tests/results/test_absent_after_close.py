"""Absent only after the session closed (docs/results.md): while a session is open, a
candidate without an attempt is "scheduled, not started" on the results page and in the
export, as on the dashboard; once it closed, they are absent everywhere."""

from __future__ import annotations

import datetime as dt

from results.builders import add_candidate, build_exam, grade_all
from sqlalchemy import update
from sqlalchemy.orm import Session

from exam_server.db.models import ExamSession


async def test_absent_only_after_the_session_closed(db_engine, services, admin) -> None:  # type: ignore[no-untyped-def]
    built = build_exam(db_engine)
    add_candidate(db_engine, built, "Sudah Selesai", ["A"] * 8)
    add_candidate(db_engine, built, "Belum Datang", None)
    await grade_all(services, built)
    page = await admin.get(f"/panitia/hasil/ujian/{built.exam_id}")
    assert "tidak hadir" not in page.text and "terjadwal, belum mulai" in page.text
    csv = await admin.get(f"/panitia/hasil/ujian/{built.exam_id}/hasil.csv")
    assert "tidak hadir" not in csv.text and "terjadwal, belum mulai" in csv.text

    with Session(db_engine) as db, db.begin():
        db.execute(
            update(ExamSession)
            .where(ExamSession.id == built.session_ids[0])
            .values(ends_at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1))
        )
    page = await admin.get(f"/panitia/hasil/ujian/{built.exam_id}")
    assert "tidak hadir" in page.text and "belum mulai" not in page.text
    csv = await admin.get(f"/panitia/hasil/ujian/{built.exam_id}/hasil.csv")
    assert "tidak hadir" in csv.text
