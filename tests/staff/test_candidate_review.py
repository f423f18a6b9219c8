"""Twin names kept for review after the import, and deleting a wrongly registered candidate."""

from __future__ import annotations

import re
import secrets

import pytest
from sqlalchemy import func, select
from staff.support import (
    StaffClient,
    exam_with_questions,
    import_candidates,
    log_in,
    make_exam,
    make_session,
    make_staff,
    new_nik,
    reissue,
)

from exam_server.db.models import Attempt, Candidate, SessionCandidate
from exam_server.db.staff_models import AuditEntry, CredentialIssue
from exam_server.delivery.credentials import session_token
from exam_server.staff.candidates_store import twin_groups

HEADER = "NIK,Nama,Tanggal Lahir,Unit Kerja/OPD,Telepon,Email,Foto\n"


async def _upload(client: StaffClient, text: str) -> None:
    resp = await client.http.post(
        "/panitia/kandidat/impor",
        data={"csrf": client.csrf},
        files={"file": ("peserta.csv", text.encode(), "text/csv")},
    )
    assert resp.status_code == 200, resp.text


async def _by_nik(services, nik: str) -> Candidate | None:  # type: ignore[no-untyped-def]
    async with services.sessions() as db:
        return await db.scalar(select(Candidate).where(Candidate.nik == nik))


async def test_twin_names_stay_listed_with_what_tells_them_apart(
    panitia: StaffClient, services
) -> None:  # type: ignore[no-untyped-def]
    tag = secrets.token_hex(3)
    a, b, other = new_nik(), new_nik(), new_nik()
    # Two imports: the twin is only reported by the second one, yet stays reviewable after.
    await _upload(panitia, HEADER + f"{a},Rina Kembar {tag},1990-01-02,Dinas Satu,,,\n")
    await _upload(
        panitia,
        HEADER
        + f"{b},  rina   KEMBAR {tag} ,1991-03-04,Dinas Dua,,,\n"
        + f"{other},Rina Lain {tag},1990-01-02,Dinas Satu,,,\n",
    )
    async with services.sessions() as db:
        groups = await twin_groups(db)
    [mine] = [g for g in groups if tag in g.name]
    assert mine.name == f"Rina Kembar {tag}"  # the first registered spelling
    assert [c.nik for c in mine.candidates] == [a, b]  # by participant number
    assert all(len({c.nik for c in g.candidates}) > 1 for g in groups)

    listing = await panitia.get("/panitia/kandidat")
    link = re.search(
        r'href="/panitia/kandidat\?status=twins"[^>]*>Nama kembar \((\d+)\)', listing.text
    )
    assert link and int(link.group(1)) == len(groups)

    # The list pages (25 groups a page) and searches: find this test's pair by name.
    page = await panitia.get("/panitia/kandidat", params={"status": "twins", "q": tag})
    assert page.status_code == 200
    assert f"Rina Kembar {tag}" in page.text and a in page.text and b in page.text
    assert "02-01-1990" in page.text and "04-03-1991" in page.text
    assert "Dinas Satu" in page.text and "Dinas Dua" in page.text
    assert f"Rina Lain {tag}" not in page.text and other not in page.text
    english = await panitia.get("/panitia/kandidat", params={"status": "twins", "lang": "en"})
    assert "Twin names" in english.text and "never merged" in english.text


async def test_a_deleted_candidate_leaves_their_data_and_the_reason_in_the_audit_log(
    panitia: StaffClient, services
) -> None:  # type: ignore[no-untyped-def]
    a = new_nik()
    await _upload(
        panitia,
        HEADER + f"{a},Salah Daftar,1992-05-06,Dinas Hapus,0812 345,s@contoh.id,{a}.jpg\n",
    )
    c = await _by_nik(services, a)
    assert c is not None
    exam_id = await make_exam(panitia)
    session_id = await make_session(panitia, exam_id, "Sesi Hapus")
    assert (
        await panitia.post(f"/panitia/sesi/{session_id}/tambah", {"numbers": a})
    ).status_code == 303
    await reissue(panitia, c.id)  # a credential_issues row

    page = await panitia.get(f"/panitia/kandidat/{c.id}")
    assert f'action="/panitia/kandidat/{c.id}/hapus"' in page.text
    resp = await panitia.post(
        f"/panitia/kandidat/{c.id}/hapus", {"reason": "bukan peserta seleksi", "confirm": "1"}
    )
    assert resp.status_code == 303 and resp.headers["location"] == "/panitia/kandidat"
    listing = await panitia.get("/panitia/kandidat")
    assert f"Peserta Salah Daftar ({c.participant_no}) dihapus." in listing.text
    assert (await panitia.get(f"/panitia/kandidat/{c.id}")).status_code == 404
    async with services.sessions() as db:
        assert await db.get(Candidate, c.id) is None
        assert await db.get(CredentialIssue, c.id) is None
        seats = await db.scalar(
            select(func.count())
            .select_from(SessionCandidate)
            .where(SessionCandidate.candidate_id == c.id)
        )
        entry = await db.scalar(
            select(AuditEntry).where(
                AuditEntry.action == "candidate.delete", AuditEntry.entity_id == str(c.id)
            )
        )
    assert seats == 0
    assert entry is not None and entry.username == panitia.username
    assert entry.entity == "candidate" and entry.reason == "bukan peserta seleksi"
    assert entry.old == {
        "nik": a,
        "name": "Salah Daftar",
        "birth_date": "1992-05-06",
        "unit": "Dinas Hapus",
        "phone": "0812 345",
        "email": "s@contoh.id",
        "photo": f"{a}.jpg",
        "participant_no": c.participant_no,
        "sessions": ["Sesi Hapus"],
    }
    assert entry.new is None


