"""The question template to download, editing a question's text (audited, fixed once an
exam using it started), the exam preview as a candidate sees it, and ``tkd questions key``
(docs/committee.md, "Question bank and exams")."""

from __future__ import annotations

import asyncio
import io
import re

import openpyxl
from results.builders import add_candidate, build_exam, grade_all
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from exam_server.db.models import Exam, ExamQuestion, ExamSection, Question, Result
from exam_server.db.staff_models import AuditEntry
from question_bank.assembly import option_order, question_order
from question_bank.importing import parse_bank


async def test_the_question_template_downloads_with_an_example_of_each_kind(panitia) -> None:  # type: ignore[no-untyped-def]
    for kind in ("csv", "xlsx"):
        resp = await panitia.get(f"/panitia/bank/templat.{kind}")
        assert resp.status_code == 200, kind
        report = parse_bank(resp.content, f"templat-soal.{kind}", None)
        assert report.ok, report.errors
        assert {i.section for i in report.items} == {"TWK", "TIU", "TKP"}
        assert {i.kind.value for i in report.items} >= {"single", "multiple"}
        assert any(i.weighted for i in report.items)
    book = openpyxl.load_workbook(
        io.BytesIO((await panitia.get("/panitia/bank/templat.xlsx")).content)
    )
    assert book.active.max_row >= 4  # header and three examples
    assert "templat.xlsx" in (await panitia.get("/panitia/bank")).text


def _question_ids(db_engine, exam_id: int) -> list[int]:  # type: ignore[no-untyped-def]
    with Session(db_engine) as db:
        return list(
            db.scalars(
                select(ExamQuestion.question_id)
                .join(ExamSection, ExamSection.id == ExamQuestion.section_id)
                .where(ExamSection.exam_id == exam_id)
                .order_by(ExamSection.position, ExamQuestion.position)
            )
        )


async def test_editing_a_question_text_is_audited_and_locked_once_an_exam_started(
    db_engine,
    panitia,
    admin,  # type: ignore[no-untyped-def]
) -> None:
    built = build_exam(db_engine)
    qid = _question_ids(db_engine, built.exam_id)[0]
    form = {
        "stem": "Sila keempat Pancasila menekankan ...",
        "option_A": "musyawarah",
        "option_B": "B",
        "option_C": "C",
        "option_D": "D",
        "option_E": "E",
    }
    no_reason = await panitia.post(f"/panitia/bank/soal/{qid}/teks", form)
    assert no_reason.status_code == 400 and "Tuliskan alasan perubahan" in no_reason.text
    assert "Sila keempat Pancasila menekankan ..." in no_reason.text  # what was typed stays
    done = await panitia.post(f"/panitia/bank/soal/{qid}/teks", {**form, "reason": "salah ketik"})
    assert done.status_code == 303
    with Session(db_engine) as db:
        q = db.get(Question, qid)
        assert q is not None and "Sila keempat" in q.stem_html
        assert q.options[0]["html"] == "musyawarah" and q.options[0]["score"] == 1.0
        entry = db.scalar(
            select(AuditEntry).where(
                AuditEntry.action == "question.text", AuditEntry.entity_id == str(qid)
            )
        )
        assert entry is not None and entry.reason == "salah ketik" and "soal" in entry.new

    add_candidate(db_engine, built, "Sudah Mulai", ["A"] * 8, status="running")
    locked = await panitia.post(
        f"/panitia/bank/soal/{qid}/teks", {**form, "stem": "Teks lain", "reason": "ubah"}
    )
    assert locked.status_code == 400 and "hanya admin" in locked.text
    with Session(db_engine) as db:
        assert "Teks lain" not in db.get(Question, qid).stem_html  # type: ignore[union-attr]
    by_admin = await admin.post(
        f"/panitia/bank/soal/{qid}/teks", {**form, "stem": "Teks lain", "reason": "ralat resmi"}
    )
    assert by_admin.status_code == 303


async def test_the_preview_shows_the_paper_a_candidate_with_that_seed_sees(
    db_engine, panitia
) -> None:  # type: ignore[no-untyped-def]
    built = build_exam(db_engine)
    with Session(db_engine) as db, db.begin():
        db.execute(
            update(Exam)
            .where(Exam.id == built.exam_id)
            .values(shuffle_questions=True, shuffle_options=True)
        )
    seed = "abc123"
    page = await panitia.get(f"/panitia/ujian/{built.exam_id}/pratinjau", params={"seed": seed})
    assert page.status_code == 200
    shown = [int(n) for n in re.findall(r'<small class="muted">\(#(\d+)\)</small>', page.text)]
    ids = _question_ids(db_engine, built.exam_id)
    expected = question_order([ids[:3], ids[3:6], ids[6:]], seed, shuffle=True)
    assert shown == expected
    with Session(db_engine) as db:
        first = db.get(Question, shown[0])
        assert first is not None
        order = option_order([o["id"] for o in first.options], [False] * 5, seed, first.id)
        html = {o["id"]: o["html"] for o in first.options}
    block = page.text.split('id="q1"')[1].split("</article>")[0]
    letters = re.findall(r"<li><b>([A-E])\.</b> (.*?)</li>", block)
    assert letters == [("ABCDE"[i], html[oid]) for i, oid in enumerate(order)]


async def test_tkd_questions_key_corrects_audits_and_names_the_exams(
    db_engine,
    services,
    cli,
    capsys,
    tmp_path,  # type: ignore[no-untyped-def]
) -> None:
    built = build_exam(db_engine)
    pno = add_candidate(db_engine, built, "Kena Koreksi", ["A"] * 8)
    await grade_all(services, built)
    qid = _question_ids(db_engine, built.exam_id)[0]
    code = await asyncio.to_thread(
        cli, "questions", "key", str(qid), "--key", "C", "--reason", "kunci salah"
    )
    assert code == 0
    out = capsys.readouterr().out
    with Session(db_engine) as db:
        exam_code = db.get(Exam, built.exam_id).code  # type: ignore[union-attr]
        q = db.get(Question, qid)
        assert q is not None and [o["score"] for o in q.options] == [0, 0, 1, 0, 0]
        entry = db.scalar(
            select(AuditEntry).where(
                AuditEntry.action == "question.key", AuditEntry.entity_id == str(qid)
            )
        )
        assert entry is not None and entry.reason == "kunci salah"
        assert entry.username.startswith("cli:")
        # Every affected result says it awaits the re-grade, and why.
        stale = db.get(Result, built.attempts[pno]).stale_reason  # type: ignore[union-attr]
        assert "kunci salah" in (stale or "")
    assert f"tkd results regrade --exam {exam_code}" in out
    refused = await asyncio.to_thread(
        cli, "questions", "key", str(qid), "--key", "Z", "--reason", "x"
    )
    assert refused == 1
    # --exam takes the exam's code as well as its id.
    assert await asyncio.to_thread(cli, "results", "regrade", "--exam", exam_code) == 0
    with Session(db_engine) as db:
        result = db.get(Result, built.attempts[pno])
        assert result is not None and result.stale_reason is None and result.total == 35
    out_file = tmp_path / "hasil.csv"
    exported = await asyncio.to_thread(
        cli, "results", "export", "--exam", exam_code, "--format", "csv", "--out", str(out_file)
    )
    assert exported == 0 and "Kena Koreksi" in out_file.read_text(encoding="utf-8-sig")
