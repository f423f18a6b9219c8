"""Scoring models, pass rules and ranking: pure functions, no I/O.

A section's model turns an item's option scores (see ``question_bank.items``) into points:

* ``right_wrong`` (benar/salah): a fully right answer earns ``points_correct``, a wrong one
  ``points_wrong``, a blank ``points_blank``; partial credit on a multiple-answer item earns
  its fraction of ``points_correct``. TWK and TIU: 5 / 0 / 0.
* ``negative`` (nilai negatif): the same rule with a negative ``points_wrong``, e.g. +4 / -1 / 0.
* ``weighted`` (bobot per opsi): the chosen option's own score; blank ``points_blank`` (0).
  TKP: every option 1 to 5. An item marked ``weighted`` is scored this way in any section.
* ``map_response`` (QTI): the sum of the chosen options' scores, clamped to the item's
  lower/upper bounds (unbounded where a bound is absent, as QTI says), divided by the best
  sum the item allows, times ``points_correct``. With ``points_correct`` equal to the item's
  best sum the result is the QTI ``SCORE`` itself.

``docs/scoring.md`` states every rule with worked examples.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from question_bank.credit import credit
from question_bank.items import Item, ItemKind, Option

# Moodle stores thirds as 0.3333333, so three right options add up to 0.9999999; Moodle
# itself counts a fraction within 1e-6 of 1 as fully right, and so do we.
FULL_CREDIT_TOLERANCE = 1e-6


class ScoringModel(StrEnum):
    RIGHT_WRONG = "right_wrong"
    NEGATIVE = "negative"
    WEIGHTED = "weighted"
    MAP_RESPONSE = "map_response"


@dataclass(frozen=True)
class SectionRule:
    code: str
    name: str
    model: ScoringModel = ScoringModel.RIGHT_WRONG
    points_correct: float = 5.0
    points_wrong: float = 0.0
    points_blank: float = 0.0
    pass_mark: float | None = None
    tiebreak_order: int = 0  # lower is considered first when breaking ties


@dataclass(frozen=True)
class AnswerScore:
    points: float
    correct: bool | None  # None for weighted items, which have no single right answer
    blank: bool


def _picked(item: Item, chosen: Iterable[str]) -> list[Option]:
    """The chosen options, refusing what the server should never have let through."""
    options = {o.id: o for o in item.options}
    ids = sorted(set(chosen))
    unknown = [c for c in ids if c not in options]
    if unknown:
        raise ValueError(f"option {unknown[0]!r} does not exist in this item")
    if item.kind is not ItemKind.MULTIPLE and len(ids) > 1:
        raise ValueError(f"a {item.kind.value} item takes one option, got {len(ids)}")
    return [options[c] for c in ids]


def _clamp(value: float, lower: float | None, upper: float | None) -> float:
    if lower is not None:
        value = max(value, lower)
    if upper is not None:
        value = min(value, upper)
    return value


def _is_weighted(item: Item, rule: SectionRule) -> bool:
    return item.weighted or rule.model is ScoringModel.WEIGHTED


def _map_sum(item: Item, picked: Sequence[Option]) -> float:
    """QTI map_response: the mapped values added up, then clamped to the item's bounds."""
    if item.all_or_nothing:
        return credit(item, [o.id for o in picked])
    return _clamp(sum(o.score for o in picked), item.lower_bound, item.upper_bound)


def _best_and_worst(item: Item, weighted: bool) -> tuple[float, float]:
    """The highest and lowest raw sum a non-blank response can reach (map or weights)."""
    scores = [o.score for o in item.options]
    if not scores:
        return 0.0, 0.0
    if item.kind is ItemKind.MULTIPLE and item.all_or_nothing and not weighted:
        return 1.0, 0.0
    best, worst = max(scores), min(scores)
    if item.kind is ItemKind.MULTIPLE:  # any set: all the gains, or all the penalties
        best = sum(s for s in scores if s > 0) if best > 0 else best
        worst = sum(s for s in scores if s < 0) if worst < 0 else worst
    return (
        _clamp(best, item.lower_bound, item.upper_bound),
        _clamp(worst, item.lower_bound, item.upper_bound),
    )


