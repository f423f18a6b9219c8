"""Staff results: ranks, streamed CSV/XLSX exports that open, and who may do what."""

from __future__ import annotations

import csv
import io
import random

import openpyxl
from results.builders import add_candidate, build_exam, grade_all
from sqlalchemy import select, text
from sqlalchemy.orm import Session
from staff.support import StaffClient

from exam_server.db.staff_models import AuditEntry
from exam_server.delivery.services import Services
from exam_server.grading.scoring import RankInput, rank
from exam_server.results.standings import (
    exam_heads,
    query_params,
    ranked_query,
    tiebreak_codes,
)


async def _exam_with_ties(db_engine, services: Services):  # type: ignore[no-untyped-def]
    built = build_exam(db_engine, sessions=2)
    add_candidate(db_engine, built, "Ayu", ["A"] * 8)  # 40, passed
    add_candidate(db_engine, built, "Budi", ["A"] * 6 + ["A", "B"], session=1)  # 39
    # Same total 34, both passed; TKP decides first: Citra has TKP 9, Dewi TKP 4.
    add_candidate(db_engine, built, "Citra", ["A"] * 5 + ["B", "A", "B"])  # 15 + 10 + 9
    add_candidate(
        db_engine, built, "Dewi", ["A"] * 6 + ["C", "E"], unit="Dinas Lain"
    )  # 15 + 15 + 4
    add_candidate(db_engine, built, '=HYPERLINK("http://x")', [None] * 8, session=1)  # 0, failed
    add_candidate(db_engine, built, "Eko", None)  # absent
    add_candidate(db_engine, built, "Fajar", ["A"] * 8, status="running")
    await grade_all(services, built)
    return built


async def test_sql_ranks_agree_with_the_scoring_rank_rule_on_random_results(
    db_engine, services: Services
) -> None:  # type: ignore[no-untyped-def]
    built = build_exam(db_engine)
    rng = random.Random(6)
    for i in range(40):  # few items, many candidates: plenty of ties at every level
        add_candidate(
            db_engine,
            built,
            f"C{i}",
            [rng.choice(["A", "B", None]) for _ in range(6)]
            + [rng.choice("ABCDE"), rng.choice("ABCDE")],
        )
    await grade_all(services, built)
    async with services.sessions() as adb:
        heads = await exam_heads(adb, built.exam_id)
    with Session(db_engine) as db:
        rows = db.execute(
            ranked_query(tiebreak_codes(heads)), query_params(built.exam_id, None, None)
        ).all()
    assert tiebreak_codes(heads) == ["TKP", "TIU", "TWK"]
    expected = rank(
        [
            RankInput(
                r.attempt_id, bool(r.passed), r.total, {s["code"]: s["points"] for s in r.sections}
            )
            for r in rows
        ]
    )
    assert {r.attempt_id: r.rank for r in rows} == {e.attempt_id: e.rank for e in expected}
    assert len({r.rank for r in rows}) < len(rows)  # the data really had ties


async def test_a_viewer_downloads_an_xlsx_that_opens_with_ranks_and_sections(
    db_engine, services: Services, viewer: StaffClient
) -> None:  # type: ignore[no-untyped-def]
    built = await _exam_with_ties(db_engine, services)
    resp = await viewer.get(f"/panitia/hasil/ujian/{built.exam_id}/hasil.xlsx")
    assert resp.status_code == 200, resp.text[:500]
    assert resp.headers["content-disposition"].endswith('.xlsx"')
    sheet = openpyxl.load_workbook(io.BytesIO(resp.content), read_only=True).active
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]  # type: ignore[union-attr]
    header = rows[0]
    assert header[:6] == ["Peringkat", "No. peserta", "NIK", "Nama", "Unit kerja", "Sesi"]
    assert header[6:10] == ["TWK", "TIU", "TKP", "Total"]
    by_name = {r[3]: dict(zip(header, r, strict=True)) for r in rows[1:]}
    assert len(by_name) == 7
    assert (by_name["Ayu"]["Peringkat"], by_name["Ayu"]["Total"], by_name["Ayu"]["Status"]) == (
        1,
        40,
        "LULUS",
    )
    assert by_name["Budi"]["Peringkat"] == 2
    assert (by_name["Citra"]["Peringkat"], by_name["Dewi"]["Peringkat"]) == (
        3,
        4,
    )  # TKP broke the tie
    assert by_name["Dewi"]["TKP"] == 4 and by_name["Dewi"]["Status"] == "LULUS"
    # Eko's session is still open: scheduled, not absent yet (absent only after it closed).
    assert (
        by_name["Eko"]["Status"] == "terjadwal, belum mulai" and by_name["Eko"]["Peringkat"] is None
    )
    assert by_name["Fajar"]["Status"] == "sedang ujian"
    planted = by_name['=HYPERLINK("http://x")']
    assert (
        planted["Status"] == "TIDAK LULUS"
        and "TWK 0, di bawah ambang batas 15" in planted["Keterangan"]
    )
    with Session(db_engine) as db:
        logged = db.scalar(
            select(AuditEntry).where(
                AuditEntry.action == "export.results", AuditEntry.entity_id == str(built.exam_id)
            )
        )
    assert logged is not None and logged.username == viewer.username


