"""The live scoreboard and the item analysis page."""

from __future__ import annotations

import io

import httpx
import openpyxl
import redis
from results.builders import add_candidate, build_exam, grade_all
from staff.support import StaffClient

from exam_server.delivery.checkpoint import attempt_key
from exam_server.delivery.services import Services


async def test_the_scoreboard_is_off_until_the_committee_switches_it_on(
    db_engine,
    services: Services,
    panitia: StaffClient,
    anonymous: httpx.AsyncClient,
    redis_client: redis.Redis,
) -> None:  # type: ignore[no-untyped-def]
    built = build_exam(db_engine)
    done = add_candidate(db_engine, built, "Gita Wijaya", ["A"] * 8)
    working = add_candidate(db_engine, built, "Hadi Pratama", [None] * 8, status="running")
    add_candidate(db_engine, built, "Joko Absen", None)
    await grade_all(services, built)
    sid = built.session_ids[0]
    # The live checkpoint says Hadi has answered 3 questions (and flagged one as doubtful).
    redis_client.hset(
        attempt_key(built.attempts[working]),
        mapping={"a:0": '"A"', "a:1": '"B"', "a:4": '"C"', "d:4": "1", "t:0": "1", "n": "8"},
    )

    off = await anonymous.get(f"/papan/{sid}.json")
    assert off.status_code == 404 and off.json()["error"]["code"] == "scoreboard_off"
    assert (await panitia.post(f"/panitia/hasil/sesi/{sid}/papan", {"on": "1"})).status_code == 303

    board = (await anonymous.get(f"/papan/{sid}.json")).json()
    assert board["released"] is True and board["sections"] == ["TWK", "TIU", "TKP"]
    rows = {r["name"]: r for r in board["rows"]}
    assert [r["name"] for r in board["rows"]] == ["Gita Wijaya", "Hadi Pratama", "Joko Absen"]
    assert (
        rows["Gita Wijaya"]["rank"],
        rows["Gita Wijaya"]["total"],
        rows["Gita Wijaya"]["passed"],
    ) == (1, 40, True)
    assert (rows["Hadi Pratama"]["state"], rows["Hadi Pratama"]["answered"]) == ("running", 3)
    # The session is still open: not absent yet (absent only after it closed, as the dashboard).
    assert rows["Hadi Pratama"]["total"] is None and rows["Joko Absen"]["state"] == "waiting"
    for nik in built.niks.values():
        assert nik not in str(board)
    assert rows["Gita Wijaya"]["nik"] == built.niks[done][:4] + "*" * 10 + built.niks[done][-2:]

    page = await anonymous.get(f"/papan/{sid}")
    assert (
        page.status_code == 200
        and f"/papan/{sid}.json" in page.text
        and 'data-poll-ms="3000"' in page.text
        and '<script src="/static/board.js"' in page.text
    )

    assert (await panitia.post(f"/panitia/hasil/sesi/{sid}/papan", {"on": "0"})).status_code == 303
    assert (await anonymous.get(f"/papan/{sid}.json")).status_code == 404


async def test_the_board_shows_progress_but_no_scores_when_results_are_not_released(
    db_engine, services: Services, admin: StaffClient, anonymous: httpx.AsyncClient
) -> None:  # type: ignore[no-untyped-def]
    built = build_exam(db_engine, release="never")
    add_candidate(db_engine, built, "Kartika", ["A"] * 8)
    await grade_all(services, built)
    await admin.post(f"/panitia/hasil/sesi/{built.session_ids[0]}/papan", {"on": "1"})
    board = (await anonymous.get(f"/papan/{built.session_ids[0]}.json")).json()
    assert board["released"] is False
    assert board["rows"][0]["state"] == "submitted" and board["rows"][0]["total"] is None


