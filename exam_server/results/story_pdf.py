"""The attempt's story as a PDF: the printable evidence for a complaint. Pure: story in,
PDF bytes out."""

from __future__ import annotations

from exam_server.display import session_time
from exam_server.results.slip import fmt
from exam_server.results.story_store import Story
from exam_server.staff.cards import _Pdf

BOTTOM = 280.0


def render_story(story: Story, lang: str = "id", *, unicode_font: bool = True) -> bytes:
    en = lang == "en"
    pdf = _Pdf(unicode_font)
    pdf.set_title("Attempt story" if en else "Riwayat percobaan")
    pdf.set_creator("TKD-CBT")
    pdf.add_page()
    family = pdf.font_family_name
    s = pdf.text_safe
    left, width = 14.0, 182.0
    session = story.session

    def room(height: float) -> None:
        if pdf.get_y() + height > BOTTOM:
            pdf.add_page()
            pdf.set_y(14)

    pdf.set_xy(left, 14)
    pdf.set_font(family, "B", 14)
    pdf.cell(
        width, 8, s("ATTEMPT STORY" if en else "RIWAYAT PERCOBAAN"), new_x="LMARGIN", new_y="NEXT"
    )
    pdf.set_font(family, "", 9.5)
    c = story.candidate
    for text in (
        f"{c.name} · {c.participant_no}",
        f"{story.exam.code} · {story.exam.title}",
        f"{'Session' if en else 'Sesi'} {session.name} · "
        f"{session_time(session.starts_at, session)} – {session_time(session.ends_at, session, '%H:%M')}",
    ):
        pdf.set_x(left)
        pdf.cell(width, 5, s(text), new_x="LMARGIN", new_y="NEXT")
    if story.result is not None:
        r = story.result
        verdict = (
            ("passed" if en else "lulus") if r.passed else ("not passed" if en else "tidak lulus")
        )
        pdf.set_x(left)
        pdf.cell(
            width,
            5,
            s(f"Total {fmt(r.total)} / {fmt(r.max_total)} · {verdict}"),
            new_x="LMARGIN",
            new_y="NEXT",
        )
    pdf.ln(3)
    pdf.set_x(left)
    pdf.set_font(family, "B", 11)
    pdf.cell(width, 7, s("Timeline" if en else "Kronologi"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(family, "", 8)
    for line in story.lines:
        room(9)
        pdf.set_x(left)
        pdf.cell(40, 4.5, s(session_time(line.at, session, "%d-%m-%Y %H:%M:%S")))
        text = line.text(lang) + (f" [{line.device}]" if line.device else "")
        pdf.multi_cell(width - 40, 4.5, s(text), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    room(20)
    pdf.set_x(left)
    pdf.set_font(family, "B", 11)
    title = (
        "Answer sheet as the candidate saw it" if en else "Lembar jawaban seperti dilihat peserta"
    )
    pdf.cell(width, 7, s(title), new_x="LMARGIN", new_y="NEXT")
    cols = [
        ("No.", 12),
        ("Section" if en else "Bagian", 20),
        ("Screen" if en else "Layar", 24),
        ("Bank", 24),
        ("Key (screen)" if en else "Kunci (layar)", 40),
        ("Key (bank)" if en else "Kunci (bank)", 36),
        ("Points" if en else "Nilai", 26),
    ]
    pdf.set_font(family, "B", 8)
    pdf.set_x(left)
    for name, w in cols:
        pdf.cell(w, 5.5, s(name), border=1)
    pdf.ln()
    pdf.set_font(family, "", 8)
    for row in story.sheet:
        room(6)
        pdf.set_x(left)
        key = (
            " ".join(f"{o.shown}={fmt(o.score)}" for o in row.options)
            if row.weighted
            else ", ".join(row.key_shown)
        )
        cells = [
            str(row.number),
            row.section,
            ", ".join(row.chosen_shown) or "-",
            ", ".join(row.chosen_bank) or "-",
            key,
            ", ".join(row.key_bank),
            fmt(row.points) if row.points is not None else "-",
        ]
        for (_, w), value in zip(cols, cells, strict=True):
            pdf.cell(w, 5, s(value)[:28], border=1)
        pdf.ln()
    return bytes(pdf.output())
