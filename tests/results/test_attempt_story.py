"""The story of an attempt (docs/results.md): a real candidate on a live server goes
through a disconnect, a device change, a pause and an extension; the committee's page,
PDF and ``tkd`` show each event in order, in the session's own zone (WITA here)."""

from __future__ import annotations

import asyncio
import re
import time
import zlib

from sqlalchemy import select, update
from sqlalchemy.orm import Session
from tests_support import ExamClient, move_to_own_session

from exam_server.db.models import Attempt, AttemptEvent, Candidate, ExamSession, Result
from exam_server.proctor.interventions import extend_attempts, pause_session, resume_session
from exam_server.results.story_pdf import render_story
from exam_server.results.story_store import load_story


def _wait(db_engine, attempt_id: int, events: int) -> None:  # type: ignore[no-untyped-def]
    """Until the live server's write-behind has copied the events and graded the attempt."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with Session(db_engine) as db:
            n = len(
                list(db.scalars(select(AttemptEvent).where(AttemptEvent.attempt_id == attempt_id)))
            )
            graded = db.get(Result, attempt_id) is not None
        if n >= events and graded:
            return
        time.sleep(0.3)
    raise AssertionError(f"only {n} events, graded={graded}")


def _pdf_text(data: bytes) -> str:
    out = []
    for stream in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", data, re.S):
        try:
            out.append(zlib.decompress(stream).decode("latin-1"))
        except zlib.error:
            out.append(stream.decode("latin-1"))
    return "".join(out)


async def test_story_shows_disconnect_device_change_pause_and_extension_in_order(
    live_server,
    candidate,
    db_engine,
    services,
    admin,
    viewer,
    cli,
    capsys,  # type: ignore[no-untyped-def]
) -> None:
    session_id = move_to_own_session(db_engine, candidate)
    with Session(db_engine) as db, db.begin():
        db.execute(
            update(ExamSession)
            .where(ExamSession.id == session_id)
            .values(time_zone="Asia/Makassar")
        )
    phone = ExamClient(live_server.url, candidate.participant_no, candidate.password, "hp-andi")
    assert phone.login().status_code == 200
    phone.connect()
    phone.answer(0, pick=1)
    phone.drop()
    time.sleep(0.5)
    laptop = ExamClient(live_server.url, candidate.participant_no, candidate.password, "laptop-lab")
    assert laptop.login().status_code == 200
    laptop.connect()
    laptop.answer(1, pick=2)
    with Session(db_engine) as db:
        attempt_id = db.scalar(
            select(Attempt.id)
            .join(Candidate, Candidate.id == Attempt.candidate_id)
            .where(Candidate.participant_no == candidate.participant_no)
        )
    assert await pause_session(services, session_id) == [attempt_id]
    assert await resume_session(services, session_id) == [attempt_id]
    assert await extend_attempts(services, [attempt_id], 10) == [attempt_id]
    laptop.change({"type": "submit"})
    laptop.close()
    # connect, disconnect, connect, pause, resume, extend (the laptop's goodbye may trail)
    _wait(db_engine, attempt_id, 6)

    async with services.sessions() as db:
        story = await load_story(db, attempt_id)
    assert story is not None
    kinds = [line.kind for line in story.lines]
    wanted = [
        "start",
        "connect",
        "answer",
        "disconnect",
        "connect",
        "answer",
        "pause",
        "resume",
        "extend",
        "submit",
        "graded",
    ]
    it = iter(kinds)
    assert all(k in it for k in wanted), kinds  # each in this order
    second_connect = [line for line in story.lines if line.kind == "connect"][1]
    assert "PERANGKAT BERGANTI dari hp-andi" in second_connect.id_text
    assert second_connect.device == "laptop-lab"
    extend = next(line for line in story.lines if line.kind == "extend")
    assert "10 menit" in extend.id_text
    # The option the candidate pressed, in both letterings (no shuffle undone silently).
    attempt = story.attempt
    chosen = next(line for line in story.lines if line.kind == "answer")
    shown = "ABCDE"[1]
    bank = attempt.option_orders[0][1]
    assert f"memilih {shown} di layar peserta = {bank} di bank soal" in chosen.id_text

    page = await admin.get(f"/panitia/hasil/percobaan/{attempt_id}")
    assert page.status_code == 200
    times = re.findall(r"\d\d-\d\d-\d{4} \d\d:\d\d:\d\d (\w+)", page.text)
    assert times and set(times) == {"WITA"}, times
    assert "PERANGKAT BERGANTI" in page.text and "laptop-lab" in page.text
    assert page.text.index("Ujian dijeda") < page.text.index("Waktu ditambah 10 menit")
    # The answer sheet: the candidate's letter beside the bank's.
    assert "Lembar jawaban seperti yang dilihat peserta" in page.text
    # Only the roles that handle complaints read it.
    assert (await viewer.get(f"/panitia/hasil/percobaan/{attempt_id}")).status_code == 403

    pdf = await admin.get(f"/panitia/hasil/percobaan/{attempt_id}/riwayat.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    text = _pdf_text(render_story(story, "id", unicode_font=False))
    assert "WITA" in text and "WIB" not in text
    assert "PERANGKAT BERGANTI" in text

    # ``tkd`` runs its own event loop: off this test's loop, as from a terminal.
    assert await asyncio.to_thread(cli, "results", "story", "--attempt", str(attempt_id)) == 0
    out = capsys.readouterr().out
    assert "WITA" in out and "PERANGKAT BERGANTI" in out and "Lembar jawaban" in out