def score_answer(item: Item, chosen: frozenset[str] | None, rule: SectionRule) -> AnswerScore:
    """Points for one response. Unknown option ids, or several on a single-answer item,
    raise ``ValueError``: the server refuses them on arrival, so reaching here is a bug."""
    weighted = _is_weighted(item, rule)
    if not chosen:
        return AnswerScore(rule.points_blank, None if weighted else False, True)
    picked = _picked(item, chosen)
    if weighted:
        total = sum(o.score for o in picked)
        if item.kind is ItemKind.MULTIPLE:
            total = _clamp(total, item.lower_bound, item.upper_bound)
        return AnswerScore(round(total, 6), None, False)
    if rule.model is ScoringModel.MAP_RESPONSE:
        best, _ = _best_and_worst(item, weighted=False)
        fraction = _map_sum(item, picked) / best if best > 0 else 0.0
        full = fraction >= 1.0 - FULL_CREDIT_TOLERANCE
        points = rule.points_correct if full else fraction * rule.points_correct
        return AnswerScore(round(points, 6), full, False)
    # The item's own credit rule (Moodle fractions, all-or-nothing, QTI bounds) lives with
    # the item model, so importers and grading can never disagree about a response.
    earned = credit(item, [o.id for o in picked])
    if earned >= 1.0 - FULL_CREDIT_TOLERANCE:
        return AnswerScore(rule.points_correct, True, False)
    if earned <= 0:
        return AnswerScore(rule.points_wrong, False, False)
    return AnswerScore(round(earned * rule.points_correct, 6), False, False)


def points_range(item: Item, rule: SectionRule) -> tuple[float, float]:
    """The lowest and highest points any response (blank included) can earn on ``item``."""
    weighted = _is_weighted(item, rule)
    if weighted:
        best, worst = _best_and_worst(item, weighted=True)
        low, high = worst, best
    elif rule.model is ScoringModel.MAP_RESPONSE:
        best, worst = _best_and_worst(item, weighted=False)
        scale = rule.points_correct / best if best > 0 else 0.0
        low, high = min(worst * scale, 0.0), rule.points_correct if best > 0 else 0.0
    else:
        low, high = sorted((rule.points_correct, rule.points_wrong))
        partial = item.kind is ItemKind.MULTIPLE or any(
            0 < o.score < 1 - FULL_CREDIT_TOLERANCE for o in item.options
        )
        if partial:  # a share of points_correct, between 0 and points_correct
            low, high = min(low, 0.0), max(high, 0.0)
    return min(low, rule.points_blank), max(high, rule.points_blank)


def max_points(item: Item, rule: SectionRule) -> float:
    """The best an item can give: ``points_correct``, or the best weight (sum) when weighted."""
    return round(points_range(item, rule)[1], 6)


@dataclass(frozen=True)
class SectionScore:
    code: str
    name: str
    points: float
    max_points: float
    correct: int
    wrong: int
    blank: int
    passed: bool | None  # None: the section has no pass mark of its own
    reason_id: str | None = None
    reason_en: str | None = None


@dataclass(frozen=True)
class AttemptScore:
    sections: list[SectionScore]
    total: float
    max_total: float
    passed: bool
    failed_rules: list[str] = field(default_factory=list)  # Bahasa Indonesia
    failed_rules_en: list[str] = field(default_factory=list)


