"""Participant cards: passwords issued once into the PDF, QR codes of the number, layouts."""

from __future__ import annotations

import re
import zlib

import segno
from sqlalchemy import select
from staff.support import StaffClient, import_candidates, make_exam, make_session, new_nik

from exam_server.db.models import Candidate
from exam_server.db.staff_models import AuditEntry, CredentialIssue
from exam_server.delivery.credentials import check_password
from exam_server.staff.cards import Card, _qr, render_cards

CARD = Card(
    "Siti Aminah",
    "2600042",
    "abcdefghjk",
    "Seleksi",
    "Sesi 1",
    "Senin 01-12-2026 08:00-09:40 WIB",
    "Aula",
)


def page_texts(pdf: bytes) -> list[str]:
    """The text drawn on each page (Helvetica keeps strings literal in the streams)."""
    streams = re.findall(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S)
    texts = []
    for raw in streams:
        try:
            texts.append(zlib.decompress(raw).decode("latin-1"))
        except zlib.error:
            continue
    return [t for t in texts if " Tj" in t or "TJ" in t]


def test_eight_cards_fill_one_a4_sheet_and_one_per_page_uses_a_page_each() -> None:
    cards = [Card(**{**CARD.__dict__, "participant_no": f"26{i:05d}"}) for i in range(9)]
    eight = render_cards(cards, 8, unicode_font=False)
    assert (
        eight.count(b"/Type /Page\n") + eight.count(b"/Type /Page ") == 2
        or len(page_texts(eight)) == 2
    )
    assert len(page_texts(eight)) == 2
    assert "(2600008)" in page_texts(eight)[1]
    single = render_cards(cards[:3], 1, unicode_font=False)
    assert len(page_texts(single)) == 3


def test_a_card_shows_name_number_password_session_and_room() -> None:
    [text] = page_texts(render_cards([CARD], 8, unicode_font=False))
    for value in ("Siti Aminah", "2600042", "abcdefghjk", "Sesi 1", "Aula", "KARTU PESERTA UJIAN"):
        assert f"({value}" in text or value in text, value


class _Recorder:
    """Collects the squares the QR drawing asks for."""

    def __init__(self) -> None:
        self.rects: list[tuple[float, float, float, float]] = []

    def set_fill_color(self, *_: int) -> None:
        pass

    def rect(self, x: float, y: float, w: float, h: float, style: str = "") -> None:
        self.rects.append((x, y, w, h))


def test_the_qr_code_draws_exactly_the_dark_modules_of_the_participant_number() -> None:
    pdf = _Recorder()
    _qr(pdf, "2600042", 0, 0, 100)  # type: ignore[arg-type]
    matrix = [list(row) for row in segno.make("2600042", error="m", micro=False).matrix]
    cell = 100 / (len(matrix) + 4)
    drawn = set()
    for x, y, w, _h in pdf.rects:
        row, col = round(y / cell) - 2, round(x / cell) - 2
        drawn.update((row, col + k) for k in range(round(w / cell)))
    dark = {(r, c) for r, line in enumerate(matrix) for c, v in enumerate(line) if v}
    assert drawn == dark


async def test_printing_cards_issues_working_passwords_once(
    panitia: StaffClient, services, settings
) -> None:  # type: ignore[no-untyped-def]
    exam_id = await make_exam(panitia)
    session_id = await make_session(panitia, exam_id, "Sesi Kartu")
    niks = [new_nik() for _ in range(3)]
    await import_candidates(panitia, [(n, f"Kartu {i}", "Dinas Kartu") for i, n in enumerate(niks)])
    await panitia.post(f"/panitia/sesi/{session_id}/tambah", {"numbers": " ".join(niks)})
    resp = await panitia.post(f"/panitia/sesi/{session_id}/kartu", {"which": "new", "layout": "8"})
    assert resp.status_code == 200
    assert resp.headers["content-type"] == "application/pdf"
    assert resp.headers["cache-control"] == "no-store"
    assert resp.content.startswith(b"%PDF")
    async with services.sessions() as db:
        people = list(await db.scalars(select(Candidate).where(Candidate.nik.in_(niks))))
        issued = list(
            await db.scalars(
                select(CredentialIssue).where(
                    CredentialIssue.candidate_id.in_([c.id for c in people])
                )
            )
        )
        entry = await db.scalar(
            select(AuditEntry)
            .where(AuditEntry.action == "credentials.issue")
            .order_by(AuditEntry.id.desc())
        )
    assert len(issued) == 3 and all(c.password_hash.startswith("hmac-sha256$") for c in people)
    assert sorted(entry.new["participant_nos"]) == sorted(c.participant_no for c in people)
    # Printing "new" again finds nobody: the passwords on the first cards stay valid.
    again = await panitia.post(f"/panitia/sesi/{session_id}/kartu", {"which": "new", "layout": "8"})
    assert again.status_code == 303
    assert (
        "Tidak ada peserta yang perlu dicetak"
        in (await panitia.get(f"/panitia/sesi/{session_id}")).text
    )
    async with services.sessions() as db:
        unchanged = {
            c.id: c.password_hash
            for c in await db.scalars(select(Candidate).where(Candidate.nik.in_(niks)))
        }
    assert unchanged == {c.id: c.password_hash for c in people}
    assert not check_password(settings.secret_key_value, "", people[0].password_hash)


