"""A session in Makassar runs on WITA (docs/committee.md, "Time zones"): 08:00 WITA reads
08:00 WITA on every surface a person sees, never WIB and never a bare time."""

from __future__ import annotations

import datetime as dt
import re
import zlib

from results.builders import add_candidate, build_exam, grade_all
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from exam_server.db.models import ExamSession
from exam_server.results.slip_pdf import render_slip
from exam_server.results.store import slip_for_attempt
from exam_server.staff.sessions_store import when_text

# 00:00 UTC is 08:00 WITA (UTC+8) and 07:00 WIB.
START = dt.datetime(2026, 12, 7, 0, 0, tzinfo=dt.UTC)


def _pdf_text(data: bytes) -> str:
    out = []
    for stream in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", data, re.S):
        try:
            out.append(zlib.decompress(stream).decode("latin-1"))
        except zlib.error:
            out.append(stream.decode("latin-1"))
    return "".join(out)


def _only_wita(text: str) -> None:
    assert "WITA" in text
    assert "WIB" not in text


async def test_a_wita_session_reads_wita_everywhere(
    db_engine,
    services,
    admin,
    anonymous,  # type: ignore[no-untyped-def]
) -> None:
    built = build_exam(db_engine)
    sid = built.session_ids[0]
    pno = add_candidate(db_engine, built, "Wayan Makassar", ["A"] * 8)
    await grade_all(services, built)
    with Session(db_engine) as db, db.begin():
        db.execute(
            update(ExamSession)
            .where(ExamSession.id == sid)
            .values(
                time_zone="Asia/Makassar", starts_at=START, ends_at=START + dt.timedelta(hours=2)
            )
        )
        session = db.get(ExamSession, sid)
        assert session is not None
        card_when = when_text(session, "id")
    assert card_when.endswith("08:00-10:00 WITA"), card_when

    # (The list of all sessions also holds other tests' WIB sessions: this one's page does.)
    for path in (
        f"/panitia/sesi/{sid}",
        f"/panitia/dasbor/sesi/{sid}",
        f"/panitia/pengawas/{sid}",
        f"/panitia/hasil/percobaan/{built.attempts[pno]}",
    ):
        page = await admin.get(path)
        assert page.status_code == 200, path
        assert "08:00 WITA" in page.text or re.search(r"\d\d:\d\d(:\d\d)? WITA", page.text), path
        assert "WIB" not in page.text.replace("WIB (Jakarta", "").replace("WIB (Pontianak", ""), (
            path
        )
    csv = await admin.get(f"/panitia/hasil/ujian/{built.exam_id}/hasil.csv")
    assert re.search(r"\d\d:\d\d:\d\d WITA", csv.text) and "WIB" not in csv.text

    token = services.tokens.issue(built.attempts[pno], built.candidates[pno], "id")
    slip_page = await anonymous.post("/hasil", data={"token": token})
    _only_wita(slip_page.text.split("<main", 1)[1])
    async with services.sessions() as db:
        found = await slip_for_attempt(db, built.attempts[pno], dt.datetime.now(dt.UTC))
    assert found.slip is not None
    _only_wita(_pdf_text(render_slip(found.slip, "http://x/verify?code=1", unicode_font=False)))


async def test_the_session_form_reads_times_in_the_chosen_zone(db_engine, panitia) -> None:  # type: ignore[no-untyped-def]
    built = build_exam(db_engine)
    resp = await panitia.post(
        "/panitia/sesi",
        {
            "exam_id": str(built.exam_id),
            "name": "Sesi Jayapura",
            "room": "Aula",
            "date": "2026-12-07",
            "start": "08:00",
            "end": "10:00",
            "token_minutes": "15",
            "time_zone": "Asia/Jayapura",
        },
    )
    assert resp.status_code == 303, resp.text[:300]
    with Session(db_engine) as db:
        session = db.scalar(select(ExamSession).where(ExamSession.name == "Sesi Jayapura"))
        assert session is not None and session.time_zone == "Asia/Jayapura"
        assert session.starts_at == START - dt.timedelta(hours=1)  # 08:00 WIT is 23:00 UTC
    bad = await panitia.post(
        "/panitia/sesi",
        {
            "exam_id": str(built.exam_id),
            "name": "Sesi Mars",
            "date": "2026-12-07",
            "start": "08:00",
            "end": "10:00",
            "time_zone": "Mars/Olympus",
        },
    )
    assert bad.status_code == 400 and "Zona waktu Mars/Olympus tidak dikenal" in bad.text
    with Session(db_engine) as db:
        assert db.scalar(select(ExamSession).where(ExamSession.name == "Sesi Mars")) is None
