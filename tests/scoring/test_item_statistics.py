"""Item statistics against small tables computed by hand."""

from __future__ import annotations

import math

import pytest

from exam_server.grading.item_analysis import (
    REASONS,
    Response,
    analyse_items,
    analysis_rows,
    cronbach,
    cronbach_alpha,
    kr20,
    section_reliability,
)

# Six candidates, five right/wrong items at 5 / 0, every key "A". i5 is miskeyed: the
# weakest candidates "got it right".
#
#            i1 i2 i3 i4 i5   right  choices (i1..i5; "-" blank)
#   c1        1  1  1  1  0     4    A A A A B
#   c2        1  1  1  0  0     3    A A A - B
#   c3        1  1  0  1  0     3    A A B A B
#   c4        1  0  1  0  1     3    A B A C A
#   c5        1  0  0  0  1     2    A C B C A
#   c6        0  0  0  0  1     1    - B C C A
#
# Difficulty p: i1 5/6, i2 3/6, i3 3/6, i4 2/6, i5 3/6.
#
# Corrected point-biserial (population moments; scale-free, so 0/1 stands for 0/5):
#   i1: x = 1 1 1 1 1 0, rest = right - x = 3 2 2 2 1 1.
#       var x = 5/6 - 25/36 = 5/36; mean rest 11/6, var rest = 23/6 - 121/36 = 17/36;
#       cov = E[x rest] - E[x] E[rest] = 10/6 - 55/36 = 5/36; r = 5/36 / sqrt(5/36 * 17/36)
#       = 5 / sqrt(85) = 0.542326.
#   i5: x = 0 0 0 1 1 1, rest = 4 3 3 2 1 0. var x = 1/4; mean rest 13/6,
#       var rest = 39/6 - 169/36 = 65/36; cov = 3/6 - 13/12 = -7/12;
#       r = (-7/12) / (sqrt(65)/12) = -7 / sqrt(65) = -0.868243  -> negative_discrimination.
#
# Upper/lower 27 %: round(0.27 * 6) = 2 each. By total, ascending, ties in row order:
#   c6 (1), c5 (2), c2 (3), c3 (3), c4 (3), c1 (4): lower = {c6, c5}, upper = {c4, c1}.
#   i1: upper 2/2 - lower 1/2 = 0.5;  i2: 1/2 - 0/2 = 0.5;  i5: 1/2 - 2/2 = -0.5.
#
# KR-20 = k/(k-1) * (1 - sum p q / var(right)):
#   i1..i4: sum pq = 5/36 + 9/36 + 9/36 + 8/36 = 31/36; right = 4 3 3 2 1 0,
#   var = 39/6 - (13/6)^2 = 65/36; KR-20 = 4/3 * (1 - 31/65) = 4/3 * 34/65 = 136/195 = 0.697436.
#   i1..i5: sum pq = 40/36; right = 4 3 3 3 2 1, var = 8 - (8/3)^2 = 8/9;
#   KR-20 = 5/4 * (1 - (10/9)/(8/9)) = 5/4 * (-1/4) = -0.3125: the miskeyed item ruins it.
TABLE = ["11110", "11100", "11010", "10101", "10001", "00001"]
CHOICES = ["AAAAB", "AAA-B", "AABAB", "ABACA", "ACBCA", "-BCCA"]
ITEMS = [f"i{j}" for j in range(1, 6)]
OPTIONS = dict.fromkeys(ITEMS, "ABCD")
FIVE = dict.fromkeys(ITEMS, 5.0)


def right_wrong() -> list[dict[str, Response]]:
    return [
        {
            item: Response(() if c == "-" else (c,), 5.0 * int(v), v == "1")
            for item, v, c in zip(ITEMS, right, chosen, strict=True)
        }
        for right, chosen in zip(TABLE, CHOICES, strict=True)
    ]


