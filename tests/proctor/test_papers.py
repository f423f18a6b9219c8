"""The room's papers: the attendance list before, the berita acara after, read as text."""

from __future__ import annotations

import datetime as dt
import io
from zoneinfo import ZoneInfo

from proctor.conftest import assign
from pypdf import PdfReader
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from exam_server.db.models import Attempt, Candidate
from exam_server.db.staff_models import AuditEntry
from exam_server.delivery.checkpoint import attempt_key
from exam_server.display import mask_nik


def pdf_text(body: bytes) -> str:
    assert body.startswith(b"%PDF")
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(body)).pages)


async def test_the_attendance_list_names_every_seat_with_a_masked_nik_and_a_signature_column(
    admin, room, db_engine
) -> None:  # type: ignore[no-untyped-def]
    resp = await admin.get(f"/panitia/pengawas/{room.session_id}/daftar-hadir.pdf")
    assert resp.status_code == 200 and resp.headers["content-type"] == "application/pdf"
    words = pdf_text(resp.content)
    assert "DAFTAR HADIR PESERTA UJIAN" in words and "Tanda tangan" in words and "Kursi" in words
    assert "Lab 2" in words and " WIB" in words
    with Session(db_engine) as db:
        niks = db.scalars(
            select(Candidate.nik).where(
                Candidate.participant_no.in_([c.participant_no for c in room.creds])
            )
        ).all()
    for cred in room.creds:
        assert cred.participant_no in words
    for nik in niks:
        assert mask_nik(nik) in words and nik not in words
    assert "Jumlah peserta terjadwal: 3" in words


async def login(admin, cred) -> None:  # type: ignore[no-untyped-def]
    resp = await admin.http.post(
        "/api/v1/candidate/login",
        json={"participant_no": cred.participant_no, "password": cred.password},
    )
    assert resp.status_code == 200, resp.text


async def test_the_report_counts_the_room_and_logs_every_action_with_its_time_and_minutes(
    admin, room, db_engine, services, proctor
) -> None:  # type: ignore[no-untyped-def]
    assign(db_engine, proctor.username, room.session_id)
    came, finished, _absent = room.creds
    await login(admin, came)
    await login(admin, finished)
    with Session(db_engine) as db:
        attempts = dict(
            db.execute(
                select(Candidate.participant_no, Attempt.id)
                .join(Attempt, Attempt.candidate_id == Candidate.id)
                .where(Attempt.session_id == room.session_id)
            ).all()
        )
        cid = dict(
            db.execute(
                select(Candidate.participant_no, Candidate.id).where(
                    Candidate.participant_no.in_([c.participant_no for c in room.creds])
                )
            ).all()
        )
        # The server recorded three lost minutes for one candidate (issue 12's table).
        db.execute(
            text(
                "INSERT INTO attempt_outages (attempt_id, cause, started_at, ended_at, lost_ms) "
                "VALUES (:a, 'redis', now() - interval '4 minutes', now() - interval '1 minute', 180000)"
            ),
            {"a": attempts[came.participant_no]},
        )
        db.commit()
    await services.restore_checkpoint(attempts[came.participant_no])
    before = int(
        await services.redis.hget(attempt_key(attempts[came.participant_no]), "deadline_ms")
    )
    url = f"/panitia/pengawas/{room.session_id}/aksi"
    steps = [
        {"action": "pause", "scope": "all", "reason": "Listrik padam"},
        {"action": "resume", "scope": "all", "reason": "Listrik menyala"},
        {"action": "outage", "ids": cid[came.participant_no], "reason": "Server Redis mati"},
        {"action": "submit", "ids": cid[finished.participant_no], "reason": "Minta dikumpulkan"},
    ]
    for step in steps:
        resp = await proctor.post(
            url,
            {**{k: str(v) for k, v in step.items()}, "confirm": "1"},
            headers={"Accept": "application/json"},
        )
        assert resp.status_code == 200, resp.text
    after = int(
        await services.redis.hget(attempt_key(attempts[came.participant_no]), "deadline_ms")
    )
    assert after - before >= 180_000  # the outage minutes were given back on the server's clock
    again = await proctor.post(
        url,
        {
            "action": "outage",
            "ids": str(cid[came.participant_no]),
            "reason": "lagi",
            "confirm": "1",
        },
    )
    assert again.status_code == 303  # without JavaScript: a flash and back to the room
    assert (
        int(await services.redis.hget(attempt_key(attempts[came.participant_no]), "deadline_ms"))
        == after
    )

    resp = await proctor.get(f"/panitia/pengawas/{room.session_id}/berita-acara.pdf")
    assert resp.status_code == 200
    words = pdf_text(resp.content)
    assert "BERITA ACARA PELAKSANAAN UJIAN" in words
    for label, n in (
        ("Peserta terjadwal", 3),
        ("Hadir", 2),
        ("Tidak hadir", 1),
        ("Selesai mengerjakan", 1),
    ):
        assert (
            f"{label}\n: {n} orang" in words
            or f"{label}: {n} orang" in words
            or f"{label} : {n} orang" in words
        ), (label, words)
    with Session(db_engine) as db:
        entries = db.scalars(
            select(AuditEntry)
            .where(
                AuditEntry.entity_id == str(room.session_id), AuditEntry.action.like("proctor.%")
            )
            .order_by(AuditEntry.id)
        ).all()
    wib = ZoneInfo("Asia/Jakarta")
    for entry in entries:
        assert f"{entry.at.astimezone(wib):%H:%M:%S} WIB" in words
    assert "Listrik padam" in words and "Minta dikumpulkan" in words
    assert f"{came.participant_no}: 3 menit" in words
    assert "Pengawas 1" in words and "Perwakilan peserta" in words
    assert dt.datetime.now(wib).strftime("%d-%m-%Y") in words


async def test_each_card_carries_the_candidates_seat(admin, room) -> None:  # type: ignore[no-untyped-def]
    resp = await admin.post(
        f"/panitia/sesi/{room.session_id}/kartu", {"which": "all", "layout": "1", "confirm": "1"}
    )
    assert resp.status_code == 200 and resp.headers["content-type"] == "application/pdf"
    words = pdf_text(resp.content)
    for seat in (1, 2, 3):
        assert f"Lab 2 · Kursi {seat}" in words
