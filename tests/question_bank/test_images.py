"""One rule for pictures in every format: a question whose image cannot be kept is refused.

An SVG, a missing file, an image over 5 MiB, a hot-linked picture, audio or an embedded
object: the question is refused by line or item with the reason, never imported without
it (docs/question-bank.md, "HTML and images").
"""

from __future__ import annotations

import base64
import csv
import io
import zipfile

import pytest

from question_bank.importing import parse_bank
from question_bank.media import MAX_IMAGE_BYTES

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
BIG_PNG = PNG + b"\x00" * MAX_IMAGE_BYTES
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><circle r="4"/></svg>'


def _moodle(text: str, files: dict[str, bytes], extra: str = "") -> bytes:
    attached = "".join(
        f'<file name="{name}" encoding="base64">{base64.b64encode(data).decode()}</file>'
        for name, data in files.items()
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<quiz><question type="multichoice"><name><text>Peta Jawa</text></name>
<questiontext format="html"><text><![CDATA[{text}]]></text>{attached}</questiontext>
{extra}<single>true</single>
<answer fraction="100"><text>Jawa</text></answer><answer fraction="0"><text>Bali</text></answer>
</question></quiz>""".encode()


MOODLE_CASES = [
    (
        "svg",
        '<p>Pulau apa?</p><img src="@@PLUGINFILE@@/peta.svg">',
        {"peta.svg": SVG},
        "image_type",
        "peta.svg",
    ),
    (
        "missing",
        '<p>Pulau apa?</p><img src="@@PLUGINFILE@@/peta.png">',
        {},
        "image_missing",
        "peta.png",
    ),
    (
        "oversize",
        '<p>Pulau apa?</p><img src="@@PLUGINFILE@@/peta.png">',
        {"peta.png": BIG_PNG},
        "image_too_big",
        "peta.png",
    ),
    (
        "hot-linked",
        '<p>Pulau apa?</p><img src="https://cdn.example/peta.png">',
        {},
        "image_source",
        "https://cdn.example/peta.png",
    ),
    ("inline svg", "<p>Pulau apa?</p><svg><circle r='4'/></svg>", {}, "image_type", "<svg>"),
    (
        "video",
        '<p>Pulau apa?</p><video src="@@PLUGINFILE@@/peta.mp4"></video>',
        {"peta.mp4": b"\x00\x00\x00\x18ftypmp42"},
        "media_unsupported",
        "peta.mp4",
    ),
]


@pytest.mark.parametrize(("case", "text", "files", "code", "name"), MOODLE_CASES)
def test_moodle_xml_refuses_the_question_whose_picture_cannot_be_kept(
    case: str, text: str, files: dict[str, bytes], code: str, name: str
) -> None:
    for skip in (False, True):
        report = parse_bank(_moodle(text, files), "soal.xml", skip_unsupported=skip)
        assert report.items == [] and report.warnings == [], case
        assert [(p.item, p.code) for p in report.errors] == [("Peta Jawa", code)], case
        assert name in report.errors[0].message_id and name in report.errors[0].message_en


def test_moodle_19_image_tag_with_an_svg_is_refused() -> None:
    extra = f"<image>peta.svg</image><image_base64>{base64.b64encode(SVG).decode()}</image_base64>"
    report = parse_bank(_moodle("<p>Pulau apa?</p>", {}, extra), "soal.xml")
    assert [(p.item, p.code) for p in report.errors] == [("Peta Jawa", "image_type")]
    missing = parse_bank(_moodle("<p>Pulau apa?</p>", {}, "<image>peta.png</image>"), "s.xml")
    assert [p.code for p in missing.errors] == ["image_missing"]


def test_a_moodle_png_is_kept_with_the_question() -> None:
    data = _moodle('<p>Pulau apa?</p><img src="@@PLUGINFILE@@/peta.png">', {"peta.png": PNG})
    (item,) = parse_bank(data, "soal.xml").items
    assert item.images[0].data == PNG and '<img src="@@IMG@@/peta.png">' in item.stem_html


def _qti(body: str, files: dict[str, bytes]) -> bytes:
    item = f"""<assessmentItem xmlns="http://www.imsglobal.org/xsd/imsqti_v2p1" identifier="peta">
  <responseDeclaration identifier="RESPONSE" cardinality="single" baseType="identifier">
    <correctResponse><value>A</value></correctResponse></responseDeclaration>
  <itemBody><p>Pulau apa?</p>{body}
    <choiceInteraction responseIdentifier="RESPONSE" maxChoices="1">
      <simpleChoice identifier="A">Jawa</simpleChoice><simpleChoice identifier="B">Bali</simpleChoice>
    </choiceInteraction></itemBody>
  <responseProcessing template="http://www.imsglobal.org/question/qti_v2p1/rptemplates/match_correct"/>
</assessmentItem>"""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr(
            "imsmanifest.xml",
            '<manifest xmlns="http://www.imsglobal.org/xsd/imscp_v1p1"><resources>'
            '<resource identifier="res-peta" type="imsqti_item_xmlv2p1" href="items/peta.xml"/>'
            "</resources></manifest>",
        )
        archive.writestr("items/peta.xml", item)
        for name, data in files.items():
            archive.writestr(f"items/{name}", data)
    return out.getvalue()


QTI_CASES = [
    (
        "svg",
        '<img src="images/peta.svg" alt=""/>',
        {"images/peta.svg": SVG},
        "image_type",
        "peta.svg",
    ),
    ("missing", '<img src="images/peta.png" alt=""/>', {}, "image_missing", "images/peta.png"),
    (
        "oversize",
        "<img src='images/peta.png' alt=''/>",
        {"images/peta.png": BIG_PNG},
        "image_too_big",
        "peta.png",
    ),
    (
        "hot-linked",
        '<img src="https://cdn.example/peta.png" alt=""/>',
        {},
        "image_source",
        "https://cdn.example/peta.png",
    ),
    (
        "object",
        '<object data="images/peta.svg" type="image/svg+xml"/>',
        {"images/peta.svg": SVG},
        "media_unsupported",
        "images/peta.svg",
    ),
]


@pytest.mark.parametrize(("case", "body", "files", "code", "name"), QTI_CASES)
def test_a_qti_package_refuses_the_item_whose_picture_cannot_be_kept_naming_its_file(
    case: str, body: str, files: dict[str, bytes], code: str, name: str
) -> None:
    report = parse_bank(_qti(body, files), "paket.zip", skip_unsupported=True)
    assert report.items == [], case
    assert [(p.file, p.item, p.code) for p in report.errors] == [
        ("items/peta.xml", "peta", code)
    ], case
    assert name in report.errors[0].message_en and "items/peta.xml" in report.errors[0].message_id


def test_a_qti_png_is_kept_with_the_item() -> None:
    (item,) = parse_bank(
        _qti('<img src="images/peta.png"/>', {"images/peta.png": PNG}), "p.zip"
    ).items
    assert item.images[0].data == PNG and 'src="@@IMG@@/peta.png"' in item.stem_html


SHEET_CASES = [
    ('<p>Pulau apa? <img src="https://cdn.example/peta.png"></p>', "image_source"),
    ('<p>Pulau apa? <img src="peta.png"></p>', "image_missing"),
    ("<p>Pulau apa?</p><svg><circle r='4'/></svg>", "image_type"),
    ('<p>Pulau apa? <img src="data:image/png;base64,iVBORw0KGgo="></p>', "image_source"),
]


@pytest.mark.parametrize(("cell", "code"), SHEET_CASES)
def test_a_spreadsheet_row_that_shows_a_picture_is_refused_at_its_line(
    cell: str, code: str
) -> None:
    from openpyxl import Workbook

    rows = [
        ["soal", "opsi_a", "opsi_b", "kunci"],
        ["Ibu kota Bali?", "Denpasar", "Kuta", "A"],
        [cell, "Jawa", "Bali", "A"],
    ]
    text = io.StringIO()
    csv.writer(text).writerows(rows)
    csv_report = parse_bank(text.getvalue().encode(), "soal.csv")
    book = Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    xlsx_report = parse_bank(out.getvalue(), "soal.xlsx")
    for report in (csv_report, xlsx_report):
        assert report.items == []
        assert [(p.line, p.code) for p in report.errors] == [(3, code)], report.errors


def test_a_picture_in_an_option_cell_is_refused_too() -> None:
    text = 'soal,opsi_a,opsi_b,kunci\nBendera Jepang?,"<img src=""jp.png"">",Merah putih,A\n'
    report = parse_bank(text.encode(), "soal.csv")
    assert [(p.line, p.code) for p in report.errors] == [(2, "image_missing")]