def test_difficulty_discrimination_and_distractors_match_the_hand_computation() -> None:
    stats = {s.item: s for s in analyse_items(right_wrong(), OPTIONS, FIVE)}
    assert [stats[i].p for i in ITEMS] == pytest.approx([5 / 6, 0.5, 0.5, 2 / 6, 0.5])
    assert stats["i1"].point_biserial == pytest.approx(5 / math.sqrt(85))
    assert stats["i1"].point_biserial == pytest.approx(0.542326, abs=1e-6)
    assert stats["i5"].point_biserial == pytest.approx(-0.868243, abs=1e-6)
    assert [stats[i].upper_lower for i in ("i1", "i2", "i5")] == [0.5, 0.5, -0.5]
    assert stats["i1"].distractors == {"A": 5, "B": 0, "C": 0, "D": 0, "": 1}
    assert stats["i4"].distractors == {"A": 2, "B": 0, "C": 3, "D": 0, "": 1}
    assert stats["i5"].distractors == {"A": 3, "B": 3, "C": 0, "D": 0, "": 0}
    assert all(s.n == 6 and s.notes == {} for s in stats.values())
    assert {i: s.flags for i, s in stats.items() if s.flags} == {"i5": ["negative_discrimination"]}


def test_kr20_matches_the_hand_computation_and_alpha_agrees_on_right_wrong_items() -> None:
    four = kr20(right_wrong(), ITEMS[:4])
    assert four.value == pytest.approx(136 / 195) and four.method == "KR-20"
    assert (four.items, four.candidates, four.reason) == (4, 6, None)
    assert kr20(right_wrong(), ITEMS).value == pytest.approx(-0.3125)
    # On 5 / 0 points alpha is KR-20: scaling every item by 5 changes no ratio.
    assert cronbach_alpha(right_wrong(), ITEMS[:4]) == pytest.approx(136 / 195)


# Four candidates, two TKP items (A..E worth 1..5):
#         i1 i2  total
#   c1     5  4    9     (E, D)
#   c2     3  3    6     (C, C)
#   c3     4  5    9     (D, E)
#   c4     2  1    3     (B, A)
# p = mean / 5: i1 3.5/5 = 0.7, i2 3.25/5 = 0.65.
# var i1 = (2.25 + 0.25 + 0.25 + 2.25)/4 = 1.25; var i2 = (0.5625 + 0.0625 + 3.0625 + 5.0625)/4
# = 2.1875; var total = (5.0625 + 0.5625 + 5.0625 + 14.0625)/4 = 6.1875.
# alpha = 2/1 * (1 - 3.4375/6.1875) = 2 * 4/9 = 8/9.
# i1 point-biserial against the rest (i2): cov = (1.125 + 0.125 + 0.875 + 3.375)/4 = 1.375;
# r = 1.375 / sqrt(1.25 * 2.1875) = 0.831522.
# Upper/lower: round(0.27 * 4) = 1; ascending c4 (3), c2 (6), c1 (9), c3 (9): lower c4,
# upper c3; i1: 4/5 - 2/5 = 0.4.
TKP = [("ED", (5, 4)), ("CC", (3, 3)), ("DE", (4, 5)), ("BA", (2, 1))]


def weighted() -> list[dict[str, Response]]:
    return [
        {
            f"i{j + 1}": Response((c,), float(w), None)
            for j, (c, w) in enumerate(zip(cs, ws, strict=True))
        }
        for cs, ws in TKP
    ]


def test_weighted_items_use_mean_points_over_the_maximum_and_alpha() -> None:
    stats = analyse_items(weighted(), {"i1": "ABCDE", "i2": "ABCDE"}, {"i1": 5.0, "i2": 5.0})
    assert [s.p for s in stats] == pytest.approx([0.7, 0.65])
    assert stats[0].point_biserial == pytest.approx(0.831522, abs=1e-6)
    assert stats[0].upper_lower == pytest.approx(0.4)
    assert stats[0].distractors == {"A": 0, "B": 1, "C": 1, "D": 1, "E": 1, "": 0}
    alpha = section_reliability(weighted(), ["i1", "i2"], weighted=True)
    assert alpha.method == "Cronbach alpha" and alpha.value == pytest.approx(8 / 9)
    assert section_reliability(right_wrong(), ITEMS[:4], weighted=False).method == "KR-20"


