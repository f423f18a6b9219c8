"""The proctor's pages in-process: reachable from the menu, only one's own rooms, every
action confirmed, with a reason, audited; clear words instead of a bare 404."""

from __future__ import annotations

import re
import secrets
import time

from proctor.conftest import assign, make_room
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from exam_server.db.models import Candidate, SessionCandidate
from exam_server.db.staff_models import AuditEntry


def _candidate_id(db_engine, number: str) -> int:  # type: ignore[no-untyped-def]
    with Session(db_engine) as db:
        return int(db.scalar(select(Candidate.id).where(Candidate.participant_no == number)))


async def test_the_menu_leads_a_proctor_to_their_rooms_today_and_no_other(
    proctor, admin, room, db_engine, fresh
) -> None:  # type: ignore[no-untyped-def]
    other = make_room(db_engine, fresh(1), name="Ruang lain")
    assign(db_engine, proctor.username, room.session_id)
    home = await proctor.get("/panitia/")
    assert 'href="/panitia/pengawas"' in home.text and "Pengawasan" in home.text
    mine = await proctor.get("/panitia/pengawas")
    assert mine.status_code == 200
    assert f"/panitia/pengawas/{room.session_id}" in mine.text
    assert f"/panitia/pengawas/{other.session_id}" not in mine.text
    assert re.search(r"3 terjadwal · 0 masuk · 0 selesai · 3 belum masuk", mine.text)
    everything = await admin.get("/panitia/pengawas")
    assert f"/panitia/pengawas/{other.session_id}" in everything.text
    for path in ("", "/data", "/daftar-hadir.pdf", "/berita-acara.pdf"):
        refused = await proctor.get(f"/panitia/pengawas/{other.session_id}{path}")
        assert refused.status_code == 403, path
    acted = await proctor.post(
        f"/panitia/pengawas/{other.session_id}/aksi",
        {"action": "pause", "scope": "all", "reason": "x", "confirm": "1"},
    )
    assert acted.status_code == 403
    page = await proctor.get(f"/panitia/pengawas/{room.session_id}")
    assert page.status_code == 200 and "/static/proctor.js" in page.text
    assert "<script>" not in page.text  # no inline script: the page works under a strict CSP


async def test_the_room_data_lists_everyone_seated_with_seats_in_bahasa_statuses(
    admin, room
) -> None:  # type: ignore[no-untyped-def]
    data = (await admin.get(f"/panitia/pengawas/{room.session_id}/data")).json()
    assert [r["no"] for r in data["rows"]] == [c.participant_no for c in room.creds]
    assert [r["seat"] for r in data["rows"]] == [1, 2, 3]
    assert {r["st"] for r in data["rows"]} == {"absent"}
    assert data["counts"]["absent"] == 3 and data["alarm"] is None
    page = await admin.get(f"/panitia/pengawas/{room.session_id}")
    for words in ("belum masuk", "menunggu", "mengerjakan", "terputus", "dijeda", "selesai"):
        assert words in page.text


async def test_an_action_needs_a_reason_and_a_confirmation_and_changes_nothing_without(
    admin, room, db_engine
) -> None:  # type: ignore[no-untyped-def]
    url = f"/panitia/pengawas/{room.session_id}/aksi"
    json_ = {"headers": {"Accept": "application/json"}}
    no_reason = await admin.post(url, {"action": "pause", "scope": "all", "confirm": "1"}, **json_)
    assert no_reason.status_code == 400 and "alasan" in no_reason.json()["message"].lower()
    no_confirm = await admin.post(
        url, {"action": "pause", "scope": "all", "reason": "uji"}, **json_
    )
    assert no_confirm.status_code == 400 and "konfirmasi" in no_confirm.json()["message"]
    old_route = await admin.post(f"/panitia/pengawas/{room.session_id}/jeda")
    assert old_route.status_code == 400  # "Jeda semua" too is confirmed now
    with Session(db_engine) as db:
        logged = db.scalars(
            select(AuditEntry.action).where(
                AuditEntry.entity == "session", AuditEntry.entity_id == str(room.session_id)
            )
        ).all()
    assert logged == []