async def test_a_deletion_needs_a_reason_and_the_tick(panitia: StaffClient, services) -> None:  # type: ignore[no-untyped-def]
    a = new_nik()
    await _upload(panitia, HEADER + f"{a},Tanpa Alasan,,Dinas Hapus,,,\n")
    c = await _by_nik(services, a)
    assert c is not None
    no_reason = await panitia.post(
        f"/panitia/kandidat/{c.id}/hapus", {"reason": "  ", "confirm": "1"}
    )
    assert no_reason.status_code == 400 and "Alasan penghapusan wajib diisi." in no_reason.text
    no_tick = await panitia.post(f"/panitia/kandidat/{c.id}/hapus", {"reason": "salah daftar"})
    assert no_tick.status_code == 400 and "Centang konfirmasi" in no_tick.text
    english = await panitia.post(
        f"/panitia/kandidat/{c.id}/hapus?lang=en", {"reason": "", "confirm": "1"}
    )
    assert "A reason for the deletion is required." in english.text
    assert await _by_nik(services, a) is not None
    async with services.sessions() as db:
        logged = await db.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == "candidate.delete", AuditEntry.entity_id == str(c.id))
        )
    assert logged == 0


async def test_a_candidate_who_entered_an_exam_is_never_deleted(
    panitia: StaffClient, services, settings
) -> None:  # type: ignore[no-untyped-def]
    exam_id = await exam_with_questions(panitia, services)
    session_id = await make_session(panitia, exam_id, "Sesi Bukti")
    a = new_nik()
    assert (
        await import_candidates(panitia, [(a, "Sudah Ujian", "Dinas Bukti")])
    ).status_code == 200
    await panitia.post(f"/panitia/sesi/{session_id}/tambah", {"numbers": a})
    c = await _by_nik(services, a)
    assert c is not None
    password = await reissue(panitia, c.id)
    login = await panitia.http.post(
        "/api/v1/candidate/login",
        json={
            "participant_no": c.participant_no,
            "password": password,
            "session_token": session_token(settings.secret_key_value, session_id, 900),
        },
    )
    assert login.status_code == 200, login.text

    page = await panitia.get(f"/panitia/kandidat/{c.id}")
    assert "sudah masuk ujian" in page.text and f"/kandidat/{c.id}/hapus" not in page.text
    resp = await panitia.post(
        f"/panitia/kandidat/{c.id}/hapus", {"reason": "coba hapus", "confirm": "1"}
    )
    assert resp.status_code == 400
    assert "sudah masuk ujian: jawaban dan hasilnya adalah bukti" in resp.text
    async with services.sessions() as db:
        assert await db.get(Candidate, c.id) is not None
        assert await db.get(CredentialIssue, c.id) is not None
        seats = await db.scalar(
            select(func.count())
            .select_from(SessionCandidate)
            .where(SessionCandidate.candidate_id == c.id)
        )
        attempts = await db.scalar(
            select(func.count()).select_from(Attempt).where(Attempt.candidate_id == c.id)
        )
        logged = await db.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == "candidate.delete", AuditEntry.entity_id == str(c.id))
        )
    assert (seats, attempts, logged) == (1, 1, 0)


@pytest.mark.parametrize("role", ["proctor", "viewer"])
async def test_proctors_and_viewers_cannot_delete_a_candidate(
    role: str, app, panitia: StaffClient, services
) -> None:  # type: ignore[no-untyped-def]
    client = await log_in(app, await make_staff(services, role))
    a = new_nik()
    await _upload(panitia, HEADER + f"{a},Tetap Ada,,Dinas Hapus,,,\n")
    c = await _by_nik(services, a)
    assert c is not None
    resp = await client.post(f"/panitia/kandidat/{c.id}/hapus", {"reason": "x", "confirm": "1"})
    assert resp.status_code == 403
    assert (await client.get("/panitia/kandidat", params={"status": "twins"})).status_code == 403
    assert await _by_nik(services, a) is not None
    await client.http.aclose()