def test_degenerate_data_gives_none_and_says_why_instead_of_dividing_by_zero() -> None:
    (empty,) = analyse_items([], {"i1": "AB"}, {"i1": 1.0})
    assert (empty.n, empty.p, empty.point_biserial, empty.upper_lower) == (0, None, None, None)
    assert empty.notes == {
        "p": "no_responses",
        "point_biserial": "too_few_candidates",
        "upper_lower": "too_few_for_groups",
    }
    same = [{"i1": Response(("A",), 1.0, True), "i2": Response(("B",), 0.0, False)}] * 3
    one = analyse_items(same, {"i1": "AB"}, {"i1": 1.0})[0]
    assert one.point_biserial is None and one.notes["point_biserial"] == "item_has_no_variance"
    assert one.p == 1.0 and "too_easy" in one.flags
    varied = [
        {"i1": Response(("A",), float(v), bool(v)), "i2": Response(("A",), 1.0, True)}
        for v in (1, 0, 1)
    ]
    first = analyse_items(varied, {"i1": "AB"}, {"i1": 1.0})[0]
    assert first.notes["point_biserial"] == "rest_has_no_variance"
    assert all(code in REASONS for code in (*empty.notes.values(), *first.notes.values()))


def test_reliability_needs_two_items_two_complete_rows_and_a_spread_of_totals() -> None:
    assert kr20(right_wrong(), ["i1"]).reason == "too_few_items"
    assert cronbach(right_wrong()[:1], ITEMS).reason == "too_few_complete_rows"
    same = [{"i1": Response(("A",), 1.0, True), "i2": Response(("B",), 0.0, False)}] * 3
    assert kr20(same, ["i1", "i2"]).reason == "total_has_no_variance"
    assert kr20(same, ["i1", "i2"]).value is None
    # A candidate whose paper lacked an item is left out rather than given 0 for it.
    rows = right_wrong()
    del rows[5]["i2"]
    partial = kr20(rows, ITEMS[:4])
    assert partial.candidates == 5 and partial.value is not None


def test_upper_lower_is_missing_when_neither_group_saw_the_item() -> None:
    rows = right_wrong()
    for row in rows[4:]:  # c5 and c6, the whole lower group (both scored 0 there: same totals)
        del row["i2"]
    stats = {s.item: s for s in analyse_items(rows, OPTIONS, FIVE)}
    assert stats["i2"].n == 4 and stats["i2"].upper_lower is None
    assert stats["i2"].notes == {"upper_lower": "group_did_not_see_item"}


def test_an_unchosen_distractor_is_flagged_from_twenty_candidates_but_never_the_key() -> None:
    # 20 candidates: 11 chose A (right), 9 chose B; C and D nobody.
    rows = [{"q": Response((c,), float(c == "A"), c == "A")} for c in "A" * 11 + "B" * 9]
    flagged = analyse_items(rows, {"q": "ABCD"}, {"q": 1.0})[0]
    assert "distractor_never_chosen" in flagged.flags
    assert (
        "distractor_never_chosen"
        not in analyse_items(rows[:19], {"q": "ABCD"}, {"q": 1.0})[0].flags
    )
    # Every distractor chosen, the key by nobody: that is too_hard, not an unchosen distractor.
    hard = [{"q": Response((c,), 0.0, False)} for c in "BCD" * 7]
    stats = analyse_items(hard, {"q": "ABCD"}, {"q": 1.0}, keys={"q": ["A"]})[0]
    assert stats.flags == ["too_hard"]
    assert "distractor_never_chosen" in analyse_items(hard, {"q": "ABCD"}, {"q": 1.0})[0].flags


def test_rows_for_export_round_numbers_name_blanks_and_explain_gaps() -> None:
    row = analysis_rows(analyse_items(right_wrong(), {"i1": "AB"}, {"i1": 5.0}))[0]
    assert row == {
        "item": "i1",
        "n": 6,
        "p": 0.833,
        "point_biserial": 0.542,
        "upper_lower": 0.5,
        "distractors": "A:5 B:0 kosong:1",
        "flags": "",
        "notes": "",
    }
    (gap,) = analysis_rows(analyse_items([], {"i1": "AB"}, {"i1": 1.0}), lang="en")
    assert gap["distractors"] == "A:0 B:0 blank:0"
    assert gap["notes"] == (
        "p: no responses yet; point_biserial: fewer than two candidates; "
        "upper_lower: fewer than four candidates for the upper/lower 27% groups"
    )
    (gap_id,) = analysis_rows(analyse_items([], {"i1": "AB"}, {"i1": 1.0}))
    assert "belum ada jawaban" in str(gap_id["notes"])
