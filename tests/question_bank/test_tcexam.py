"""TCExam question exports: the fixture from a TCExam fork, and TCExam's own markup."""

from __future__ import annotations

from pathlib import Path

from question_bank.credit import credit
from question_bank.importing import parse_bank
from question_bank.items import ItemKind
from question_bank.tcexam import tcecode_to_html


def _file(*questions: str, module: str = "Seleksi", subject: str = "TIU") -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?><tcexamquestions version="13.1.1"><body>'
        f"<module><name>{module}</name><subject><name>{subject}</name>{''.join(questions)}"
        "</subject></module></body></tcexamquestions>"
    ).encode()


def _question(
    text: str, *answers: tuple[str, bool], qtype: str = "single", enabled: str = "true"
) -> str:
    body = "".join(
        f"<answer><isright>{'true' if ok else 'false'}</isright><description>{a}</description></answer>"
        for a, ok in answers
    )
    return f"<question><enabled>{enabled}</enabled><type>{qtype}</type><description>{text}</description>{body}</question>"


def test_the_tcexam_fixture_imports_its_multiple_answer_question(external: Path) -> None:
    path = external / "tcexam" / "dummy_exam.tcexam.xml"
    report = parse_bank(path.read_bytes(), path.name)
    assert report.ok and report.fmt == "tcexam", report.errors
    (item,) = report.items
    # expectations.json: 1 module 'Apa yak', 1 subject 'gatau', type=multiple,
    # isright=[false,true,false,true].
    assert item.category == "Apa yak/gatau" and item.kind is ItemKind.MULTIPLE
    assert [o.score > 0 for o in item.options] == [False, True, False, True]
    assert credit(item, {"B", "D"}) == 1.0 and credit(item, {"B"}) == 0.0  # all or nothing


def test_tcexam_markup_becomes_safe_html() -> None:
    html, missing = tcecode_to_html(
        "H[sub]2[/sub]O [b]air[/b] & <script>[br][ulist][li]satu[/li][/ulist]"
    )
    assert (
        html == "H<sub>2</sub>O <strong>air</strong> &amp; &lt;script&gt;<br><ul><li>satu</li></ul>"
    )
    assert missing == []


def test_defaults_disabled_questions_and_missing_images_follow_tcexams_rules() -> None:
    no_type = (
        "<question><description>Tanpa tipe</description>"
        "<answer><isright>true</isright><description>ya</description></answer>"
        "<answer><description>tidak</description></answer></question>"
    )
    disabled = _question("Nonaktif", ("a", True), ("b", False), enabled="false")
    report = parse_bank(_file(no_type, disabled), "bank.xml")
    assert report.ok, report.errors
    (item,) = report.items  # the disabled one stays behind, with a warning
    assert item.kind is ItemKind.SINGLE and item.correct_ids == ("A",)
    assert [w.code for w in report.warnings] == ["tcexam_disabled"]

    with_image = _question("Lihat [img]pola.png[/img] ini", ("a", True), ("b", False))
    refused = parse_bank(_file(with_image, no_type), "bank.xml")
    assert not refused.ok and refused.items == []
    assert [(p.item, p.code) for p in refused.errors] == [("Seleksi/TIU #1", "image_missing")]


def test_a_single_answer_question_with_two_keys_or_an_essay_is_refused_by_name() -> None:
    two_keys = _question("Dua kunci", ("a", True), ("b", True), ("c", False))
    essay = "<question><type>text</type><description>Uraikan</description></question>"
    report = parse_bank(_file(two_keys, essay), "bank.xml")
    assert [(p.item, p.code) for p in report.errors] == [
        ("Seleksi/TIU #1", "single_one_key"),
        ("Seleksi/TIU #2", "unsupported_type"),
    ]
    assert parse_bank(
        _file(two_keys.replace("Dua", "x"), essay), "b.xml", skip_unsupported=True
    ).errors


def test_a_tcexam_file_that_is_not_utf8_is_refused_as_such() -> None:
    data = _file(_question("Ibu kota?", ("Jakarta", True), ("Bandung", False))).replace(
        b"Ibu kota?", "Kota besar Österreich?".encode("cp1252")
    )
    report = parse_bank(data, "bank.xml")
    assert [p.code for p in report.errors] == ["not_utf8"]
