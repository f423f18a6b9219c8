"""From an empty install to a scheduled exam with printed cards, in Chromium.

An admin (made with ``tkd staff create``) creates a panitia account; the panitia fills the
bank, imports 200 candidates, builds the exam, creates two sessions, spreads the
candidates, prints the cards; one candidate then logs in on the candidate page, on a
browser of their own, with the session token, and gets the first question.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from staff.support import PASSWORD, new_nik, staff_app
from tests_support import free_port

from exam_server.db.models import SessionCandidate
from exam_server.db.staff_models import AuditEntry
from exam_server.display import LOCAL_TZ

pytestmark = pytest.mark.browser
CHROMIUM = "/usr/bin/chromium"


@pytest.fixture()
def staff_server(settings) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """The app with the committee pages, served by uvicorn in a thread of this process."""
    port = free_port()
    config = uvicorn.Config(
        staff_app(settings), host="127.0.0.1", port=port, log_level="warning", lifespan="on"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                break
        time.sleep(0.1)
    yield url
    server.should_exit = True
    thread.join(10)


def test_a_committee_goes_from_empty_to_printed_cards(
    staff_server, cli, db_engine, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    if not Path(CHROMIUM).exists() or shutil.which("chromium") is None:
        pytest.skip("Debian's chromium is not installed (apt-get install -y chromium)")
    from playwright.sync_api import expect, sync_playwright

    admin = f"admin-{new_nik()[-6:]}"
    panitia = f"panitia-{new_nik()[-6:]}"
    # The one terminal step the committee takes: the first admin.
    create = ("staff", "create", "--username", admin, "--full-name", "Admin", "--password-stdin")
    assert cli(*create, stdin=PASSWORD + "\n") == 0

    unit_a, unit_b = f"Dinas A {panitia}", f"Dinas B {panitia}"
    lines = ["NIK,Nama,Tanggal Lahir,Unit Kerja/OPD,Telepon,Email,Foto"]
    niks = [new_nik() for _ in range(200)]
    lines += [
        f"{n},Peserta Alur {i},1990-01-{1 + i % 28:02d},{unit_a if i % 2 else unit_b},,,"
        for i, n in enumerate(niks)
    ]
    csv_file = tmp_path / "peserta.csv"
    csv_file.write_text("\n".join(lines) + "\n")
    category = f"Alur {panitia}"  # this test's own questions, whatever else the bank holds
    questions = tmp_path / "soal.csv"
    questions.write_text(
        "no,seksi,kategori,tipe,soal,opsi_a,opsi_b,opsi_c,opsi_d,opsi_e,kunci\n"
        + "".join(
            f"{n},TWK,{category},pg,Pertanyaan alur {panitia} nomor {n}?,satu,dua,tiga,empat,lima,B\n"
            for n in range(1, 4)
        )
    )
    today = dt.datetime.now(LOCAL_TZ).date().isoformat()

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        page = browser.new_page(accept_downloads=True, viewport={"width": 1024, "height": 768})

        def log_in(username: str) -> None:
            page.goto(staff_server + "/panitia/masuk")
            page.get_by_label("Nama pengguna").fill(username)
            page.get_by_label("Kata sandi").fill(PASSWORD)
            page.get_by_role("button", name="Masuk").click()
            expect(page.get_by_role("heading", name="Selamat datang")).to_be_visible()

        # The admin creates the panitia account.
        log_in(admin)
        page.goto(staff_server + "/panitia/staf")
        form = page.locator("form", has=page.get_by_role("button", name="Buat akun"))
        form.get_by_label("Nama pengguna").fill(panitia)
        form.get_by_label("Nama lengkap").fill("Panitia Daerah")
        form.get_by_label("Peran").select_option("panitia")
        form.get_by_label("Kata sandi").fill(PASSWORD)
        form.get_by_role("button", name="Buat akun").click()
        expect(page.get_by_text(f"Akun {panitia} dibuat.")).to_be_visible()
        page.get_by_role("button", name="Keluar").click()

        log_in(panitia)
        page.goto(staff_server + "/panitia/bank")
        page.set_input_files("input[name=file]", str(questions))
        page.get_by_role("button", name="Impor").click()
        expect(page.get_by_text("3 soal diimpor, 0 sudah ada")).to_be_visible()

        page.goto(staff_server + "/panitia/kandidat/impor")
        page.set_input_files("input[name=file]", str(csv_file))
        page.get_by_role("button", name="Impor").click()
        expect(page.get_by_text("200 peserta diimpor")).to_be_visible()

        page.goto(staff_server + "/panitia/ujian")
        page.get_by_label("Kode").fill(f"SKD-{panitia}")
        page.get_by_label("Judul").fill("Seleksi Kompetensi Dasar")
        page.get_by_label("Durasi bersama").fill("100")
        page.get_by_role("button", name="Buat ujian").click()
        expect(page.get_by_role("heading", name="Seleksi Kompetensi Dasar")).to_be_visible()
        add = page.locator("form", has=page.get_by_role("button", name="Tambah bagian"))
        add.get_by_label("Kode").fill("TWK")
        add.get_by_label("Nama").fill("Tes Wawasan Kebangsaan")
        add.get_by_label("Jumlah soal").fill("3")
        add.get_by_role("button", name="Tambah bagian").click()
        pick = page.locator("form", has=page.get_by_role("button", name="Pasang soal"))
        pick.get_by_label("Kategori").select_option(category)
        pick.get_by_placeholder("jumlah").fill("3")
        pick.get_by_role("button", name="Pasang soal").click()
        expect(page.get_by_text("3 soal dipasang pada bagian TWK.")).to_be_visible()
        exam_url = page.url

        for name in ("Sesi Pagi", "Sesi Siang"):
            page.goto(staff_server + "/panitia/sesi?exam=" + exam_url.rsplit("/", 1)[1])
            create = page.locator("form", has=page.get_by_role("button", name="Buat sesi"))
            create.get_by_label("Nama sesi").fill(name)
            create.get_by_label("Tempat/ruang").fill("Lab Komputer")
            create.get_by_label("Tanggal").fill(today)
            create.get_by_label("Mulai").fill("00:00")
            create.get_by_label("Selesai").fill("23:59")
            create.get_by_label("Kapasitas").fill("100")
            create.get_by_role("button", name="Buat sesi").click()
            expect(page.get_by_role("heading", name=name)).to_be_visible()
        session_url = page.url

        # Unit by unit: other tests' candidates share this database and stay unscheduled.
        for unit in (unit_a, unit_b):
            page.goto(staff_server + "/panitia/sesi?exam=" + exam_url.rsplit("/", 1)[1])
            page.get_by_placeholder("hanya unit").fill(unit)
            page.get_by_role("button", name="Sebar").click()
            expect(page.get_by_text("100 peserta disebar ke 2 sesi")).to_be_visible()

        page.goto(session_url)
        with page.expect_download() as download_info:
            page.get_by_role("button", name="Cetak kartu (PDF)").click()
        pdf_path = tmp_path / "kartu.pdf"
        download_info.value.save_as(pdf_path)
        assert pdf_path.read_bytes().startswith(b"%PDF")

        page.goto(session_url + "/token")
        token = page.locator("#token").inner_text().strip()
        # One candidate's card is "lost": re-issue their password to read it here.
        page.goto(session_url)
        number = page.locator("table").last.locator("tbody tr td").first.inner_text().strip()
        page.goto(staff_server + f"/panitia/kandidat?q={number}")
        page.get_by_role("link", name=number).click()
        page.get_by_placeholder("Alasan, mis. kartu hilang").fill("uji alur")
        page.get_by_role("button", name="Buat kata sandi baru").click()
        password = page.locator("code.password").inner_text().strip()

        # The candidate, on a phone of their own: no committee cookie, nothing stored.
        phone = browser.new_context(
            viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True
        )
        exam = phone.new_page()
        exam.goto(staff_server + "/")
        exam.get_by_label("Nomor peserta").fill(number)
        exam.get_by_label("Kata sandi").fill(password)
        exam.get_by_role("button", name="Masuk").click()
        # The page asks for the session token only once the server says it is needed.
        expect(exam.locator("#login-error")).to_contain_text("token sesi")
        exam.get_by_label("Token sesi").fill(token)
        exam.get_by_role("button", name="Masuk").click()
        expect(exam.get_by_role("heading", name="Periksa data Anda")).to_be_visible()
        identity = exam.locator("#identity")
        expect(identity).to_contain_text("Seleksi Kompetensi Dasar")
        expect(identity).to_contain_text(number)
        exam.get_by_role("button", name="Data saya benar, mulai").click()
        expect(exam.locator("#q-label")).to_have_text("Soal 1 dari 3")
        expect(exam.locator("#q-stem")).to_contain_text(f"Pertanyaan alur {panitia}")
        phone.close()
        browser.close()
    with Session(db_engine) as db:
        placed = db.scalar(
            select(func.count())
            .select_from(SessionCandidate)
            .join(
                AuditEntry,
                AuditEntry.entity_id
                == func.cast(SessionCandidate.session_id, AuditEntry.entity_id.type),
            )
            .where(AuditEntry.action == "session.create", AuditEntry.username == panitia)
        )
        actions = set(
            db.scalars(select(AuditEntry.action).where(AuditEntry.username.in_([admin, panitia])))
        )
    assert placed == 200
    assert {
        "staff.create",
        "bank.import",
        "candidates.import",
        "exam.create",
        "section.create",
        "section.questions",
        "session.create",
        "session.assign",
        "credentials.issue",
    } <= actions
