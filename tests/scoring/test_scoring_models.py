"""Every scoring model against hand-computed points, one response at a time."""

from __future__ import annotations

import pytest

from exam_server.grading.scoring import (
    ScoringModel,
    SectionRule,
    max_points,
    points_range,
    score_answer,
)
from question_bank.items import Item, ItemKind, Option


def single(*scores: float, kind: ItemKind = ItemKind.SINGLE) -> Item:
    ids = "ABCDE" if kind is ItemKind.SINGLE else "TF"
    return Item(kind, "?", tuple(Option(i, i, s) for i, s in zip(ids, scores, strict=False)))


def multiple(
    scores: dict[str, float],
    lower: float | None = None,
    upper: float | None = None,
    *,
    weighted: bool = False,
    all_or_nothing: bool = False,
) -> Item:
    return Item(
        ItemKind.MULTIPLE,
        "?",
        tuple(Option(k, k, v) for k, v in scores.items()),
        weighted=weighted,
        lower_bound=lower,
        upper_bound=upper,
        all_or_nothing=all_or_nothing,
    )


MC = single(1, 0, 0, 0, 0)  # key A
# Moodle allows a half-right option and a penalised one on a single-answer item.
MC_PARTIAL = single(1, 0.5, 0, -0.5)
TF = single(0, 1, kind=ItemKind.TRUE_FALSE)  # key F
HALVES = multiple({"A": 0.5, "B": 0.5, "C": -1, "D": 0})
THIRDS = multiple({"A": 0.3333333, "B": 0.3333333, "C": 0.3333333, "D": -1})  # Moodle's thirds
AON = multiple({"D": 1 / 3, "E": 1 / 3, "F": 1 / 3, "A": 0}, all_or_nothing=True)
TKP = Item(
    ItemKind.SINGLE,
    "?",
    tuple(Option(i, i, w) for i, w in zip("ABCDE", (3, 1, 5, 2, 4), strict=True)),
    weighted=True,
)
WEIGHTED_SET = multiple({"A": 2, "B": 3, "C": -1}, upper=4, weighted=True)
# QTI composition of water as authored: H=1, O=1, Cl=-1, others -2 (the default), [0, 2].
WATER = multiple({"H": 1, "He": -2, "C": -2, "O": 1, "N": -2, "Cl": -1}, 0, 2)
# The same without bounds: QTI leaves the sum unclamped, so it can go below zero.
WATER_UNBOUNDED = multiple({"H": 1, "He": -2, "C": -2, "O": 1, "N": -2, "Cl": -1})
# As question_bank.qti imports it: mapped values divided by the upper bound.
WATER_IMPORTED = multiple({"H": 0.5, "He": -1, "C": -1, "O": 0.5, "N": -1, "Cl": -0.5}, 0, 1)

RW = SectionRule("TIU", "Tes Intelegensia Umum", ScoringModel.RIGHT_WRONG, 5, 0, 0)
NEG = SectionRule("NEG", "Negatif", ScoringModel.NEGATIVE, 4, -1, 0)
NEG_BLANK = SectionRule("NB", "Negatif, kosong -0.5", ScoringModel.NEGATIVE, 4, -1, -0.5)
W = SectionRule("TKP", "Tes Karakteristik Pribadi", ScoringModel.WEIGHTED)
MAP = SectionRule("QTI", "QTI", ScoringModel.MAP_RESPONSE, points_correct=2)
MAP10 = SectionRule("QTI", "QTI", ScoringModel.MAP_RESPONSE, points_correct=10)

