"""The committee's spreadsheet template: CSV and XLSX, all or nothing, errors by line."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from openpyxl import Workbook, load_workbook

from question_bank.importing import parse_bank
from question_bank.items import ItemKind
from question_bank.template import COLUMNS, EXAMPLES, TEMPLATE_DIR, write_template_xlsx


def _csv(rows: list[dict[str, str]], delimiter: str = ",", columns=COLUMNS) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, delimiter=delimiter, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def _twk(n: int, **overrides: str) -> dict[str, str]:
    row = {
        "no": str(n),
        "seksi": "TWK",
        "kategori": "Pancasila",
        "tipe": "pg",
        "soal": f"Pertanyaan TWK nomor {n}?",
        "opsi_a": "satu",
        "opsi_b": "dua",
        "opsi_c": "tiga",
        "opsi_d": "empat",
        "opsi_e": "lima",
        "kunci": "C",
    }
    return {**row, **overrides}


def _codes(report) -> list[tuple[int | None, str]]:
    return [(p.line, p.code) for p in report.errors]


def test_the_shipped_csv_template_imports_its_three_worked_examples() -> None:
    report = parse_bank((TEMPLATE_DIR / "template-soal.csv").read_bytes(), "template-soal.csv")
    assert report.ok, report.errors
    twk, tkp, pgk = report.items
    assert (twk.section, twk.kind, twk.correct_ids, twk.difficulty) == (
        "TWK",
        ItemKind.SINGLE,
        ("B",),
        0.25,
    )
    assert tkp.weighted and [o.score for o in tkp.options] == [1, 2, 4, 5, 3]
    assert pgk.kind is ItemKind.MULTIPLE and pgk.all_or_nothing and pgk.correct_ids == ("A", "C")
    assert twk.tags == ("pancasila", "sila 4") and twk.external_id == "TWK-001"


def test_the_shipped_xlsx_template_is_what_the_generator_writes(tmp_path: Path) -> None:
    write_template_xlsx(tmp_path / "fresh.xlsx")
    shipped = load_workbook(TEMPLATE_DIR / "template-soal.xlsx")
    fresh = load_workbook(tmp_path / "fresh.xlsx")
    for name in ("soal", "petunjuk"):
        assert [list(r) for r in shipped[name].values] == [list(r) for r in fresh[name].values]
    report = parse_bank((TEMPLATE_DIR / "template-soal.xlsx").read_bytes(), "template-soal.xlsx")
    assert report.ok and len(report.items) == len(EXAMPLES)


def test_a_committee_file_of_110_questions_in_three_sections_imports_whole() -> None:
    rows = [_twk(n, soal=f"Soal TWK {n}") for n in range(1, 31)]
    rows += [
        _twk(n, seksi="TIU", kategori="Numerik", soal=f"{n} + {n} = ?", kunci="A")
        for n in range(31, 66)
    ]
    rows += [
        _twk(
            n,
            seksi="TKP",
            kategori="Pelayanan",
            tipe="bobot",
            soal=f"Situasi {n}",
            kunci="",
            bobot_a="1",
            bobot_b="2",
            bobot_c="3",
            bobot_d="4",
            bobot_e="5",
        )
        for n in range(66, 111)
    ]
    for name, data in (("bank.csv", _csv(rows)), ("bank.xlsx", _xlsx(rows))):
        report = parse_bank(data, name)
        assert report.ok, report.errors[:3]
        sections = [item.section for item in report.items]
        assert (sections.count("TWK"), sections.count("TIU"), sections.count("TKP")) == (30, 35, 45)


def _xlsx(rows: list[dict[str, str]]) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(list(COLUMNS))
    for row in rows:
        sheet.append([row.get(c) or None for c in COLUMNS])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_every_problem_is_listed_by_line_and_nothing_is_imported() -> None:
    rows = [
        _twk(1),
        _twk(2, kunci=""),  # line 3
        _twk(3, kunci="F"),  # line 4: no option F
        _twk(4, tipe="esai"),  # line 5
        _twk(5, tipe="bobot", kunci="", bobot_a="1"),  # line 6: weights missing
        _twk(6, opsi_b="", opsi_c="", opsi_d="", opsi_e="", kunci="A"),  # line 7: one option
        _twk(7, tingkat_kesulitan="berat"),  # line 8
        _twk(1),  # line 9: the same as line 2
    ]
    report = parse_bank(_csv(rows), "bank.csv")
    assert not report.ok and report.items == []
    found = _codes(report)
    assert (3, "missing_key") in found
    assert (4, "bad_key") in found
    assert (5, "bad_type") in found
    assert (6, "missing_weights") in found
    assert (7, "too_few_options") in found
    assert (8, "bad_number") in found
    assert (9, "duplicate") in found and report.duplicates == 1
    assert all(
        p.message_id and p.message_en and p.message_id != p.message_en for p in report.errors
    )
    duplicate = next(p for p in report.errors if p.code == "duplicate")
    assert "baris 2" in duplicate.message_id and "line 2" in duplicate.message_en


def test_a_multiple_answer_item_whose_fractions_do_not_add_up_is_refused() -> None:
    row = _twk(1, tipe="pgk", kunci="A, B", bobot_a="50", bobot_b="40")
    report = parse_bank(_csv([row]), "bank.csv")
    assert _codes(report) == [(2, "fractions_sum")]
    assert "90%" in report.errors[0].message_id


def test_negative_marking_and_partial_fractions_are_read_as_percentages() -> None:
    row = _twk(1, tipe="pgk", kunci="A, B", bobot_a="50", bobot_b="50", bobot_c="-25")
    (item,) = parse_bank(_csv([row]), "bank.csv").items
    assert [o.score for o in item.options] == [0.5, 0.5, -0.25, 0.0, 0.0]
    assert not item.all_or_nothing


def test_a_semicolon_file_with_decimal_commas_from_indonesian_excel_is_read() -> None:
    row = _twk(1, tingkat_kesulitan="0,7", tag="a; b")
    (item,) = parse_bank(_csv([row], delimiter=";"), "bank.csv").items
    assert item.difficulty == 0.7 and item.tags == ("a", "b")


def test_true_false_rows_need_no_option_text() -> None:
    row = {
        "soal": "Indonesia merdeka tahun 1945.",
        "tipe": "bs",
        "kunci": "benar",
        "opsi_a": "",
        "opsi_b": "",
    }
    (item,) = parse_bank(_csv([row]), "bank.csv").items
    assert item.kind is ItemKind.TRUE_FALSE and [o.html for o in item.options] == ["Benar", "Salah"]
    assert item.correct_ids == ("A",) and all(o.fixed for o in item.options)


def test_plain_text_keeps_less_than_signs_and_html_cells_are_sanitised() -> None:
    row = _twk(
        1, soal="Jika x < 3 & y > 2, maka ...", opsi_a="<b>tebal</b><script>alert(1)</script>"
    )
    (item,) = parse_bank(_csv([row]), "bank.csv").items
    assert item.stem_html == "Jika x &lt; 3 &amp; y &gt; 2, maka ..."
    assert item.options[0].html == "<b>tebal</b>"


def test_a_misspelt_or_missing_column_refuses_the_file() -> None:
    data = _csv([{"soal": "x", "opsi_a": "a", "kunci": "A"}], columns=("soal", "opsi_a", "kuncii"))
    report = parse_bank(data, "bank.csv")
    assert sorted(p.code for p in report.errors) == ["missing_column", "unknown_column"]


def test_importing_the_same_file_twice_gives_the_same_hashes() -> None:
    data = _csv([_twk(n, soal=f"Soal {n}") for n in range(1, 6)])
    first, second = parse_bank(data, "a.csv"), parse_bank(data, "b.csv")
    assert [i.content_hash() for i in first.items] == [i.content_hash() for i in second.items]
    assert len({i.content_hash() for i in first.items}) == 5


def test_an_empty_file_and_a_header_only_file_are_refused_with_their_own_message() -> None:
    assert _codes(parse_bank(b"", "bank.csv")) == [(None, "empty_file")]
    assert _codes(parse_bank(_csv([]), "bank.csv")) == [(None, "no_questions")]


def test_a_file_that_is_not_utf8_is_refused_as_such() -> None:
    data = _csv([_twk(1, soal="Ibu kota Jerman: Köln?")]).decode().encode("cp1252")
    report = parse_bank(data, "bank.csv")
    assert _codes(report) == [(None, "not_utf8")]
    assert "UTF-8" in report.errors[0].message_id


def test_a_damaged_workbook_is_refused_without_raising() -> None:
    report = parse_bank(b"PK\x03\x04 not really a zip", "bank.xlsx")
    assert not report.ok and report.items == []
