"""The national SKD layout and the pass rules, against candidates scored by hand."""

from __future__ import annotations

import pytest

from exam_server.grading.scoring import (
    SKD_SECTIONS,
    AttemptScore,
    ScoringModel,
    SectionRule,
    format_points,
    score_attempt,
    tiebreak_codes,
)
from question_bank.items import Item, ItemKind, Option

Answers = list[tuple[Item, frozenset[str] | None]]


def mc() -> Item:  # key A
    return Item(ItemKind.SINGLE, "?", tuple(Option(i, i, float(i == "A")) for i in "ABCDE"))


def tkp() -> Item:  # A is worth 1 ... E is worth 5
    return Item(
        ItemKind.SINGLE,
        "?",
        tuple(Option(i, i, w) for w, i in enumerate("ABCDE", 1)),
        weighted=True,
    )


def right_wrong(count: int, right: int, blank: int = 0) -> Answers:
    """``right`` answered A, ``blank`` left empty, the rest answered B."""
    picks: list[frozenset[str] | None] = [frozenset("A")] * right + [None] * blank
    return [(mc(), p) for p in picks + [frozenset("B")] * (count - right - blank)]


def weights(*groups: tuple[int, str]) -> Answers:
    """TKP answers as (how many, option): ``(31, "D")`` is 31 answers worth 4 each."""
    return [(tkp(), frozenset(o) if o else None) for n, o in groups for _ in range(n)]


def skd(twk: Answers, tiu: Answers, tkp_answers: Answers) -> list[tuple[SectionRule, Answers]]:
    (twk_rule, n_twk), (tiu_rule, n_tiu), (tkp_rule, n_tkp) = SKD_SECTIONS
    assert (len(twk), len(tiu), len(tkp_answers)) == (n_twk, n_tiu, n_tkp)
    return [(twk_rule, twk), (tiu_rule, tiu), (tkp_rule, tkp_answers)]


def points(score: AttemptScore) -> list[float]:
    return [s.points for s in score.sections]


def test_the_national_layout_is_30_35_45_items_with_pass_marks_65_80_166() -> None:
    layout = [
        (r.code, n, r.model, r.points_correct, r.points_wrong, r.pass_mark) for r, n in SKD_SECTIONS
    ]
    assert layout == [
        ("TWK", 30, ScoringModel.RIGHT_WRONG, 5, 0, 65),
        ("TIU", 35, ScoringModel.RIGHT_WRONG, 5, 0, 80),
        ("TKP", 45, ScoringModel.WEIGHTED, 5, 0, 166),
    ]
    assert tiebreak_codes(r for r, _ in SKD_SECTIONS) == ["TKP", "TIU", "TWK"]


def test_a_perfect_paper_reaches_the_maxima_150_175_225() -> None:
    score = score_attempt(skd(right_wrong(30, 30), right_wrong(35, 35), weights((45, "E"))))
    assert points(score) == [150, 175, 225]
    assert [s.max_points for s in score.sections] == [150, 175, 225]
    assert score.total == score.max_total == 550 and score.passed


def test_exactly_the_pass_mark_passes_and_one_section_below_fails_with_its_sentence() -> None:
    # TWK 13 x 5 = 65 (mark 65: passes); TIU 15 x 5 = 75 (< 80); TKP 45 x 4 = 180 (>= 166).
    score = score_attempt(skd(right_wrong(30, 13), right_wrong(35, 15), weights((45, "D"))))
    twk, tiu, tkp_score = score.sections
    assert (twk.points, twk.passed, twk.reason_id) == (65, True, None)
    assert (tiu.points, tiu.passed) == (75, False)
    assert tiu.reason_id == "TIU 75, di bawah ambang batas 80"
    assert tiu.reason_en == "TIU 75, below the pass mark 80"
    assert (tkp_score.points, tkp_score.passed) == (180, True)
    assert score.total == 320 and score.passed is False
    assert score.failed_rules == ["TIU 75, di bawah ambang batas 80"]
    assert score.failed_rules_en == ["TIU 75, below the pass mark 80"]