def format_points(value: float) -> str:
    """Points as people write them: 75, 162.5, -1.25; never 75.0 or 1e+06."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def below_pass_mark(label: str, points: float, pass_mark: float) -> tuple[str, str]:
    """The sentence that says which rule failed, in Bahasa Indonesia and in English."""
    got, mark = format_points(points), format_points(pass_mark)
    return (
        f"{label} {got}, di bawah ambang batas {mark}",
        f"{label} {got}, below the pass mark {mark}",
    )


def score_attempt(
    sections: Sequence[tuple[SectionRule, Sequence[tuple[Item, frozenset[str] | None]]]],
    total_pass_mark: float | None = None,
) -> AttemptScore:
    """Every section's points and pass rule, the total and its pass rule.

    The attempt passes only when every section with a pass mark reaches it and the total
    reaches ``total_pass_mark`` (where set); reaching a mark exactly passes.
    """
    out: list[SectionScore] = []
    failed_id: list[str] = []
    failed_en: list[str] = []
    for rule, answers in sections:
        scores = [score_answer(item, chosen, rule) for item, chosen in answers]
        points = round(sum(s.points for s in scores), 6)
        passed = None if rule.pass_mark is None else points >= rule.pass_mark
        reason_id = reason_en = None
        if passed is False:
            assert rule.pass_mark is not None
            reason_id, reason_en = below_pass_mark(rule.code, points, rule.pass_mark)
            failed_id.append(reason_id)
            failed_en.append(reason_en)
        out.append(
            SectionScore(
                code=rule.code,
                name=rule.name,
                points=points,
                max_points=round(sum(max_points(item, rule) for item, _ in answers), 6),
                correct=sum(1 for s in scores if s.correct),
                wrong=sum(1 for s in scores if not s.blank and s.correct is False),
                blank=sum(1 for s in scores if s.blank),
                passed=passed,
                reason_id=reason_id,
                reason_en=reason_en,
            )
        )
    total = round(sum(s.points for s in out), 6)
    if total_pass_mark is not None and total < total_pass_mark:
        reason_id, reason_en = below_pass_mark("Total", total, total_pass_mark)
        failed_id.append(reason_id)
        failed_en.append(reason_en)
    return AttemptScore(
        sections=out,
        total=total,
        max_total=round(sum(s.max_points for s in out), 6),
        passed=not failed_id,
        failed_rules=failed_id,
        failed_rules_en=failed_en,
    )


@dataclass(frozen=True)
class RankInput:
    attempt_id: int
    passed: bool
    total: float
    section_points: Mapping[str, float]


@dataclass(frozen=True)
class RankedResult:
    attempt_id: int
    rank: int


# The national SKD announcements break equal totals by TKP, then TIU, then TWK.
SKD_TIEBREAK: tuple[str, ...] = ("TKP", "TIU", "TWK")


def tiebreak_codes(rules: Iterable[SectionRule]) -> list[str]:
    """Section codes in the order ties are broken: lowest ``tiebreak_order`` first."""
    return [r.code for r in sorted(rules, key=lambda r: (r.tiebreak_order, r.code))]


def rank_key(result: RankInput, tiebreak: Sequence[str] = SKD_TIEBREAK) -> tuple[float, ...]:
    """Smaller sorts first: passed, then higher total, then higher points per tie-break code.
    A section missing from ``section_points`` counts as 0, as the SQL ranking does."""
    return (
        0 if result.passed else 1,
        -result.total,
        *(-result.section_points.get(code, 0.0) for code in tiebreak),
    )


def rank(
    results: Sequence[RankInput], tiebreak: Sequence[str] = SKD_TIEBREAK
) -> list[RankedResult]:
    """Rank candidates within an exam, best first.

    Passed first, then total descending, then section points in ``tiebreak`` order; results
    equal on all of these share a rank and the next rank skips (standard competition
    ranking, "1, 2, 2, 4"). Within a shared rank the list is in ``attempt_id`` order, only
    so that the output is deterministic.
    """
    ids = [r.attempt_id for r in results]
    if len(set(ids)) != len(ids):
        raise ValueError("an attempt may be ranked only once")
    keyed = sorted((rank_key(r, tiebreak), r.attempt_id) for r in results)
    out: list[RankedResult] = []
    previous: tuple[float, ...] | None = None
    for position, (key, attempt_id) in enumerate(keyed, start=1):
        tied = bool(out) and key == previous
        out.append(RankedResult(attempt_id, out[-1].rank if tied else position))
        previous = key
    return out


SKD_SECTIONS: tuple[tuple[SectionRule, int], ...] = (
    (SectionRule("TWK", "Tes Wawasan Kebangsaan", ScoringModel.RIGHT_WRONG, 5, 0, 0, 65, 3), 30),
    (SectionRule("TIU", "Tes Intelegensia Umum", ScoringModel.RIGHT_WRONG, 5, 0, 0, 80, 2), 35),
    (SectionRule("TKP", "Tes Karakteristik Pribadi", ScoringModel.WEIGHTED, 5, 0, 0, 166, 1), 45),
)
"""The national layout: (rule, number of items). Maxima 150, 175 and 225; 550 in all.
Each section's pass mark must be reached on its own; there is no total pass mark."""
