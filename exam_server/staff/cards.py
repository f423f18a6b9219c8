"""Participant cards as a printable PDF: one per page, or eight per A4 sheet.

Each card carries the name, participant number, password, session, room and a QR code
of the participant number. The QR code is drawn as vector squares (crisp on any printer,
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
    when: str  # e.g. "Senin 01-12-2026 08:00-09:40 WIB"
    room: str
    unit: str = ""
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
                pdf.rect(x + (run_start + quiet) * cell, y + (r + quiet) * cell,
                         (c - run_start) * cell, cell, style="F")  # fmt: skip
                run_start = None


def _card(pdf: _Pdf, card: Card, x: float, y: float, w: float, h: float, lang: str) -> None:
    en = lang == "en"
    scale = h / EIGHT_H
    pad = 5 * scale
    pdf.set_draw_color(150, 150, 150)
    pdf.set_line_width(0.2)
    pdf.set_dash_pattern(dash=2, gap=2)  # cut lines
    pdf.rect(x, y, w, h)
    pdf.set_dash_pattern()
    family = pdf.font_family_name
    qr_size = min(h * 0.48, w * 0.34)
    text_w = w - 2 * pad - qr_size - 2 * scale

    def line(label: str, value: str, size: float, bold: bool = False) -> None:
        pdf.set_x(x + pad)
        pdf.set_font(family, "", 6.5 * scale)
        pdf.set_text_color(90, 90, 90)
        pdf.cell(text_w, 3.2 * scale, pdf.text_safe(label), new_x="LEFT", new_y="NEXT")
        pdf.set_x(x + pad)
        pdf.set_font(family, "B" if bold else "", size * scale)
        pdf.set_text_color(0, 0, 0)
        pdf.cell(text_w, size * 0.5 * scale, pdf.text_safe(value)[:60], new_x="LEFT", new_y="NEXT")

    pdf.set_xy(x + pad, y + pad)
    pdf.set_font(family, "B", 9 * scale)
    pdf.cell(w - 2 * pad, 4.5 * scale, pdf.text_safe("PARTICIPANT CARD" if en else "KARTU PESERTA UJIAN"),
             new_x="LEFT", new_y="NEXT")  # fmt: skip
    pdf.set_font(family, "", 7 * scale)
    pdf.set_x(x + pad)
    pdf.cell(
        w - 2 * pad, 3.5 * scale, pdf.text_safe(card.exam_title)[:70], new_x="LEFT", new_y="NEXT"
    )
    pdf.ln(1.2 * scale)
    line("Name" if en else "Nama", card.name, 9.5, bold=True)
    line("Participant number" if en else "Nomor peserta", card.participant_no, 12, bold=True)
    line("Password" if en else "Kata sandi", card.password, 12, bold=True)
    line("Session" if en else "Sesi", f"{card.session} · {card.when}", 7.5)
    seat = "" if card.seat is None else f" · {'Seat' if en else 'Kursi'} {card.seat}"
    line("Room" if en else "Ruang", (card.room or "-") + seat, 7.5)
    _qr(pdf, card.participant_no, x + w - pad - qr_size, y + pad + 9 * scale, qr_size)
    pdf.set_font(family, "", 5.5 * scale)
    pdf.set_text_color(90, 90, 90)
    pdf.set_xy(x + pad, y + h - pad - 3 * scale)
    pdf.cell(w - 2 * pad, 3 * scale, pdf.text_safe(
        "Keep this card secret; bring it and your ID card." if en
        else "Rahasiakan kata sandi; bawa kartu ini dan KTP."))  # fmt: skip


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