async def test_item_analysis_flags_a_question_whose_key_looks_wrong(
    db_engine, services: Services, viewer: StaffClient
) -> None:  # type: ignore[no-untyped-def]
    built = build_exam(db_engine)
    # TWK 1 is keyed A, but the strongest candidates all chose B: a miskeyed item.
    strong = ["B", "A", "A", "A", "A", "A", "A", "A"]
    weak = ["A", "C", "C", "C", "C", "C", "E", "E"]
    for i in range(6):
        add_candidate(db_engine, built, f"Kuat {i}", strong)
        add_candidate(db_engine, built, f"Lemah {i}", weak)
    await grade_all(services, built)
    page = await viewer.get(f"/panitia/hasil/ujian/{built.exam_id}/analisis")
    assert page.status_code == 200
    flagged_row = page.text.split('class="flagged"')
    assert len(flagged_row) == 2  # exactly one flagged row
    assert f"<td>{built.question_ids[0]}</td>" in flagged_row[1].split("</tr>")[0]
    assert "daya beda negatif: periksa kunci" in page.text and "KR-20" in page.text

    xlsx = await viewer.get(
        f"/panitia/hasil/ujian/{built.exam_id}/analisis.xlsx", params={"lang": "en"}
    )
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.content), read_only=True).active
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]  # type: ignore[union-attr]
    assert rows[0][:4] == ["Section", "Question id", "Question", "Key"]
    by_id = {r[1]: r for r in rows[1:]}
    assert len(by_id) == 8
    assert "negative discrimination" in by_id[built.question_ids[0]][9]
    assert by_id[built.question_ids[0]][6] < 0  # point-biserial
    assert by_id[built.question_ids[6]][3] == "bobot"


async def test_reliability_uses_the_questions_on_the_papers_and_says_why_a_draw_has_none(
    db_engine, services: Services, viewer: StaffClient
) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import select, update
    from sqlalchemy.orm import Session

    from exam_server.bank.store import row_values
    from exam_server.db.models import ExamQuestion, ExamSection, Question
    from exam_server.results.analysis import analyse_exam
    from question_bank.items import Item, ItemKind, Option

    built = build_exam(db_engine)
    for i, answers in enumerate(
        [["A", "A", "A"], ["A", "A", "B"], ["A", "B", "B"], ["B", "B", "B"], ["A", "A", "A"]]
    ):
        add_candidate(db_engine, built, f"Rel {i}", [*answers, "A", "A", "A", "A", "A"])
    # A spare question in TWK's pool that no paper drew: it must not empty the statistic.
    spare = Item(
        ItemKind.SINGLE,
        f"<p>cadangan {built.exam_id}</p>",
        (Option("A", "<p>a</p>", 1.0), Option("B", "<p>b</p>", 0.0)),
    )
    with Session(db_engine) as db, db.begin():
        question = Question(**row_values(spare))
        db.add(question)
        db.flush()
        twk = db.scalar(
            select(ExamSection).where(
                ExamSection.exam_id == built.exam_id, ExamSection.code == "TWK"
            )
        )
        assert twk is not None
        twk_id = twk.id
        db.add(ExamQuestion(section_id=twk_id, question_id=question.id, position=99))
    await grade_all(services, built)
    async with services.sessions() as db:
        twk_stats = (await analyse_exam(db, built.exam_id))[0]
    assert twk_stats.code == "TWK" and twk_stats.reliability is not None
    # By hand for the five rows above: p = (.8, .6, .4), so the sum of pq is .64; totals
    # 3, 2, 1, 0, 3 have population variance 1.36; KR-20 = 3/2 (1 - .64/1.36) = .7941.
    assert round(twk_stats.reliability, 4) == 0.7941

    with Session(db_engine) as db, db.begin():
        db.execute(update(ExamSection).where(ExamSection.id == twk_id).values(draw="per_candidate"))
    page = await viewer.get(f"/panitia/hasil/ujian/{built.exam_id}/analisis")
    assert "setiap peserta mengundi soal sendiri" in page.text
