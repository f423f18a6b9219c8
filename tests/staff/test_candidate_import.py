"""Reading candidate lists: the template, every refusal with its line, twins for review."""

from __future__ import annotations

import datetime as dt
import io

from openpyxl import Workbook, load_workbook

from exam_server.staff.candidate_import import (
    TEMPLATE_HEADER,
    parse_candidates,
    template_csv,
    template_xlsx,
)

HEADER = "NIK,Nama,Tanggal Lahir,Unit Kerja/OPD,Telepon,Email,Foto\n"


def csv_of(*rows: str) -> bytes:
    return (HEADER + "\n".join(rows) + "\n").encode()


def test_the_shipped_templates_import_cleanly() -> None:
    for data, name in ((template_csv(), "templat.csv"), (template_xlsx(), "templat.xlsx")):
        report = parse_candidates(data, name)
        assert report.ok, report.errors
        assert [r.name for r in report.rows] == ["Siti Aminah", "Budi Santoso"]
        assert report.rows[1].birth_date == dt.date(1990, 8, 17)


def test_the_xlsx_template_keeps_the_nik_column_as_text() -> None:
    sheet = load_workbook(io.BytesIO(template_xlsx())).active
    assert [c.value for c in sheet[1]] == TEMPLATE_HEADER
    assert sheet["A2"].number_format == "@"


def test_every_problem_is_listed_with_its_line_number() -> None:
    report = parse_candidates(
        csv_of(
            "3201234567890001,Siti,1994-08-17,Dinas A,,,",
            "320123456789,Pendek,1994-08-17,Dinas A,,,",
            "3201234567890003,,1994-08-17,Dinas A,,,",
            "3201234567890004,Tanggal Salah,31-02-1990,Dinas A,,,",
            "3201234567890005,Surel Salah,,Dinas A,,bukan-email,",
        ),
        "peserta.csv",
    )
    assert not report.ok
    assert [(p.line, p.item) for p in report.errors] == [
        (3, "320123456789"),
        (4, "3201234567890003"),
        (5, "3201234567890004"),
        (6, "3201234567890005"),
    ]
    assert "16 angka" in report.errors[0].message_id
    assert "16 digits" in report.errors[0].message("en")


def test_a_duplicate_nik_names_both_rows() -> None:
    report = parse_candidates(
        csv_of(
            "3201234567890001,Siti,,Dinas A,,,",
            "3201234567890002,Budi,,Dinas A,,,",
            "3201234567890001,Siti Lain,,Dinas B,,,",
        ),
        "peserta.csv",
    )
    assert len(report.errors) == 1
    error = report.errors[0]
    assert error.line == 4
    assert "baris 2 dan baris 4" in error.message_id
    assert "lines 2 and 4" in error.message_en


def test_twin_names_with_different_niks_are_listed_not_merged() -> None:
    report = parse_candidates(
        csv_of(
            "3201234567890001,Siti Aminah,,Dinas A,,,",
            "3201234567890002,siti  aminah,,Dinas B,,,",
        ),
        "peserta.csv",
    )
    assert report.ok and len(report.rows) == 2
    assert len(report.twins) == 1
    assert report.twins[0].entries == (
        "baris 2 (NIK 3201234567890001)",
        "baris 3 (NIK 3201234567890002)",
    )


def test_a_missing_required_column_refuses_the_file_at_line_one() -> None:
    report = parse_candidates(b"Nama,Unit\nSiti,Dinas A\n", "x.csv")
    assert [(p.line, p.message_id) for p in report.errors] == [
        (1, "Kolom wajib tidak ada: NIK. Gunakan templat.")
    ]


def test_english_headers_and_semicolons_are_accepted() -> None:
    data = b"nik;name;birth_date;unit\n3201234567890001;Siti;17/08/1994;Dinas A\n"
    report = parse_candidates(data, "x.csv")
    assert report.ok and report.rows[0].birth_date == dt.date(1994, 8, 17)


def test_a_quoted_newline_does_not_shift_later_line_numbers() -> None:
    data = csv_of('3201234567890001,"Siti\nAminah",,Dinas A,,,', "123,Salah,,Dinas A,,,")
    report = parse_candidates(data, "x.csv")
    assert [p.line for p in report.errors] == [4]


def test_a_nik_typed_as_a_number_in_excel_is_refused() -> None:
    book = Workbook()
    sheet = book.active
    sheet.append(TEMPLATE_HEADER)
    sheet.append([3.201234567890001e15, "Siti", dt.datetime(1994, 8, 17), "Dinas A"])
    sheet.append(["3201234567890002", "Budi", dt.datetime(1990, 1, 2), "Dinas A"])
    out = io.BytesIO()
    book.save(out)
    report = parse_candidates(out.getvalue(), "peserta.xlsx")
    assert [p.line for p in report.errors] == [2]
    assert "Teks" in report.errors[0].message_id


def test_an_empty_file_and_a_damaged_xlsx_are_refused_with_a_reason() -> None:
    assert parse_candidates(b"", "x.csv").errors[0].message_id == "Berkas kosong."
    damaged = parse_candidates(b"PK\x03\x04 not really a zip", "x.xlsx")
    assert damaged.errors[0].line is None
    assert "tidak dapat dibaca" in damaged.errors[0].message_id


def test_a_workbook_whose_sheet_is_damaged_inside_the_zip_is_refused_as_a_file() -> None:
    """openpyxl meets a damaged sheet only while reading it (found by the fuzzing)."""
    import zipfile

    from exam_server.staff.candidate_import import parse_candidates, template_xlsx

    data = bytearray(template_xlsx())
    info = zipfile.ZipFile(io.BytesIO(bytes(data))).getinfo("xl/worksheets/sheet1.xml")
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    data[start + info.compress_size // 2] ^= 0xFF  # the sheet's bytes no longer match its CRC
    report = parse_candidates(bytes(data), "peserta.xlsx")
    assert report.rows == [] and len(report.errors) == 1
    assert "XLSX" in str(report.errors[0])
