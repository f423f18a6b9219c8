"""The result slip as a PDF: section scores, the rules applied, the verification code and
a QR code of the verification address. Pure: slip in, PDF bytes out."""

from __future__ import annotations

from exam_server.display import session_time
from exam_server.results.slip import Slip
from exam_server.staff.cards import _Pdf, _qr
from exam_server.web.rendering import number


def _status(passed: bool | None, en: bool) -> str:
    if passed is None:
        return "-"
    if en:
        return "passed" if passed else "not passed"
    return "lulus" if passed else "tidak lulus"


def render_slip(
    slip: Slip, verify_url: str, lang: str = "id", *, unicode_font: bool = True
) -> bytes:
    en = lang == "en"

    def fmt(value: float | None) -> str:
        return number(value, lang)

    pdf = _Pdf(unicode_font)
    pdf.set_title("Result slip" if en else "Slip hasil ujian")
    pdf.set_creator("TKD-CBT")
    pdf.add_page()
    family = pdf.font_family_name
    s = pdf.text_safe
    left, width = 18.0, 174.0

    pdf.set_xy(left, 18)
    pdf.set_font(family, "B", 15)
    pdf.cell(width, 8, s("RESULT SLIP" if en else "SLIP HASIL UJIAN"), new_x="LEFT", new_y="NEXT")
    pdf.set_font(family, "", 10.5)
    pdf.cell(width, 6, s(f"{slip.exam_title} ({slip.exam_code})"), new_x="LEFT", new_y="NEXT")
    pdf.ln(3)

    def field(label: str, value: str) -> None:
        pdf.set_x(left)
        pdf.set_font(family, "", 9)
        pdf.set_text_color(90, 90, 90)
        pdf.cell(42, 6, s(label))
        pdf.set_text_color(0, 0, 0)
        pdf.set_font(family, "B", 10)
        pdf.cell(width - 42 - 40, 6, s(value)[:70], new_x="LMARGIN", new_y="NEXT")

    field("Name" if en else "Nama", slip.name)
    field("Participant no." if en else "Nomor peserta", slip.participant_no)
    field("NIK", slip.nik_masked)
    field("Session" if en else "Sesi", slip.session)
    field(
        "Submitted" if en else "Selesai",
        session_time(slip.submitted_at, slip) if slip.submitted_at else "-",
    )
    _qr(pdf, verify_url, left + width - 38, 40, 38)
    pdf.set_xy(left, pdf.get_y() + 5)

    cols = [
        ("Section" if en else "Bagian", 58),
        ("Points" if en else "Nilai", 20),
        ("Max" if en else "Maks", 18),
        ("Pass mark" if en else "Ambang", 20),
        ("C / W / B" if en else "B / S / K", 30),
        ("Status", 28),
    ]
    pdf.set_font(family, "B", 9)
    pdf.set_fill_color(235, 235, 235)
    for title, w in cols:
        pdf.cell(w, 7, s(title), border=1, fill=True)
    pdf.ln()
    pdf.set_font(family, "", 9)
    for sec in slip.sections:
        pdf.set_x(left)
        cells = [
            f"{sec.code} · {sec.name}"[:34],
            fmt(sec.points),
            fmt(sec.max_points),
            fmt(sec.pass_mark) or "-",
            f"{sec.correct} / {sec.wrong} / {sec.blank}",
            _status(sec.passed, en),
        ]
        for (_, w), value in zip(cols, cells, strict=True):
            pdf.cell(w, 7, s(value), border=1)
        pdf.ln()
    pdf.set_x(left)
    pdf.set_font(family, "B", 10)
    pdf.cell(cols[0][1], 8, "Total", border=1)
    pdf.cell(cols[1][1], 8, fmt(slip.total), border=1)
    pdf.cell(cols[2][1], 8, fmt(slip.max_total), border=1)
    pdf.cell(cols[3][1], 8, fmt(slip.total_pass_mark) or "-", border=1)
    pdf.cell(cols[4][1] + cols[5][1], 8, s(_status(slip.passed, en).upper()), border=1)
    pdf.ln(11)

    pdf.set_x(left)
    pdf.set_font(family, "B", 9.5)
    pdf.cell(
        width, 6, s("Rules applied" if en else "Aturan penilaian"), new_x="LMARGIN", new_y="NEXT"
    )
    pdf.set_font(family, "", 9)
    for sec in slip.sections:
        mark = (
            f"; {'pass mark' if en else 'ambang batas'} {fmt(sec.pass_mark)}"
            if sec.pass_mark is not None
            else ""
        )
        pdf.set_x(left)
        pdf.multi_cell(
            width,
            5,
            s(f"{sec.code}: {sec.rule_en if en else sec.rule_id}{mark}"),
            new_x="LMARGIN",
            new_y="NEXT",
        )
    if slip.total_pass_mark is not None:
        pdf.set_x(left)
        pdf.multi_cell(
            width,
            5,
            s(f"Total: {'pass mark' if en else 'ambang batas'} {fmt(slip.total_pass_mark)}"),
            new_x="LMARGIN",
            new_y="NEXT",
        )
    reasons = slip.reasons_en if en else slip.reasons_id
    if reasons:
        pdf.ln(2)
        pdf.set_x(left)
        pdf.set_font(family, "B", 9.5)
        pdf.cell(
            width,
            6,
            s("Why not passed" if en else "Alasan tidak lulus"),
            new_x="LMARGIN",
            new_y="NEXT",
        )
        pdf.set_font(family, "", 9)
        for reason in reasons:
            pdf.set_x(left)
            pdf.multi_cell(width, 5, s(f"- {reason}"), new_x="LMARGIN", new_y="NEXT")

    pdf.ln(6)
    pdf.set_x(left)
    pdf.set_font(family, "", 9)
    pdf.cell(
        width, 5, s("Verification code" if en else "Kode verifikasi"), new_x="LMARGIN", new_y="NEXT"
    )
    pdf.set_x(left)
    pdf.set_font("courier", "B", 16)
    pdf.cell(width, 9, slip.verify_code, new_x="LMARGIN", new_y="NEXT")
    pdf.set_x(left)
    pdf.set_font(family, "", 8.5)
    pdf.multi_cell(
        width,
        4.5,
        s(
            f"Anyone can check this slip at {verify_url.split('?')[0]} with the code above "
            f"(or by scanning the QR code). Graded {session_time(slip.graded_at, slip)}."
            if en
            else f"Keaslian slip ini dapat diperiksa siapa saja di {verify_url.split('?')[0]} dengan kode "
            f"di atas (atau pindai kode QR). Dinilai {session_time(slip.graded_at, slip)}."
        ),
    )
    return bytes(pdf.output())
