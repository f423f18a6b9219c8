"""Candidate pages: import refusals with row numbers, search and filters, corrections."""

from __future__ import annotations

import secrets

import pytest
from sqlalchemy import select
from staff.support import StaffClient, log_in, make_staff

from exam_server.db.models import Candidate
from exam_server.db.staff_models import AuditEntry
from exam_server.delivery.credentials import check_password

HEADER = "NIK,Nama,Tanggal Lahir,Unit Kerja/OPD,Telepon,Email,Foto\n"


def nik() -> str:
    return "55" + "".join(secrets.choice("0123456789") for _ in range(14))


async def upload(client: StaffClient, text: str, **extra: str):  # type: ignore[no-untyped-def]
    return await client.http.post(
        "/panitia/kandidat/impor",
        data={"csrf": client.csrf, **extra},
        files={"file": ("peserta.csv", text.encode(), "text/csv")},
    )


async def test_a_bad_file_is_refused_whole_with_every_row_number(
    panitia: StaffClient, services
) -> None:  # type: ignore[no-untyped-def]
    good = nik()
    resp = await upload(
        panitia,
        HEADER
        + f"{good},Ani,1990-01-02,Dinas A,,,\n123,Budi,,Dinas A,,,\n{good},Ani Lagi,,Dinas B,,,\n",
    )
    assert resp.status_code == 400
    assert "ditolak seluruhnya" in resp.text
    assert "<td>3</td>" in resp.text and "<td>4</td>" in resp.text
    assert f"NIK {good} ganda: baris 2 dan baris 4." in resp.text
    async with services.sessions() as db:
        assert await db.scalar(select(Candidate).where(Candidate.nik == good)) is None


async def test_a_nik_registered_before_with_other_data_names_both(panitia: StaffClient) -> None:
    taken = nik()
    assert (
        await upload(panitia, HEADER + f"{taken},Citra,1991-03-04,Dinas A,,,\n")
    ).status_code == 200
    resp = await upload(
        panitia, HEADER + f"{nik()},Dodi,,Dinas A,,,\n{taken},Orang Lain,,Dinas A,,,\n"
    )
    assert resp.status_code == 400
    assert f"NIK {taken} di baris 3 sudah terdaftar atas nama Citra" in resp.text


async def test_a_good_file_imports_and_lists_twins_for_review(
    panitia: StaffClient, services
) -> None:  # type: ignore[no-untyped-def]
    a, b = nik(), nik()
    name = f"Eka Twin {secrets.token_hex(2)}"
    resp = await upload(
        panitia, HEADER + f"{a},{name},,Dinas Kembar,,,\n{b},{name},,Dinas Kembar,,,\n"
    )
    assert resp.status_code == 200
    assert "2 peserta diimpor" in resp.text
    assert "nama sama, NIK berbeda" in resp.text and f"NIK {a}" in resp.text
    async with services.sessions() as db:
        rows = list(await db.scalars(select(Candidate).where(Candidate.nik.in_([a, b]))))
        assert len(rows) == 2 and rows[0].participant_no != rows[1].participant_no
        entry = await db.scalar(
            select(AuditEntry)
            .where(AuditEntry.action == "candidates.import")
            .order_by(AuditEntry.id.desc())
        )
        assert entry.username == panitia.username and entry.new["imported"] == 2


async def test_a_dry_run_checks_and_saves_nothing(panitia: StaffClient, services) -> None:  # type: ignore[no-untyped-def]
    a = nik()
    resp = await upload(panitia, HEADER + f"{a},Fajar,,Dinas A,,,\n", dry_run="1")
    assert resp.status_code == 200 and "Belum ada yang disimpan" in resp.text
    async with services.sessions() as db:
        assert await db.scalar(select(Candidate).where(Candidate.nik == a)) is None


async def test_search_and_filters_find_the_right_candidates(panitia: StaffClient) -> None:
    unit = f"Dinas Cari {secrets.token_hex(2)}"
    a = nik()
    await upload(panitia, HEADER + f"{a},Gilang Pencarian,,{unit},,,\n{nik()},Hana,,{unit},,,\n")
    by_name = await panitia.get("/panitia/kandidat", params={"q": "gilang penc"})
    assert "Gilang Pencarian" in by_name.text and "Hana" not in by_name.text
    by_nik = await panitia.get("/panitia/kandidat", params={"q": a[-8:]})
    assert "Gilang Pencarian" in by_nik.text
    by_unit = await panitia.get("/panitia/kandidat", params={"unit": unit, "status": "unscheduled"})
    assert "Gilang Pencarian" in by_unit.text and "Hana" in by_unit.text
    scheduled = await panitia.get("/panitia/kandidat", params={"unit": unit, "status": "scheduled"})
    assert "Gilang" not in scheduled.text


