"""Aiken and GIFT files written by Moodle and GIFT-grammar-PEG.js, read all or nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from question_bank.aiken import read_aiken
from question_bank.importing import parse_bank
from question_bank.items import ItemKind
from question_bank.sanitize import html_to_text


def _read(path: Path, **options: bool):
    return parse_bank(path.read_bytes(), path.name, **options)


def test_moodles_aiken_sample_imports_two_questions_with_their_keys(external: Path) -> None:
    report = _read(external / "moodle/aiken/questions.aiken.txt")
    assert report.ok and report.fmt == "aiken"
    first, second = report.items
    assert html_to_text(first.stem_html) == "The Moodle project was started by:"
    assert len(first.options) == 4 and first.correct_ids == ("B",)
    assert html_to_text(second.stem_html) == (
        'Moodle\'s abilities include handling user input that includes <html class="cool"> & images:'
    )
    assert second.correct_ids == ("A",)


def test_aiken_errors_file_is_refused_whole_listing_lines_3_5_7_and_18(external: Path) -> None:
    report = _read(external / "moodle/aiken/aiken_errors.txt")
    assert report.items == []
    assert [(p.line, p.code) for p in report.errors] == [
        (3, "aiken_few_answers"),
        (5, "aiken_not_started"),
        (7, "aiken_not_started"),
        (18, "aiken_not_completed"),
    ]


def test_the_three_good_questions_in_aiken_errors_read_as_moodle_reads_them(external: Path) -> None:
    drafts = read_aiken((external / "moodle/aiken/aiken_errors.txt").read_text())
    items = [d.item for d in drafts if d.item is not None]
    expected = json.loads((external / "expectations.json").read_text())[
        "moodle/aiken/aiken_errors.txt"
    ]
    assert [html_to_text(i.stem_html) for i in items] == expected["valid"]
    checks = expected["checks"]
    assert [o.html for o in items[0].options] == checks["A good question"]["answers"]
    assert [o.html for o in items[1].options] == checks["A second good question"]["answers"]
    assert items[1].correct_ids == ("B",)
    third = checks["A third good question with HTML chars such as > < &"]["answers_html_escaped"]
    assert [o.html for o in items[2].options] == third


def test_gift_from_moodles_unit_tests_gives_the_asserted_fractions(external: Path) -> None:
    folder = external / "moodle/gift/from_giftformat_test"
    cases = json.loads((folder / "giftformat_test_cases.json").read_text())["cases"]
    checked = 0
    for case in cases:
        expected = case["expected"]
        report = _read(folder / f"{case['name']}.gift")
        if expected.get("qtype") == "multichoice":
            (item,) = report.items
            assert [o.score for o in item.options] == pytest.approx(expected["fraction"])
            assert item.kind is (ItemKind.SINGLE if expected["single"] else ItemKind.MULTIPLE)
            assert [html_to_text(o.html) for o in item.options] == [
                a[0] for a in expected["answers"]
            ]
            checked += 1
        elif expected.get("qtype") == "truefalse":
            (item,) = report.items
            assert item.kind is ItemKind.TRUE_FALSE
            assert item.correct_ids == (("A",) if expected["correctanswer"] else ("B",))
            checked += 1
        else:  # essay: refused by default, named by type
            assert [p.code for p in report.errors] == ["unsupported_type"]
            assert expected.get("qtype", "essay") in report.errors[0].message_en
    assert checked >= 5


def test_moodles_mixed_gift_file_is_refused_naming_each_unsupported_type(external: Path) -> None:
    report = _read(external / "moodle/gift/questions.gift.txt")
    assert report.items == []
    unsupported = [
        (p.line, p.message_en.split("'")[1]) for p in report.errors if p.code == "unsupported_type"
    ]
    assert unsupported == [(2, "essay"), (5, "matching"), (31, "numerical"), (34, "shortanswer")]
    # {T} and {TRUE} on the same stem are the same question: within one file that is an error.
    assert [(p.line, p.code) for p in report.errors if p.code == "duplicate"] == [(49, "duplicate")]


def test_skip_unsupported_drops_the_types_we_do_not_deliver_and_reports_them(
    external: Path,
) -> None:
    report = _read(external / "moodle/gift/questions_in_category.gift.txt", skip_unsupported=True)
    assert report.ok
    assert [s.item for s in report.skipped] == ["Moodle activities", "Moodle user"]
    greeting, acronym = report.items
    assert greeting.correct_ids == ("B",) and html_to_text(greeting.options[1].html) == "French"
    assert "What language is being spoken?" in greeting.stem_html
    assert acronym.kind is ItemKind.TRUE_FALSE and acronym.correct_ids == ("A",)
    assert greeting.category == "Default for New Features"


def test_a_windows_1252_gift_file_is_refused_as_not_utf8(external: Path) -> None:
    report = _read(external / "moodle/gift/questions_encoding_windows-1252.gift.txt")
    assert [p.code for p in report.errors] == ["not_utf8"]


@pytest.mark.parametrize(
    "name",
    [
        "mc1",
        "mc5",
        "mcHTMLComment",
        "multiLineFeedback1",
        "multipleAnswersFloat",
        "tf2",
        "totara_moodle_multichoice_multi",
        "escapeAll",
        "shortAnswerNotMatching",
    ],
)
def test_gift_grammar_examples_give_the_choices_their_parser_expects(
    external: Path, name: str
) -> None:
    report = _read(external / f"gift_pegjs/{name}.gift")
    assert report.ok, report.errors
    expected = [
        q
        for q in json.loads((external / f"gift_pegjs/{name}.json").read_text())
        if q["type"] in {"MC", "TF"}
    ]
    assert len(report.items) == len(expected)
    for item, question in zip(report.items, expected, strict=True):
        if question["type"] == "TF":
            assert item.correct_ids == (("A",) if question["isTrue"] else ("B",))
            continue
        choices = question["choices"]
        assert len(item.options) == len(choices)
        for option, choice in zip(item.options, choices, strict=True):
            weight = (
                choice["weight"]
                if choice["weight"] is not None
                else (100 if choice["isCorrect"] else 0)
            )
            assert option.score == pytest.approx(weight / 100)
            assert html_to_text(option.html) == html_to_text(choice["text"]["text"]).replace(
                "\\", "\\"
            )


def test_the_gift_escapes_give_literal_control_characters(external: Path) -> None:
    (item,) = _read(external / "gift_pegjs/escapeAll.gift").items
    assert [html_to_text(o.html) for o in item.options] == ["~", "=", "#", "{", "}", ":", "\\"]
    assert item.correct_ids == ("G",)


def test_gift_examples_that_repeat_a_question_are_refused_as_duplicates(external: Path) -> None:
    report = _read(external / "gift_pegjs/TFTwoFeedback.gift")
    assert [(p.line, p.code) for p in report.errors] == [(5, "duplicate")]