async def test_adding_time_for_a_candidate_not_yet_in_says_so_instead_of_a_404(
    admin, room, db_engine
) -> None:  # type: ignore[no-untyped-def]
    absent = _candidate_id(db_engine, room.creds[0].participant_no)
    resp = await admin.post(
        f"/panitia/pengawas/{room.session_id}/aksi",
        {
            "action": "extend",
            "ids": str(absent),
            "minutes": "5",
            "reason": "HP mati",
            "confirm": "1",
        },
    )
    assert resp.status_code == 409
    assert "belum masuk ujian" in resp.text and room.creds[0].participant_no in resp.text


async def test_reopening_is_for_admins_only(panitia, room, db_engine) -> None:  # type: ignore[no-untyped-def]
    someone = _candidate_id(db_engine, room.creds[0].participant_no)
    resp = await panitia.post(
        f"/panitia/pengawas/{room.session_id}/aksi",
        {
            "action": "reopen",
            "ids": str(someone),
            "minutes": "5",
            "reason": "salah tekan",
            "confirm": "1",
        },
        headers={"Accept": "application/json"},
    )
    assert resp.status_code == 403 and "admin" in resp.json()["message"]


async def test_seats_are_given_in_order_when_seated_and_shown_on_the_attendance_list(
    admin, room, db_engine
) -> None:  # type: ignore[no-untyped-def]
    with Session(db_engine) as db:
        seats = (
            db.execute(
                select(SessionCandidate.seat)
                .where(SessionCandidate.session_id == room.session_id)
                .order_by(SessionCandidate.id)
            )
            .scalars()
            .all()
        )
    assert seats == [1, 2, 3]


async def test_the_older_add_time_form_still_adds_to_the_one_number_given(
    admin, room, services
) -> None:  # type: ignore[no-untyped-def]
    from exam_server.delivery.checkpoint import attempt_key

    deadlines = {}
    for cred in room.creds[:2]:
        resp = await admin.http.post(
            "/api/v1/candidate/login",
            json={"participant_no": cred.participant_no, "password": cred.password},
        )
        assert resp.status_code == 200
    data = (await admin.get(f"/panitia/pengawas/{room.session_id}/data")).json()
    attempts = {r["no"]: r["a"] for r in data["rows"] if r["a"]}
    for number, attempt_id in attempts.items():
        await services.restore_checkpoint(attempt_id)
        deadlines[number] = int(await services.redis.hget(attempt_key(attempt_id), "deadline_ms"))
    target, other = room.creds[0].participant_no, room.creds[1].participant_no
    resp = await admin.post(
        f"/panitia/pengawas/{room.session_id}/tambah-waktu",
        {"participant_no": target.lower(), "minutes": "5", "reason": "HP mati", "confirm": "1"},
    )
    assert resp.status_code == 303
    after = {
        n: int(await services.redis.hget(attempt_key(a), "deadline_ms"))
        for n, a in attempts.items()
    }
    assert after[target] - deadlines[target] == 5 * 60_000
    assert after[other] == deadlines[other]


async def test_a_room_of_a_thousand_is_one_quick_snapshot_with_seats_in_order(
    admin, db_engine, demo
) -> None:  # type: ignore[no-untyped-def]
    room = make_room(db_engine, [], name="Aula besar")
    tag = secrets.token_hex(3).upper()
    with Session(db_engine) as db, db.begin():
        ids = db.scalars(
            insert(Candidate).returning(Candidate.id),
            [
                {
                    "nik": f"77{i:08d}{secrets.randbelow(10**6):06d}",
                    "name": f"Peserta {i}",
                    "unit": "Aula",
                    "participant_no": f"BIG-{tag}-{i:04d}",
                    "password_hash": "x",
                }
                for i in range(1000)
            ],
        ).all()
        db.execute(
            insert(SessionCandidate),
            [{"session_id": room.session_id, "candidate_id": c} for c in ids],
        )
    started = time.monotonic()
    data = (await admin.get(f"/panitia/pengawas/{room.session_id}/data")).json()
    elapsed = time.monotonic() - started
    assert len(data["rows"]) == 1000 and data["counts"]["absent"] == 1000
    assert [r["seat"] for r in data["rows"]] == list(range(1, 1001))
    assert elapsed < 3.0, elapsed