async def test_the_templates_download(panitia: StaffClient) -> None:
    csv = await panitia.get("/panitia/kandidat/templat.csv")
    assert csv.status_code == 200 and csv.text.lstrip("\ufeff").startswith("NIK,Nama,Tanggal Lahir")
    xlsx = await panitia.get("/panitia/kandidat/templat.xlsx")
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    assert (await panitia.get("/panitia/kandidat/templat.exe")).status_code == 404


async def _one_candidate(panitia: StaffClient, services) -> Candidate:  # type: ignore[no-untyped-def]
    a = nik()
    await upload(panitia, HEADER + f"{a},Indra Salah Ketik,1990-01-02,Dinas A,,,\n")
    async with services.sessions() as db:
        return await db.scalar(select(Candidate).where(Candidate.nik == a))  # type: ignore[return-value]


async def test_a_correction_keeps_the_old_value_and_the_reason(
    panitia: StaffClient, services
) -> None:  # type: ignore[no-untyped-def]
    c = await _one_candidate(panitia, services)
    form = {
        "nik": c.nik,
        "name": "Indra Benar",
        "birth_date": "1990-01-02",
        "unit": "Dinas A",
        "phone": "",
        "email": "",
        "photo": "",
        "reason": "salah ketik di berkas",
    }
    resp = await panitia.post(f"/panitia/kandidat/{c.id}", form)
    assert resp.status_code == 303
    page = await panitia.get(f"/panitia/kandidat/{c.id}")
    assert "Indra Salah Ketik" in page.text and "salah ketik di berkas" in page.text
    async with services.sessions() as db:
        entry = await db.scalar(
            select(AuditEntry).where(
                AuditEntry.action == "candidate.correct", AuditEntry.entity_id == str(c.id)
            )
        )
    assert entry.old == {"name": "Indra Salah Ketik"} and entry.new == {"name": "Indra Benar"}
    assert entry.reason == "salah ketik di berkas"


async def test_a_correction_without_a_reason_is_refused(panitia: StaffClient, services) -> None:  # type: ignore[no-untyped-def]
    c = await _one_candidate(panitia, services)
    form = {"nik": c.nik, "name": "Nama Baru", "reason": ""}
    resp = await panitia.post(f"/panitia/kandidat/{c.id}", form)
    assert resp.status_code == 400 and "Alasan perubahan wajib diisi" in resp.text
    async with services.sessions() as db:
        assert (await db.get(Candidate, c.id)).name == "Indra Salah Ketik"  # type: ignore[union-attr]


async def test_a_reissued_password_is_shown_once_and_works(
    panitia: StaffClient, services, settings
) -> None:  # type: ignore[no-untyped-def]
    c = await _one_candidate(panitia, services)
    resp = await panitia.post(f"/panitia/kandidat/{c.id}/sandi", {"reason": "kartu hilang"})
    assert resp.status_code == 200
    password = resp.text.split('<code class="password">')[1].split("<")[0]
    async with services.sessions() as db:
        stored = (await db.get(Candidate, c.id)).password_hash  # type: ignore[union-attr]
    assert check_password(settings.secret_key_value, password, stored)
    assert password not in (await panitia.get(f"/panitia/kandidat/{c.id}")).text


@pytest.mark.parametrize("role", ["proctor", "viewer"])
async def test_proctors_and_viewers_cannot_reach_candidates(role, app, services) -> None:  # type: ignore[no-untyped-def]
    client = await log_in(app, await make_staff(services, role))
    assert (await client.get("/panitia/kandidat")).status_code == 403
    assert (await client.get("/panitia/kandidat/impor")).status_code == 403
    assert (await client.get("/panitia/kandidat/templat.csv")).status_code == 403
    resp = await upload(client, HEADER + f"{nik()},Joko,,Dinas A,,,\n")
    assert resp.status_code == 403
    await client.http.aclose()
