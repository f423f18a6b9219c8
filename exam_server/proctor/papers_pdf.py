"""The room's papers as PDF, pure: the attendance list (daftar hadir) and the official
report (berita acara). Data in, bytes out; the text is Bahasa Indonesia, as signed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from exam_server.staff.cards import _Pdf

A4_W = 210.0
MARGIN = 15.0


@dataclass(frozen=True)
class RoomHeader:
    exam_title: str
    session: str
    room: str
    when: str  # "05-12-2026 08:00-09:40 WITA"
    proctors: Sequence[str]


@dataclass(frozen=True)
class AttendanceLine:
    number: int
    participant_no: str
    name: str
    nik_masked: str
    unit: str
    seat: int | None


@dataclass(frozen=True)
class Incident:
    at: str  # "08:41:07 WIB"
    what: str  # "Jeda", "Tambah waktu 5 menit", ...
    who: str  # the participants concerned, or "semua peserta"
    reason: str
    by: str


@dataclass(frozen=True)
class ReportCounts:
    scheduled: int
    present: int
    absent: int
    finished: int
    disqualified: int = 0


@dataclass(frozen=True)
class Report:
    header: RoomHeader
    counts: ReportCounts
    incidents: Sequence[Incident]
    given_back: Sequence[tuple[str, int]] = field(default_factory=tuple)  # (no., minutes)
    printed_at: str = ""


def _start(pdf: _Pdf, title: str, header: RoomHeader) -> None:
    pdf.add_page()
    pdf.set_auto_page_break(True, MARGIN)
    pdf.set_margins(MARGIN, MARGIN, MARGIN)
    pdf.set_xy(MARGIN, MARGIN)
    family = pdf.font_family_name
    pdf.set_font(family, "B", 13)
    pdf.cell(0, 7, pdf.text_safe(title), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(family, "", 10)
    pdf.cell(0, 5, pdf.text_safe(header.exam_title), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    for label, value in (
        ("Sesi", header.session),
        ("Ruang", header.room or "-"),
        ("Waktu", header.when),
        ("Pengawas", ", ".join(header.proctors) or "-"),
    ):
        pdf.set_font(family, "", 10)
        pdf.cell(28, 5.5, pdf.text_safe(label))
        pdf.cell(0, 5.5, pdf.text_safe(f": {value}"), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)


def _signatures(pdf: _Pdf, titles: Sequence[str]) -> None:
    family = pdf.font_family_name
    if pdf.get_y() > 297 - MARGIN - 40:
        pdf.add_page()
    pdf.ln(6)
    width = (A4_W - 2 * MARGIN) / len(titles)
    y = pdf.get_y()
    for i, title in enumerate(titles):
        x = MARGIN + i * width
        pdf.set_xy(x, y)
        pdf.set_font(family, "", 10)
        pdf.cell(width - 4, 5, pdf.text_safe(title), align="C")
        pdf.rect(x + 2, y + 7, width - 8, 22)
        pdf.set_xy(x, y + 30)
        pdf.cell(width - 4, 5, "(................................)", align="C")
    pdf.set_xy(MARGIN, y + 38)


def render_attendance(header: RoomHeader, lines: Sequence[AttendanceLine]) -> bytes:
    pdf = _Pdf()
    pdf.set_title("Daftar hadir")
    pdf.set_creator("TKD-CBT")
    _start(pdf, "DAFTAR HADIR PESERTA UJIAN", header)
    family = pdf.font_family_name
    cols = [
        ("No", 9),
        ("Nomor peserta", 28),
        ("Nama", 45),
        ("NIK", 32),
        ("Unit", 30),
        ("Kursi", 12),
        ("Tanda tangan", 24),
    ]

    def head() -> None:
        pdf.set_font(family, "B", 9)
        pdf.set_fill_color(235, 238, 242)
        for label, w in cols:
            pdf.cell(w, 7, label, border=1, fill=True)
        pdf.ln()

    head()
    pdf.set_font(family, "", 9)
    for line in lines:
        if pdf.get_y() > 297 - MARGIN - 12:
            pdf.add_page()
            head()
            pdf.set_font(family, "", 9)
        values = [
            str(line.number),
            line.participant_no,
            line.name[:30],
            line.nik_masked,
            line.unit[:20],
            "" if line.seat is None else str(line.seat),
            "",
        ]
        for (_label, w), value in zip(cols, values, strict=True):
            pdf.cell(w, 9, pdf.text_safe(value), border=1)
        pdf.ln()
    pdf.ln(2)
    pdf.cell(0, 5, f"Jumlah peserta terjadwal: {len(lines)}", new_x="LMARGIN", new_y="NEXT")
    _signatures(pdf, ["Pengawas 1", "Pengawas 2"])
    return bytes(pdf.output())


def render_report(report: Report) -> bytes:
    pdf = _Pdf()
    pdf.set_title("Berita acara")
    pdf.set_creator("TKD-CBT")
    _start(pdf, "BERITA ACARA PELAKSANAAN UJIAN", report.header)
    family = pdf.font_family_name
    c = report.counts
    pdf.set_font(family, "B", 10)
    pdf.cell(0, 6, "Kehadiran", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(family, "", 10)
    for label, value in (
        ("Peserta terjadwal", c.scheduled),
        ("Hadir", c.present),
        ("Tidak hadir", c.absent),
        ("Selesai mengerjakan", c.finished),
        ("Didiskualifikasi", c.disqualified),
    ):
        pdf.cell(50, 5.5, label)
        pdf.cell(0, 5.5, f": {value} orang", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    pdf.set_font(family, "B", 10)
    pdf.cell(0, 6, "Catatan kejadian", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(family, "", 9)
    if not report.incidents:
        pdf.cell(0, 5.5, "Tidak ada kejadian yang dicatat.", new_x="LMARGIN", new_y="NEXT")
    width = A4_W - 2 * MARGIN
    for inc in report.incidents:
        text = f"{inc.at}  {inc.what} - {inc.who}. Alasan: {inc.reason} (oleh {inc.by})"
        pdf.multi_cell(width, 5, pdf.text_safe(text), new_x="LMARGIN", new_y="NEXT")
    if report.given_back:
        pdf.ln(2)
        pdf.set_font(family, "B", 10)
        pdf.cell(0, 6, "Waktu gangguan yang dikembalikan", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(family, "", 9)
        for number, minutes in report.given_back:
            pdf.cell(0, 5, f"{number}: {minutes} menit", new_x="LMARGIN", new_y="NEXT")
    if report.printed_at:
        pdf.ln(2)
        pdf.set_font(family, "", 8)
        pdf.cell(0, 5, pdf.text_safe(f"Dicetak {report.printed_at}"), new_x="LMARGIN", new_y="NEXT")
    _signatures(pdf, ["Pengawas 1", "Pengawas 2", "Perwakilan peserta"])
    return bytes(pdf.output())
