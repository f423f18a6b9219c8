"""Other tools' real files in tests/fixtures (see tests/fixtures/SOURCES.md), read as their
own projects' tests expect, or refused for a reason we can name."""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path

import pytest

from question_bank.importing import parse_bank
from question_bank.items import ItemKind
from question_bank.sanitize import html_to_text

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def _read(name: str, **options: bool):
    path = FIXTURES / name
    return parse_bank(path.read_bytes(), path.name, **options)


def test_every_fixture_is_listed_in_the_sources_table() -> None:
    table = (FIXTURES / "SOURCES.md").read_text(encoding="utf-8")
    files = sorted(str(p.relative_to(FIXTURES)) for p in FIXTURES.rglob("*") if p.is_file())
    assert [f for f in files if f != "SOURCES.md" and f"`{f}`" not in table] == []


def test_a_moodle_gift_export_with_escaped_line_breaks_and_pictures() -> None:
    # QAS-Editor's test reads 4 true/false questions; two show @@PLUGINFILE@@/moodlewhich.jpg,
    # which a GIFT file cannot carry, so those two are refused at their own lines.
    report = _read("gift/qas-editor_true_false.gift")
    assert report.items == []
    assert [(p.line, p.item, p.code) for p in report.errors] == [
        (10, "TrueFalse 3", "image_missing"),
        (12, "TrueFalse 4", "image_missing"),
    ]
    assert all("moodlewhich.jpg" in p.message_id for p in report.errors)


def test_without_its_pictures_the_moodle_export_gives_the_four_questions() -> None:
    text = (FIXTURES / "gift/qas-editor_true_false.gift").read_text(encoding="utf-8")
    text = re.sub(r"<img [^>]*>", "", text)
    report = parse_bank(text.encode(), "true_false.gift")
    assert report.ok, report.errors
    assert [i.external_id for i in report.items] == [f"TrueFalse {n}" for n in range(1, 5)]
    assert [i.kind for i in report.items] == [ItemKind.TRUE_FALSE] * 4
    assert [i.correct_ids for i in report.items] == [("A",), ("B",), ("A",), ("B",)]
    first = report.items[0]  # "\n" between paragraphs: one question, every sentence kept
    assert "Is this statement true or false?" in first.stem_html
    assert "deferred feedback" in first.stem_html


def test_qas_editors_multichoice_gift_gives_four_questions_with_their_fractions() -> None:
    report = _read("gift/qas-editor_multichoice.gift")
    assert report.ok, report.errors
    names = [i.external_id for i in report.items]
    assert names == ["Multichoice1", "Multichoice2", "Multichoice3", "Multichoice4"]
    third = report.items[2]  # the project's test: option 2 of "Multichoice3" is worth 100
    assert html_to_text(third.stem_html).endswith("When was Moodle 3.0 released?")
    assert [o.score for o in third.options] == [0.0, 1.0, 0.0]
    fourth = report.items[3]
    assert fourth.kind is ItemKind.MULTIPLE
    assert [round(o.score * 100, 5) for o in fourth.options] == [
        33.33333,
        -33.33333,
        33.33333,
        -33.33333,
        -33.33333,
        33.33333,
    ]
    assert "feedback" not in fourth.stem_html and "Well done" not in fourth.options[5].html


@pytest.mark.parametrize("name", ["pegjs_totara_moodle_multichoice", "pegjs_symbolsAll"])
def test_gift_grammar_examples_give_the_parse_their_project_expects(name: str) -> None:
    (item,) = _read(f"gift/{name}.gift").items
    (expected,) = json.loads((FIXTURES / f"gift/{name}.json").read_text(encoding="utf-8"))
    stem = expected.get("formattedStem") or expected["stem"]
    assert item.external_id == expected["title"]
    assert html_to_text(item.stem_html) == " ".join(stem["text"].split())
    if expected["type"] == "TF":
        assert item.kind is ItemKind.TRUE_FALSE
        assert item.correct_ids == (("A",) if expected["isTrue"] else ("B",))
        return
    choices = expected["choices"]
    assert [html_to_text(o.html) for o in item.options] == [
        c["formattedText"]["text"] for c in choices
    ]
    assert [o.score > 0 for o in item.options] == [c["isCorrect"] for c in choices]


def test_an_essay_with_an_escaped_line_break_is_one_question_named_by_type() -> None:
    (expected,) = json.loads((FIXTURES / "gift/pegjs_newlineAndLaTeX.json").read_text())
    assert expected["type"] == "Essay"
    report = _read("gift/pegjs_newlineAndLaTeX.gift")
    assert [(p.line, p.code) for p in report.errors] == [(1, "unsupported_type")]
    assert "'essay'" in report.errors[0].message_en


def test_qas_editors_aiken_file_gives_five_questions() -> None:
    report = _read("aiken/qas-editor_aiken_1.txt")
    assert report.ok and report.fmt == "aiken" and len(report.items) == 5
    second = report.items[1]  # what the project's test checks
    assert html_to_text(second.stem_html) == (
        "During the month of September 2013, Moodle ran a successful MOOC for teachers new "
        "to Moodle. What was the name of the course?"
    )
    assert [html_to_text(o.html) for o in second.options] == [
        "Teaching with Moodle",
        "Moodle MOOC",
        "Moodle for Teachers",
    ]
    assert [o.score for o in second.options] == [1.0, 0.0, 0.0]


def test_a_qtiworks_item_with_a_doctype_alone_is_refused_for_its_missing_picture() -> None:
    report = _read("qti/qtiworks_choice_doctype.xml")
    assert [(p.item, p.code) for p in report.errors] == [("choice", "image_missing")]
    assert "images/sign.png" in report.errors[0].message_en


def test_the_qtiworks_item_in_a_package_with_its_picture_imports() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("choice.xml", (FIXTURES / "qti/qtiworks_choice_doctype.xml").read_bytes())
        archive.writestr("images/sign.png", PNG)
    report = parse_bank(out.getvalue(), "choice.zip")
    assert report.ok, report.errors
    (item,) = report.items
    assert item.correct_ids == ("ChoiceA",) and item.external_id == "choice"
    assert all(o.fixed for o in item.options)  # shuffle="false"
    assert item.images[0].data == PNG and "What does it say?" in item.stem_html
