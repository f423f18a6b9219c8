"""Participant cards as a printable PDF: one per page, or eight per A4 sheet.

Each card carries the name, participant number, password, masked NIK and birth date (two
people of one name are told apart), the session with its zone, the room, and the login
address as text and as a QR code. The QR code is drawn as vector squares (crisp on any printer,
no image per card). Pure: card data in, PDF bytes out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import segno
from fpdf import FPDF

A4_W, A4_H = 210.0, 297.0
EIGHT_W, EIGHT_H = A4_W / 2, A4_H / 4  # 2 columns x 4 rows, cut along the lines
# A Unicode font when the system has one (names like "Ni Luh Ayu Désy"); else Helvetica.
DEJAVU = Path("/usr/share/fonts/truetype/dejavu")


@dataclass(frozen=True)
class Card:
    name: str
    participant_no: str
    password: str
    exam_title: str
    session: str
    when: str  # e.g. "Senin 01-12-2026 08:00-09:40 WITA": the session's zone, labelled
    room: str
    unit: str = ""
    # Issue 15: two people of one name are told apart by these; the address is where to log in.
    nik_masked: str = ""
    birth_date: str = ""  # dd-mm-yyyy, or "" when unknown
    login_url: str = ""
    seat: int | None = None  # issue 14: given when seated


class _Pdf(FPDF):
    def __init__(self, unicode_font: bool = True) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.set_auto_page_break(False)
        self.set_margins(0, 0, 0)
        self.font_family_name = "helvetica"
        regular, bold = DEJAVU / "DejaVuSans.ttf", DEJAVU / "DejaVuSans-Bold.ttf"
        if unicode_font and regular.exists() and bold.exists():
            self.add_font("dejavu", "", str(regular))
            self.add_font("dejavu", "B", str(bold))
            self.font_family_name = "dejavu"

    def text_safe(self, text: str) -> str:
        if self.font_family_name == "dejavu":
            return text
        return text.encode("latin-1", "replace").decode("latin-1")


def _qr(pdf: _Pdf, data: str, x: float, y: float, size: float) -> None:
    code = segno.make(data, error="m", micro=False)
    matrix = [list(row) for row in code.matrix]
    quiet = 2
    modules = len(matrix) + 2 * quiet
    cell = size / modules
    pdf.set_fill_color(0, 0, 0)
    for r, row in enumerate(matrix):
        run_start = None
        for c, dark in enumerate([*row, 0]):
            if dark and run_start is None:
                run_start = c
            elif not dark and run_start is not None:
                # One rectangle per run of dark modules keeps the PDF small.
                pdf.rect(
                    x + (run_start + quiet) * cell,
                    y + (r + quiet) * cell,
                    (c - run_start) * cell,
                    cell,
                    style="F",
                )
                run_start = None


Box = tuple[float, float, float, float]  # x, y, width, height (mm)


def _fit(pdf: _Pdf, text: str, width: float, size: float, style: str = "") -> float:
    """The largest font size up to ``size`` at which ``text`` fits ``width``: a long
    session name shrinks rather than running under the QR code."""
    family = pdf.font_family_name
    while size > 4:
        pdf.set_font(family, style, size)
        if pdf.get_string_width(text) <= width:
            return size
        size -= 0.25
    pdf.set_font(family, style, size)
    return size


def _card(
    pdf: _Pdf, card: Card, x: float, y: float, w: float, h: float, lang: str
) -> list[tuple[str, Box]]:
    """Draw one card; returns every text and the QR code with the box it occupies, so a test
    can prove that nothing overlaps (docs/committee.md, "Participant cards")."""
    en = lang == "en"
    scale = h / EIGHT_H
    pad = 5 * scale
    drawn: list[tuple[str, Box]] = []
    pdf.set_draw_color(150, 150, 150)
    pdf.set_line_width(0.2)
    pdf.set_dash_pattern(dash=2, gap=2)  # cut lines
    pdf.rect(x, y, w, h)
    pdf.set_dash_pattern()
    qr_size = min(h * 0.40, w * 0.30)
    qr_x, qr_y = x + w - pad - qr_size, y + pad + 8.5 * scale
    # Text beside the QR code stops short of it; lines below it take the full width.
    beside_w = qr_x - 2 * scale - (x + pad)
    full_w = w - 2 * pad

    def text(value: str, width: float, size: float, height: float, style: str = "") -> None:
        value = pdf.text_safe(value)
        _fit(pdf, value, width, size * scale, style)
        top = pdf.get_y()
        pdf.set_x(x + pad)
        pdf.cell(width, height * scale, value, new_x="LEFT", new_y="NEXT")
        drawn.append((value, (x + pad, top, pdf.get_string_width(value), height * scale)))

    def line(label: str, value: str, size: float, width: float, bold: bool = False) -> None:
        pdf.set_text_color(90, 90, 90)
        text(label, width, 6.2, 2.9)
        pdf.set_text_color(0, 0, 0)
        text(value, width, size, size * 0.48, "B" if bold else "")

    pdf.set_xy(x + pad, y + pad)
    pdf.set_text_color(0, 0, 0)
    text("PARTICIPANT CARD" if en else "KARTU PESERTA UJIAN", full_w, 9, 4.3, "B")
    text(card.exam_title, full_w, 7, 3.4)
    pdf.ln(0.6 * scale)
    line("Name" if en else "Nama", card.name, 9.5, beside_w, bold=True)
    line(
        "Participant number" if en else "Nomor peserta",
        card.participant_no,
        11.5,
        beside_w,
        bold=True,
    )
    line("Password" if en else "Kata sandi", card.password, 11.5, beside_w, bold=True)
    who = " · ".join(
        v for v in (f"NIK {card.nik_masked}" if card.nik_masked else "", card.birth_date) if v
    )
    line("NIK · birth date" if en else "NIK · tanggal lahir", who or "-", 7.5, beside_w)
    qr_data = card.login_url or card.participant_no
    _qr(pdf, qr_data, qr_x, qr_y, qr_size)
    drawn.append(("QR", (qr_x, qr_y, qr_size, qr_size)))
    pdf.set_y(max(pdf.get_y(), qr_y + qr_size) + 0.8 * scale)
    seat = "" if card.seat is None else f" · {'Seat' if en else 'Kursi'} {card.seat}"
    line(
        "Session · room" if en else "Sesi · ruang",
        f"{card.session} · {card.when} · {card.room or '-'}{seat}",
        7.5,
        full_w,
    )
    if card.login_url:
        line(
            "Log in at (or scan the QR code)" if en else "Alamat masuk ujian (atau pindai QR)",
            card.login_url,
            7.5,
            full_w,
        )
    pdf.set_text_color(90, 90, 90)
    pdf.set_xy(x + pad, y + h - pad - 2.8 * scale)
    text(
        "Keep this card secret; bring it and your ID card."
        if en
        else "Rahasiakan kata sandi; bawa kartu ini dan KTP.",
        full_w,
        5.5,
        2.8,
    )
    pdf.set_text_color(0, 0, 0)
    return drawn


def card_boxes(
    card: Card, per_page: int = 8, lang: str = "id"
) -> tuple[Box, list[tuple[str, Box]]]:
    """The card's outline and what is drawn where, as ``render_cards`` lays it out."""
    pdf = _Pdf(unicode_font=False)
    pdf.add_page()
    if per_page == 1:
        outline = (15.0, 15.0, A4_W - 30, (A4_W - 30) * EIGHT_H / EIGHT_W)
    else:
        outline = (0.0, 0.0, EIGHT_W, EIGHT_H)
    return outline, _card(pdf, card, *outline, lang)


def render_cards(
    cards: Sequence[Card], per_page: int = 8, lang: str = "id", *, unicode_font: bool = True
) -> bytes:
    if per_page not in (1, 8):
        raise ValueError("per_page must be 1 or 8")
    pdf = _Pdf(unicode_font)
    pdf.set_title("Kartu peserta" if lang == "id" else "Participant cards")
    pdf.set_creator("TKD-CBT")
    for index, card in enumerate(cards):
        if per_page == 1:
            pdf.add_page()
            _card(pdf, card, 15, 15, A4_W - 30, (A4_W - 30) * EIGHT_H / EIGHT_W, lang)
            continue
        slot = index % 8
        if slot == 0:
            pdf.add_page()
        _card(pdf, card, (slot % 2) * EIGHT_W, (slot // 2) * EIGHT_H, EIGHT_W, EIGHT_H, lang)
    if not cards:
        pdf.add_page()
    return bytes(pdf.output())