async def test_viewers_and_proctors_cannot_print_cards(
    viewer: StaffClient, proctor: StaffClient, panitia: StaffClient
) -> None:
    exam_id = await make_exam(panitia)
    session_id = await make_session(panitia, exam_id, "Tanpa Akses")
    for client in (viewer, proctor):
        assert (
            await client.post(f"/panitia/sesi/{session_id}/kartu", {"which": "all"})
        ).status_code == 403


def test_a_card_never_lets_text_run_under_the_qr_code() -> None:
    """Long names and a labelled WITA time shrink to their box; the login address, NIK
    and birth date are on the card (docs/committee.md, "Participant cards")."""
    from exam_server.staff.cards import card_boxes

    long_card = Card(
        "Ni Luh Ayu Putu Sri Wahyuningsih Kusumawardani",
        "2600042",
        "abcdefghjk",
        "Seleksi Calon Pegawai Pemerintah Kabupaten Kupang",
        "Sesi 1 Gelombang Pagi Ruang Utama",
        "Senin 01-12-2026 08:00-09:40 WITA",
        "Aula Kantor Bupati Lantai 3 Sayap Timur",
        nik_masked="5301********0001",
        birth_date="01-02-1990",
        login_url="https://cbt.kupangkab.go.id/",
    )
    for per_page in (8, 1):
        (ox, oy, ow, oh), drawn = card_boxes(long_card, per_page)
        [(_, qr)] = [(t, b) for t, b in drawn if t == "QR"]
        texts = [(t, b) for t, b in drawn if t != "QR"]
        for text, (x, y, w, h) in texts:
            assert ox <= x and x + w <= ox + ow + 0.01 and oy <= y and y + h <= oy + oh, text
            overlaps = x < qr[0] + qr[2] and qr[0] < x + w and y < qr[1] + qr[3] and qr[1] < y + h
            assert not overlaps, (text, (x, y, w, h), qr)
        shown = " ".join(t for t, _ in texts)
        for value in ("WITA", "5301********0001", "01-02-1990", "https://cbt.kupangkab.go.id/"):
            assert value in shown, value
    [text] = page_texts(render_cards([long_card], 8, unicode_font=False))
    assert "(https://cbt.kupangkab.go.id/)" in text


async def test_reprinting_all_asks_for_confirmation_and_skips_who_started(
    panitia: StaffClient,
    services,
    db_engine,  # type: ignore[no-untyped-def]
) -> None:
    import datetime as dt

    from sqlalchemy.orm import Session

    from exam_server.db.models import Attempt

    exam_id = await make_exam(panitia)
    session_id = await make_session(panitia, exam_id, "Cetak Ulang")
    niks = [new_nik() for _ in range(3)]
    await import_candidates(panitia, [(n, f"Ulang {i}", "Dinas Ulang") for i, n in enumerate(niks)])
    await panitia.post(f"/panitia/sesi/{session_id}/tambah", {"numbers": " ".join(niks)})
    first = await panitia.post(f"/panitia/sesi/{session_id}/kartu", {"which": "new"})
    assert first.headers["content-type"] == "application/pdf"
    with Session(db_engine) as db, db.begin():
        people = list(db.scalars(select(Candidate).where(Candidate.nik.in_(niks))))
        started = people[0]
        now = dt.datetime.now(dt.UTC)
        db.add(
            Attempt(
                candidate_id=started.id,
                session_id=session_id,
                exam_id=exam_id,
                seed="0",
                question_ids=[],
                option_orders=[],
                sections=[],
                status="running",
                starts_at=now,
                deadline_at=now + dt.timedelta(hours=1),
            )
        )
        hashes = {c.id: c.password_hash for c in people}
        started_id, started_no = started.id, started.participant_no

    unconfirmed = await panitia.post(f"/panitia/sesi/{session_id}/kartu", {"which": "all"})
    assert unconfirmed.status_code == 303
    page = await panitia.get(f"/panitia/sesi/{session_id}")
    assert "Centang konfirmasi untuk mencetak ulang semua kartu" in page.text
    with Session(db_engine) as db:
        assert {
            c.id: c.password_hash
            for c in db.scalars(select(Candidate).where(Candidate.nik.in_(niks)))
        } == hashes

    confirmed = await panitia.post(
        f"/panitia/sesi/{session_id}/kartu", {"which": "all", "confirm": "1"}
    )
    assert confirmed.headers["content-type"] == "application/pdf"
    [text] = page_texts(confirmed.content)[:1]
    assert started_no not in text  # skipped: their card still works
    with Session(db_engine) as db:
        now_hashes = {
            c.id: c.password_hash
            for c in db.scalars(select(Candidate).where(Candidate.nik.in_(niks)))
        }
    assert now_hashes[started_id] == hashes[started_id]
    assert all(now_hashes[c] != hashes[c] for c in hashes if c != started_id)
    page = await panitia.get(f"/panitia/sesi/{session_id}")
    assert "1 peserta yang sudah mulai ujian dilewati" in page.text
