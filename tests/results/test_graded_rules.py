"""A result explains itself as it was graded: the total's pass mark, the rules, every answer."""

from __future__ import annotations

import csv
import datetime as dt
import io

import httpx
import openpyxl
import pytest
from results.builders import add_candidate, build_exam, grade_all
from sqlalchemy import select, update
from sqlalchemy.orm import Session
from staff.support import StaffClient

from exam_server.db.models import AnswerLog, Exam, ExamSection, Result, ResultItem
from exam_server.delivery.services import Services
from exam_server.grading.grade import result_message
from exam_server.results import export

# TWK 15, TIU 15, TKP 4: every section passes, the total 34 misses a total pass mark of 35.
SECTIONS_PASS = ["A", "A", "A", "A", "A", "A", "C", "E"]


def _token(services: Services, built, pno: str) -> str:  # type: ignore[no-untyped-def]
    return services.tokens.issue(built.attempts[pno], built.candidates[pno], "id")


async def test_a_missed_total_pass_mark_is_the_reason_everywhere_and_survives_a_later_edit(
    db_engine, services: Services, anonymous: httpx.AsyncClient, viewer: StaffClient
) -> None:  # type: ignore[no-untyped-def]
    built = build_exam(db_engine, total_pass_mark=35)
    pno = add_candidate(db_engine, built, "Rina Total", SECTIONS_PASS)
    await grade_all(services, built)
    with Session(db_engine) as db:
        result = db.get(Result, built.attempts[pno])
        assert result is not None
        assert (result.total, result.passed, result.total_pass_mark) == (34, False, 35)
        assert result.failed_rules == [
            {"id": "Total 34, di bawah ambang batas 35", "en": "Total 34, below the pass mark 35"}
        ]
        message = result_message(result)
    assert message["reasons_id"] == ["Total 34, di bawah ambang batas 35"]
    assert message["total_pass_mark"] == 35
    assert [s["pass_mark"] for s in message["sections"]] == [15, 10, 4]

    # The committee lowers the mark and changes TWK's points afterwards, without re-grading:
    # the slip still explains the result it shows.
    with Session(db_engine) as db, db.begin():
        db.execute(update(Exam).where(Exam.id == built.exam_id).values(total_pass_mark=20))
        db.execute(
            update(ExamSection)
            .where(ExamSection.exam_id == built.exam_id, ExamSection.code == "TWK")
            .values(scoring={"model": "right_wrong", "points_correct": 4, "points_wrong": -1})
        )
    resp = await anonymous.get(
        "/api/v1/candidate/result",
        headers={"Authorization": f"Bearer {_token(services, built, pno)}"},
    )
    slip = resp.json()
    assert (slip["passed"], slip["total_pass_mark"]) == (False, 35)
    assert slip["reasons_id"] == ["Total 34, di bawah ambang batas 35"]
    twk = next(s for s in slip["sections"] if s["code"] == "TWK")
    assert twk["rule_id"] == "Benar 5, salah 0, kosong 0"

    sheet = await viewer.get(f"/panitia/hasil/ujian/{built.exam_id}/hasil.xlsx")
    rows = [
        list(r)
        for r in openpyxl.load_workbook(io.BytesIO(sheet.content), read_only=True).active.iter_rows(
            values_only=True
        )
    ]  # type: ignore[union-attr]
    row = dict(zip(rows[0], rows[1], strict=True))
    assert (
        row["Status"] == "TIDAK LULUS" and row["Keterangan"] == "Total 34, di bawah ambang batas 35"
    )


async def test_every_answer_is_kept_with_its_points_and_the_time_of_its_last_change(
    db_engine, services: Services
) -> None:  # type: ignore[no-untyped-def]
    built = build_exam(db_engine)
    pno = add_candidate(db_engine, built, "Sari Jawab", ["B", "A", None, "A", "A", "A", "A", "B"])
    attempt_id = built.attempts[pno]
    last = dt.datetime.now(dt.UTC).replace(microsecond=0)
    with Session(db_engine) as db, db.begin():  # q0: B, then changed to A at ``last``
        db.add(
            AnswerLog(attempt_id=attempt_id, seq=100, kind="answer", q=0, value="A", saved_at=last)
        )
    await grade_all(services, built)
    with Session(db_engine) as db:
        items = {
            r.q: r
            for r in db.scalars(select(ResultItem).where(ResultItem.attempt_id == attempt_id))
        }
    assert len(items) == 8
    assert (items[0].choice, items[0].correct, items[0].points, items[0].changed_at) == (
        "A",
        True,
        5,
        last,
    )
    assert (items[2].choice, items[2].correct, items[2].points, items[2].changed_at) == (
        None,
        False,  # blank: not right, and no change to date
        0,
        None,
    )
    assert (items[7].choice, items[7].points) == ("B", 4)  # TKP: option B weighs 4
    assert items[1].question_id == built.question_ids[1]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
async def test_exports_stream_in_partitions_and_keep_the_order_across_them(
    db_engine, services: Services, viewer: StaffClient, monkeypatch: pytest.MonkeyPatch, fmt: str
) -> None:  # type: ignore[no-untyped-def]
    built = build_exam(db_engine, sessions=2)
    for i in range(7):
        add_candidate(
            db_engine,
            built,
            f"Urut {i}",
            ["A"] * (8 - i) + [None] * i,
            session=i % 2,
            unit="Dinas Genap" if i % 2 == 0 else "Dinas Ganjil",
        )
    await grade_all(services, built)
    monkeypatch.setattr(export, "CHUNK", 2)  # seven rows: four partitions
    resp = await viewer.get(
        f"/panitia/hasil/ujian/{built.exam_id}/hasil.{fmt}", params={"unit": "Dinas Genap"}
    )
    assert resp.status_code == 200
    if fmt == "csv":
        table = list(csv.DictReader(io.StringIO(resp.content.decode("utf-8-sig")), delimiter=";"))
        names, ranks = [r["Nama"] for r in table], [int(r["Peringkat"]) for r in table]
    else:
        rows = list(
            openpyxl.load_workbook(io.BytesIO(resp.content), read_only=True).active.iter_rows(
                values_only=True
            )
        )  # type: ignore[union-attr]
        names, ranks = [r[3] for r in rows[1:]], [r[0] for r in rows[1:]]
    assert names == ["Urut 0", "Urut 2", "Urut 4", "Urut 6"]
    assert ranks == [1, 3, 5, 7]  # ranks in the whole exam, not in the filtered rows
    everyone = await viewer.get(f"/panitia/hasil/ujian/{built.exam_id}/hasil.csv")
    assert (
        len(list(csv.DictReader(io.StringIO(everyone.content.decode("utf-8-sig")), delimiter=";")))
        == 7
    )