# (rule, item, chosen ids ("" = blank), points, correct): every value worked out by hand.
CASES = [
    # right/wrong, 5 / 0 / 0
    (RW, MC, "A", 5, True),
    (RW, MC, "B", 0, False),
    (RW, MC, "", 0, False),
    (RW, MC_PARTIAL, "B", 2.5, False),  # 0.5 x 5
    (RW, MC_PARTIAL, "D", 0, False),  # a penalty is still just "wrong" under right/wrong
    (RW, TF, "F", 5, True),
    (RW, TF, "T", 0, False),
    (RW, HALVES, "A", 2.5, False),  # 0.5 x 5
    (RW, HALVES, "AB", 5, True),
    (RW, HALVES, "ABD", 5, True),  # a 0-scored option costs nothing
    (RW, HALVES, "ABC", 0, False),  # 0.5 + 0.5 - 1 = 0
    (RW, HALVES, "C", 0, False),  # -1 clamped to 0, as Moodle does
    (RW, THIRDS, "ABC", 5, True),  # 0.9999999 counts as full credit
    (RW, THIRDS, "AB", 3.333333, False),  # 0.6666666 x 5, rounded to 6 places
    (RW, THIRDS, "ABCD", 0, False),  # 0.9999999 - 1 < 0, clamped
    (RW, AON, "DEF", 5, True),
    (RW, AON, "EF", 0, False),  # two of three right: nothing, all or nothing
    (RW, AON, "ADEF", 0, False),
    # negative marking, +4 / -1 / 0
    (NEG, MC, "A", 4, True),
    (NEG, MC, "C", -1, False),
    (NEG, MC, "", 0, False),
    (NEG, MC_PARTIAL, "B", 2, False),  # 0.5 x 4
    (NEG, MC_PARTIAL, "D", -1, False),
    (NEG, HALVES, "B", 2, False),
    (NEG, HALVES, "AB", 4, True),
    (NEG, HALVES, "ABC", -1, False),  # the penalty cancels the credit: wrong
    (NEG, AON, "EF", -1, False),
    (NEG_BLANK, MC, "", -0.5, False),  # a blank penalty where the exam asks for one
    (NEG_BLANK, MC, "E", -1, False),
    # weighted: the option's own points; blank 0; never "correct"
    (W, TKP, "A", 3, None),
    (W, TKP, "B", 1, None),
    (W, TKP, "C", 5, None),
    (W, TKP, "D", 2, None),
    (W, TKP, "E", 4, None),
    (W, TKP, "", 0, None),
    (RW, TKP, "E", 4, None),  # a weighted item keeps its weights in any section
    (W, WEIGHTED_SET, "AB", 4, None),  # 2 + 3 = 5, clamped to the upper bound 4
    (W, WEIGHTED_SET, "AC", 1, None),  # 2 - 1
    (W, WEIGHTED_SET, "C", -1, None),
    # map_response: clamped sum / best sum x points_correct
    (MAP, WATER, "HO", 2, True),  # 1 + 1 = 2; 2/2 x 2
    (MAP, WATER, "O", 1, False),  # 1/2 x 2
    (MAP, WATER, "ClHO", 1, False),  # 1 + 1 - 1 = 1
    (MAP, WATER, "HeClHO", 0, False),  # -2 - 1 + 1 + 1 = -1, clamped to 0
    (MAP, WATER, "", 0, False),
    (MAP10, WATER, "O", 5, False),  # half of 10
    (MAP, WATER_UNBOUNDED, "HeClHO", -1, False),  # no lower bound: -1/2 x 2
    (MAP, WATER_UNBOUNDED, "He", -2, False),
    (MAP, WATER_UNBOUNDED, "HON", 0, False),  # 1 + 1 - 2
    (MAP, WATER_IMPORTED, "HO", 2, True),
    (MAP, WATER_IMPORTED, "ClHO", 1, False),  # 0.5 + 0.5 - 0.5 = 0.5 of 1
    (MAP, WATER_IMPORTED, "HeClHO", 0, False),
    (MAP, MC, "A", 2, True),  # a single-answer item: the option's score is the sum
    (MAP, MC_PARTIAL, "B", 1, False),
    (MAP, AON, "DEF", 2, True),
    (MAP, AON, "DE", 0, False),
]


def _ids(item: Item, text: str) -> frozenset[str]:
    """Option ids spelled out back to back ("ClHO" is Cl, H, O)."""
    ids = sorted((o.id for o in item.options), key=len, reverse=True)
    out = []
    while text:
        found = next(i for i in ids if text.startswith(i))
        out.append(found)
        text = text[len(found) :]
    return frozenset(out)


@pytest.mark.parametrize(
    ("rule", "item", "chosen", "points", "correct"),
    CASES,
    ids=[f"{r.model.value}-{i}-{c or 'blank'}" for i, (r, _, c, *_rest) in enumerate(CASES)],
)
def test_each_model_gives_the_hand_computed_points(
    rule: SectionRule, item: Item, chosen: str, points: float, correct: bool | None
) -> None:
    score = score_answer(item, _ids(item, chosen) if chosen else None, rule)
    assert score.points == pytest.approx(points, abs=1e-9)
    assert score.correct is correct
    assert score.blank is (chosen == "")


def test_an_empty_set_is_a_blank_like_none() -> None:
    assert score_answer(MC, frozenset(), NEG_BLANK) == score_answer(MC, None, NEG_BLANK)


@pytest.mark.parametrize("rule", [RW, NEG, W, MAP], ids=lambda r: r.model.value)
def test_an_unknown_option_is_a_bug_not_a_zero(rule: SectionRule) -> None:
    with pytest.raises(ValueError, match="'Z' does not exist"):
        score_answer(MC, frozenset("Z"), rule)
    with pytest.raises(ValueError, match="does not exist"):
        score_answer(WATER, frozenset({"H", "Xe"}), rule)


@pytest.mark.parametrize("rule", [RW, NEG, W, MAP], ids=lambda r: r.model.value)
def test_two_options_on_a_single_answer_item_are_a_bug_not_a_zero(rule: SectionRule) -> None:
    with pytest.raises(ValueError, match="takes one option"):
        score_answer(TKP if rule is W else MC, frozenset("AB"), rule)
    with pytest.raises(ValueError, match="takes one option"):
        score_answer(TF, frozenset("TF"), rule)


@pytest.mark.parametrize(
    ("rule", "item", "low", "high"),
    [
        (RW, MC, 0, 5),
        (NEG, MC, -1, 4),
        (NEG_BLANK, MC, -1, 4),
        (NEG, HALVES, -1, 4),
        (W, TKP, 0, 5),  # the worst weight is 1, but a blank earns 0
        (W, WEIGHTED_SET, -1, 4),  # 2 + 3 clamped to 4; -1 alone
        (MAP, WATER, 0, 2),
        (MAP, WATER_UNBOUNDED, -7, 2),  # He + C + N + Cl = -7, scaled by 2/2
        (MAP10, WATER_IMPORTED, 0, 10),
    ],
)
def test_points_range_bounds_every_response_and_max_points_is_its_top(
    rule: SectionRule, item: Item, low: float, high: float
) -> None:
    assert points_range(item, rule) == (low, high)
    assert max_points(item, rule) == high
