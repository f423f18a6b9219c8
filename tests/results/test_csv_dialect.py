"""CSV for an Indonesian spreadsheet (docs/results.md, "CSV"): semicolons, decimal commas
and a BOM by default, so it opens in columns; the former comma style on request."""

from __future__ import annotations

import csv
import io

from results.builders import add_candidate, build_exam, grade_all

from exam_server.web.spreadsheet_csv import COMMA, SEMICOLON, csv_text

TWK_HALF = ["A", "A", "A", "A", "A", "A", "A", "B"]


def test_numbers_take_a_decimal_comma_and_formulas_stay_defused() -> None:
    text = csv_text([["Nama", "Total"], ["Ani; Budi", 75.5], ["=1+1", 80.0], ["x", 3]])
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert rows == [["Nama", "Total"], ["Ani; Budi", "75,5"], ["'=1+1", "80"], ["x", "3"]]
    assert csv_text([[75.5]], COMMA) == "75.5\r\n" and csv_text([[75.5]], SEMICOLON) == "75,5\r\n"


async def test_the_results_csv_opens_in_columns_with_a_semicolon_dialect(
    db_engine,
    services,
    viewer,  # type: ignore[no-untyped-def]
) -> None:
    built = build_exam(db_engine)
    add_candidate(db_engine, built, "Sari, Dewi", TWK_HALF)
    await grade_all(services, built)
    resp = await viewer.get(f"/panitia/hasil/ujian/{built.exam_id}/hasil.csv")
    assert resp.content.startswith("\ufeff".encode())
    body = resp.content.decode("utf-8-sig")
    header, row = list(csv.reader(io.StringIO(body), delimiter=";"))[:2]
    assert header[:6] == ["Peringkat", "No. peserta", "NIK", "Nama", "Unit kerja", "Sesi"]
    record = dict(zip(header, row, strict=True))
    assert record["Nama"] == "Sari, Dewi" and record["TWK"] == "15" and record["Status"] == "LULUS"
    # The former format stays available for scripts.
    old = await viewer.get(
        f"/panitia/hasil/ujian/{built.exam_id}/hasil.csv", params={"sep": "comma"}
    )
    header, row = list(csv.reader(io.StringIO(old.content.decode("utf-8-sig"))))[:2]
    assert dict(zip(header, row, strict=True))["Nama"] == "Sari, Dewi"
