"""Problems inside a package name the file inside it; wrong containers get their own message."""

from __future__ import annotations

import io
import zipfile

import pytest

from question_bank.importing import parse_bank

MANIFEST = """<manifest xmlns="http://www.imsglobal.org/xsd/imscp_v1p1"><resources>{}</resources></manifest>"""


def _item(identifier: str, key: str = "A") -> str:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<assessmentItem xmlns="http://www.imsglobal.org/xsd/imsqti_v2p1" identifier="{identifier}">
  <responseDeclaration identifier="RESPONSE" cardinality="single" baseType="identifier">
    <correctResponse><value>{key}</value></correctResponse>
  </responseDeclaration>
  <itemBody>
    <choiceInteraction responseIdentifier="RESPONSE" maxChoices="1">
      <prompt>Soal {identifier}?</prompt>
      <simpleChoice identifier="A">Ya</simpleChoice>
      <simpleChoice identifier="B">Tidak</simpleChoice>
    </choiceInteraction>
  </itemBody>
  <responseProcessing template="http://www.imsglobal.org/question/qti_v2p1/rptemplates/match_correct"/>
</assessmentItem>
"""


def _package(files: dict[str, str | bytes], resources: list[tuple[str, str]]) -> bytes:
    listed = "".join(
        f'<resource identifier="{rid}" type="imsqti_item_xmlv2p1" href="{href}"/>'
        for rid, href in resources
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("imsmanifest.xml", MANIFEST.format(listed))
        for name, data in files.items():
            archive.writestr(name, data)
    return out.getvalue()


def test_a_broken_item_in_a_qti_package_is_named_by_file_identifier_and_line() -> None:
    broken = _item("q2").replace(
        "</simpleChoice>\n    </choiceInteraction>", "\n    </choiceInteraction>"
    )
    data = _package(
        {"items/q1.xml": _item("q1"), "items/q2.xml": broken, "items/q3.xml": _item("q3", "C")},
        [("res-q1", "items/q1.xml"), ("res-q2", "items/q2.xml"), ("res-q3", "items/q3.xml")],
    )
    report = parse_bank(data, "paket.zip")
    assert report.items == []
    located = [(p.file, p.item, p.line, p.code) for p in report.errors]
    # The broken file's own identifier cannot be read, so the manifest's names it; the
    # other items' problems are still listed (q3's key names no choice).
    assert located == [
        ("items/q2.xml", "res-q2", 11, "bad_xml"),
        ("items/q3.xml", "q3", None, "no_correct_answer"),
    ]
    assert report.errors[0].message_id.startswith("Berkas items/q2.xml: XML tidak sah di baris 11")
    assert report.errors[0].message_en.startswith("File items/q2.xml: Invalid XML at line 11")


def test_a_broken_manifest_is_named_with_its_line() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("imsmanifest.xml", "<manifest>\n<resources>\n</manifest>\n")
    (problem,) = parse_bank(out.getvalue(), "paket.zip").errors
    assert (problem.file, problem.line, problem.code) == ("imsmanifest.xml", 3, "bad_xml")
    assert "imsmanifest.xml" in problem.message_id


def test_a_missing_or_foreign_file_in_a_package_is_named() -> None:
    data = _package(
        {"items/q1.xml": _item("q1"), "items/page.xml": "<html><body/></html>"},
        [
            ("res-q1", "items/q1.xml"),
            ("res-gone", "items/gone.xml"),
            ("res-page", "items/page.xml"),
        ],
    )
    located = [(p.file, p.item, p.code) for p in parse_bank(data, "paket.zip").errors]
    assert located == [
        ("items/gone.xml", "res-gone", "qti_missing_file"),
        ("items/page.xml", "res-page", "not_qti"),
    ]


def test_the_same_question_twice_in_a_package_names_both_files() -> None:
    data = _package(
        {"items/a.xml": _item("a"), "items/b.xml": _item("a").replace('"a"', '"b"')},
        [("ra", "items/a.xml"), ("rb", "items/b.xml")],
    )
    (problem,) = parse_bank(data, "paket.zip").errors
    assert (problem.file, problem.item, problem.code) == ("items/b.xml", "b", "duplicate")
    assert "items/a.xml" in problem.message_id


def _damaged_member(data: bytes, name: str) -> bytes:
    """The package with one stored file's bytes changed, so its CRC no longer matches."""
    archive = zipfile.ZipFile(io.BytesIO(data))
    info = archive.getinfo(name)
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    return data[:start] + b"X" + data[start + 1 :]


def test_a_damaged_file_inside_a_package_is_named() -> None:
    data = _package({"items/q1.xml": _item("q1")}, [("res-q1", "items/q1.xml")])
    (problem,) = parse_bank(_damaged_member(data, "items/q1.xml"), "paket.zip").errors
    assert (problem.file, problem.item, problem.code) == ("items/q1.xml", "res-q1", "bad_zip")
    assert "items/q1.xml" in problem.message_en and "damaged" in problem.message_en


def test_a_password_protected_file_inside_a_package_is_named() -> None:
    data = bytearray(_package({"items/q1.xml": _item("q1")}, [("res-q1", "items/q1.xml")]))
    central = data.index(b"PK\x01\x02", data.index(b"PK\x01\x02") + 4)  # the item's entry
    data[central + 8] |= 0x01  # the "encrypted" flag
    (problem,) = parse_bank(bytes(data), "paket.zip").errors
    assert (problem.file, problem.code) == ("items/q1.xml", "bad_zip")
    assert "kata sandi" in problem.message_id and "password" in problem.message_en