async def test_the_csv_export_filters_by_session_keeps_exam_ranks_and_defuses_formulas(
    db_engine, services: Services, viewer: StaffClient
) -> None:  # type: ignore[no-untyped-def]
    built = await _exam_with_ties(db_engine, services)
    resp = await viewer.get(
        f"/panitia/hasil/ujian/{built.exam_id}/hasil.csv",
        params={"session": built.session_ids[1], "lang": "en"},
    )
    assert resp.status_code == 200
    body = resp.content.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(body), delimiter=";"))
    assert {r["Name"] for r in rows} == {"Budi", '\'=HYPERLINK("http://x")'}
    assert next(r for r in rows if r["Name"] == "Budi")["Rank"] == "2"  # rank in the whole exam
    unit = await viewer.get(
        f"/panitia/hasil/ujian/{built.exam_id}/hasil.csv", params={"unit": "Dinas Lain"}
    )
    assert [
        r["Nama"]
        for r in csv.DictReader(io.StringIO(unit.content.decode("utf-8-sig")), delimiter=";")
    ] == ["Dewi"]


async def test_a_viewer_reads_results_but_cannot_regrade_or_switch_boards(
    db_engine, services: Services, viewer: StaffClient
) -> None:  # type: ignore[no-untyped-def]
    built = await _exam_with_ties(db_engine, services)
    page = await viewer.get(f"/panitia/hasil/ujian/{built.exam_id}")
    assert page.status_code == 200 and "Ayu" in page.text and "nilai-ulang" not in page.text
    assert (await viewer.get(f"/panitia/hasil/ujian/{built.exam_id}/analisis")).status_code == 200
    assert (
        await viewer.post(f"/panitia/hasil/ujian/{built.exam_id}/nilai-ulang")
    ).status_code == 403
    assert (
        await viewer.post(f"/panitia/hasil/sesi/{built.session_ids[0]}/papan", {"on": "1"})
    ).status_code == 403
    with Session(db_engine) as db:
        assert (
            db.execute(
                text(
                    "SELECT count(*) FROM audit_log WHERE action = 'exam.regrade' "
                    "AND entity_id = :e"
                ),
                {"e": str(built.exam_id)},
            ).scalar()
            == 0
        )


async def test_a_proctor_and_a_stranger_see_no_results(
    db_engine, services: Services, proctor: StaffClient, anonymous
) -> None:  # type: ignore[no-untyped-def]
    built = await _exam_with_ties(db_engine, services)
    assert (await proctor.get(f"/panitia/hasil/ujian/{built.exam_id}")).status_code == 403
    assert (await proctor.get(f"/panitia/hasil/ujian/{built.exam_id}/hasil.csv")).status_code == 403
    stranger = await anonymous.get(f"/panitia/hasil/ujian/{built.exam_id}/hasil.xlsx")
    assert stranger.status_code == 303 and "/panitia/masuk" in stranger.headers["location"]


async def test_the_committee_regrades_from_the_page_and_sees_the_report(
    db_engine, services: Services, panitia: StaffClient
) -> None:  # type: ignore[no-untyped-def]
    from results.builders import set_key

    built = await _exam_with_ties(db_engine, services)
    await set_key(services, built.question_ids[5], "B")  # TIU 3: Citra chose B
    resp = await panitia.post(f"/panitia/hasil/ujian/{built.exam_id}/nilai-ulang")
    assert resp.status_code == 200
    # Ayu, Budi and Dewi lose TIU 3, Citra gains it; the blank paper and the running one stay.
    assert "Dinilai ulang: 5 · berubah: 4." in resp.text
    assert "TIU 15 → 10" in resp.text and "TIU 10 → 15" in resp.text
    no_csrf = await panitia.post(f"/panitia/hasil/ujian/{built.exam_id}/nilai-ulang", csrf=False)
    assert no_csrf.status_code == 403
