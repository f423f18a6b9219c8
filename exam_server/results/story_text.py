"""The attempt's story as plain text lines, for ``tkd results story``."""

from __future__ import annotations

from collections.abc import Iterator

from exam_server.display import session_time
from exam_server.results.slip import fmt
from exam_server.results.story_store import Story


def story_lines(story: Story, lang: str = "id") -> Iterator[str]:
    en = lang == "en"
    c, session = story.candidate, story.session
    yield f"{c.name} · {c.participant_no} · {story.exam.code} · {session.name}"
    if story.result is not None:
        yield f"Total {fmt(story.result.total)} / {fmt(story.result.max_total)}"
    yield ""
    yield "Timeline" if en else "Kronologi"
    for line in story.lines:
        device = f" [{line.device}]" if line.device else ""
        yield f"  {session_time(line.at, session, '%d-%m-%Y %H:%M:%S')}  {line.text(lang)}{device}"
    yield ""
    yield "Answer sheet as the candidate saw it" if en else "Lembar jawaban seperti dilihat peserta"
    head = ("no", "section", "screen", "bank", "key(screen)", "key(bank)", "points")
    if not en:
        head = ("no", "bagian", "layar", "bank", "kunci(layar)", "kunci(bank)", "nilai")
    yield "  " + "\t".join(head)
    for row in story.sheet:
        key = (
            " ".join(f"{o.shown}={fmt(o.score)}" for o in row.options)
            if row.weighted
            else ",".join(row.key_shown)
        )
        cells = (
            str(row.number),
            row.section,
            ",".join(row.chosen_shown) or "-",
            ",".join(row.chosen_bank) or "-",
            key,
            ",".join(row.key_bank),
            fmt(row.points) if row.points is not None else "-",
        )
        yield "  " + "\t".join(cells)