def _workbook(rows: list[list[str]], title: str = "soal") -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    book.active.title = title
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_xlsx_row_problems_name_the_sheet_the_row_and_the_question() -> None:
    data = _workbook(
        [
            ["soal", "opsi_a", "opsi_b", "kunci", "id_eksternal"],
            ["Ibu kota Bali?", "Denpasar", "Kuta", "C", "TWK-7"],
        ],
        title="Bank TWK",
    )
    (problem,) = parse_bank(data, "soal.xlsx").errors
    assert (problem.sheet, problem.line, problem.item, problem.code) == (
        "Bank TWK",
        2,
        "TWK-7",
        "bad_key",
    )
    assert problem.message_id.startswith("Lembar 'Bank TWK': ")
    assert problem.message_en.startswith("Sheet 'Bank TWK': ")


def test_a_damaged_sheet_inside_an_xlsx_names_its_file_and_where_reading_stopped() -> None:
    rows = [["soal", "opsi_a", "opsi_b", "kunci"]] + [
        [f"Soal {n}?", "ya", "tidak", "A"] for n in range(40)
    ]
    data = _workbook(rows)
    archive = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as damaged:
        for name in archive.namelist():
            body = archive.read(name)
            if name == "xl/worksheets/sheet1.xml":
                body = body[: body.index(b'<row r="31"') + 12]
            damaged.writestr(name, body)
    (problem,) = parse_bank(out.getvalue(), "soal.xlsx").errors
    assert (problem.file, problem.sheet, problem.line, problem.code) == (
        "xl/worksheets/sheet1.xml",
        "soal",
        31,
        "bad_sheet",
    )
    assert "xl/worksheets/sheet1.xml" in problem.message_id


def test_a_damaged_workbook_part_is_named() -> None:
    archive = zipfile.ZipFile(io.BytesIO(_workbook([["soal", "opsi_a", "opsi_b"]])))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as damaged:
        for name in archive.namelist():
            body = archive.read(name)
            damaged.writestr(name, body[:40] if name == "xl/workbook.xml" else body)
    (problem,) = parse_bank(out.getvalue(), "soal.xlsx").errors
    assert (problem.file, problem.code) == ("xl/workbook.xml", "bad_sheet")


WINDOWS_1252_GIFT = b"::Kopi:: Kopi dari Aceh terkenal? {T}" + b" caf\xe9"


@pytest.mark.parametrize(
    ("name", "data", "fmt", "words"),
    [
        ("paket.zip", b"::a:: b {T}\n", None, "not a zip"),
        ("paket.zip", WINDOWS_1252_GIFT, None, "not a zip"),
        ("paket.zip", b"Rar!\x1a\x07\x00" + b"\x00" * 20, None, "RAR"),
        ("paket.zip", b"\x1f\x8b\x08" + b"\x00" * 20, None, "gzip"),
        ("soal.xlsx", b"soal,opsi_a,opsi_b,kunci\nx,y,z,A\n", None, "XLSX workbook always is"),
        ("soal.csv", b"soal,opsi_a,opsi_b,kunci\n", "xlsx", "XLSX workbook always is"),
    ],
)
def test_a_file_that_is_not_the_zip_it_claims_is_refused_as_bad_zip(
    name: str, data: bytes, fmt: str | None, words: str
) -> None:
    (problem,) = parse_bank(data, name, fmt).errors
    assert problem.code == "bad_zip" and words in problem.message_en
    assert problem.message_id != problem.message_en


def test_a_truncated_zip_is_refused_as_damaged() -> None:
    data = _package({"items/q1.xml": _item("q1")}, [("res-q1", "items/q1.xml")])
    (problem,) = parse_bank(data[: len(data) // 2], "paket.zip").errors
    assert problem.code == "bad_zip" and "damaged or truncated" in problem.message_en


def _zip(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, body in files.items():
            archive.writestr(name, body)
    return out.getvalue()


@pytest.mark.parametrize(
    ("name", "data", "words"),
    [
        ("soal.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64, "Excel/Word 97-2003"),
        ("soal.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64, "Excel/Word 97-2003"),
        ("soal.pdf", b"%PDF-1.7\n", "PDF"),
        ("soal.docx", _zip({"word/document.xml": b"<w:document/>"}), "Word document"),
        (
            "soal.ods",
            _zip(
                {
                    "mimetype": b"application/vnd.oasis.opendocument.spreadsheet",
                    "content.xml": b"<office:document-content/>",
                }
            ),
            "OpenDocument",
        ),
    ],
)
def test_another_container_gets_its_own_message(name: str, data: bytes, words: str) -> None:
    (problem,) = parse_bank(data, name).errors
    assert problem.code == "wrong_container" and words in problem.message_en


def test_a_zip_read_as_a_text_format_says_which_formats_take_a_zip() -> None:
    workbook = _workbook([["soal", "opsi_a", "opsi_b", "kunci"], ["Ya?", "ya", "tidak", "A"]])
    (problem,) = parse_bank(workbook, "soal.csv", "csv").errors
    assert (
        problem.code == "wrong_container" and "choose the xlsx or qti format" in problem.message_en
    )
    assert parse_bank(workbook, "soal.csv").ok  # detected from its bytes, it reads as XLSX