def test_tkp_166_exactly_passes_and_165_fails() -> None:
    # 31 x 4 + 14 x 3 = 124 + 42 = 166; one D changed to C: 30 x 4 + 15 x 3 = 165.
    twk, tiu = right_wrong(30, 13), right_wrong(35, 16)
    at_mark = score_attempt(skd(twk, tiu, weights((31, "D"), (14, "C"))))
    assert points(at_mark) == [65, 80, 166] and at_mark.passed and at_mark.total == 311
    below = score_attempt(skd(twk, tiu, weights((30, "D"), (15, "C"))))
    assert points(below) == [65, 80, 165] and below.passed is False
    assert below.failed_rules == ["TKP 165, di bawah ambang batas 166"]


def test_every_failed_section_is_named_in_paper_order() -> None:
    # TWK 12 x 5 = 60; TIU 0; TKP 45 x 1 = 45.
    score = score_attempt(skd(right_wrong(30, 12), right_wrong(35, 0), weights((45, "A"))))
    assert score.failed_rules == [
        "TWK 60, di bawah ambang batas 65",
        "TIU 0, di bawah ambang batas 80",
        "TKP 45, di bawah ambang batas 166",
    ]
    assert len(score.failed_rules_en) == 3


def test_blanks_score_nothing_and_are_counted_apart_from_wrong_answers() -> None:
    # TWK 20 right, 4 blank, 6 wrong = 100; TIU 20 right, 15 wrong = 100;
    # TKP 40 x 5 + 5 blank = 200. Total 400.
    score = score_attempt(
        skd(right_wrong(30, 20, blank=4), right_wrong(35, 20), weights((40, "E"), (5, "")))
    )
    twk, tiu, tkp_score = score.sections
    assert (twk.correct, twk.wrong, twk.blank) == (20, 6, 4)
    assert (tiu.correct, tiu.wrong, tiu.blank) == (20, 15, 0)
    # TKP has no right or wrong, only weights: only blanks are counted.
    assert (tkp_score.correct, tkp_score.wrong, tkp_score.blank) == (0, 0, 5)
    assert points(score) == [100, 100, 200] and score.total == 400 and score.passed


def test_a_total_pass_mark_fails_a_result_whose_sections_all_pass() -> None:
    rule = SectionRule("A", "Bagian A", pass_mark=20)
    score = score_attempt([(rule, right_wrong(10, 5))], total_pass_mark=30)
    assert score.sections[0].passed is True and score.passed is False
    assert score.failed_rules == ["Total 25, di bawah ambang batas 30"]
    assert score.failed_rules_en == ["Total 25, below the pass mark 30"]


def test_a_section_without_a_pass_mark_neither_passes_nor_fails() -> None:
    score = score_attempt([(SectionRule("A", "Bagian A"), right_wrong(4, 0))])
    assert score.sections[0].passed is None and score.sections[0].reason_id is None
    assert score.passed is True and score.failed_rules == []


def test_fractional_points_are_written_as_people_write_them() -> None:
    # Negative marking +4 / -1: 3 right, 1 half right (0.5 x 4), 2 wrong = 12 + 2 - 2 = 12.
    rule = SectionRule("NEG", "Negatif", ScoringModel.NEGATIVE, 4, -1, 0, pass_mark=12.5)
    half = Item(ItemKind.SINGLE, "?", (Option("A", "A", 1), Option("B", "B", 0.5)))
    answers: Answers = [*right_wrong(3, 3), (half, frozenset("B")), *right_wrong(2, 0)]
    score = score_attempt([(rule, answers)])
    assert score.total == 12 and score.failed_rules == ["NEG 12, di bawah ambang batas 12.5"]


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (75, "75"),
        (75.0, "75"),
        (162.5, "162.5"),
        (-1.25, "-1.25"),
        (1e6, "1000000"),
        (1 / 3, "0.33"),
        (-0.0, "0"),
        (-0.001, "0"),
    ],
)
def test_points_are_formatted_without_trailing_zeros(value: float, text: str) -> None:
    assert format_points(value) == text


def test_an_empty_section_scores_zero_of_zero() -> None:
    rule = SectionRule("A", "Bagian A", pass_mark=0)
    score = score_attempt([(rule, [])])
    assert (score.total, score.max_total, score.passed) == (0, 0, True)
