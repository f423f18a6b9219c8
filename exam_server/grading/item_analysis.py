"""Item analysis (analisis butir): which questions misbehaved. Pure functions, stdlib only.

Input is a response matrix: one mapping per candidate, item id -> :class:`Response`
(an item missing from a row was not on that candidate's paper). Per item:

* difficulty p (tingkat kesukaran): the share of candidates with full credit; for weighted
  items the mean points over the item's maximum;
* the corrected point-biserial (daya beda): Pearson's r between the item's points and the
  total *without* that item, so an item does not correlate with itself;
* the upper/lower 27 % index D = p(upper group) - p(lower group) (Kelley's groups, taken
  by section total; ties at the cut go by the matrix order, so the result is repeatable);
* how often each option, and blank, was chosen (sebaran pengecoh);
* flags for items that look wrong.

Per section: KR-20 for right/wrong sections, Cronbach's alpha for weighted ones.

Degenerate data (no candidates, no variance, groups too small) gives ``None`` together
with a reason code from :data:`REASONS`, never a division by zero. ``docs/scoring.md``
gives every formula.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from statistics import fmean, pvariance

TOO_EASY = 0.95  # p above this: almost everyone got it
TOO_HARD = 0.05  # p below this: almost nobody got it
GROUP_SHARE = 0.27  # Kelley's upper and lower groups
MIN_FOR_GROUPS = 4  # below this the 27 % groups are one candidate or overlap
MIN_FOR_DISTRACTORS = 20  # an unchosen option among fewer candidates proves little
FLAGS = ("negative_discrimination", "too_easy", "too_hard", "distractor_never_chosen")

# Why a statistic is missing: reason code -> (Bahasa Indonesia, English).
REASONS: dict[str, tuple[str, str]] = {
    "no_responses": ("belum ada jawaban", "no responses yet"),
    "too_few_candidates": ("peserta kurang dari 2", "fewer than two candidates"),
    "item_has_no_variance": (
        "semua peserta mendapat nilai yang sama pada soal ini",
        "every candidate scored the same on this item",
    ),
    "rest_has_no_variance": (
        "semua peserta mendapat nilai yang sama pada soal lainnya",
        "every candidate scored the same on the other items",
    ),
    "too_few_for_groups": (
        "peserta kurang dari 4 untuk kelompok atas/bawah 27%",
        "fewer than four candidates for the upper/lower 27% groups",
    ),
    "group_did_not_see_item": (
        "soal ini tidak muncul di kelompok atas atau bawah",
        "the item was not on any paper in the upper or lower group",
    ),
    "too_few_items": ("bagian berisi kurang dari 2 soal", "the section has fewer than two items"),
    "different_papers": (
        "setiap peserta mengundi soal sendiri, jadi tidak ada satu set soal bersama",
        "each candidate drew their own questions, so there is no shared set of items",
    ),
    "too_few_complete_rows": (
        "kurang dari 2 peserta mendapat semua soal bagian ini",
        "fewer than two candidates had every item of the section",
    ),
    "total_has_no_variance": (
        "semua peserta mendapat total bagian yang sama",
        "every candidate has the same section total",
    ),
}


@dataclass(frozen=True)
class Response:
    """One candidate's answer to one item."""

    choice: tuple[str, ...]  # chosen option ids; empty for blank
    points: float
    correct: bool | None  # None for weighted items


@dataclass(frozen=True)
class ItemStats:
    item: str
    n: int
    p: float | None  # proportion correct (weighted items: mean points / max points)
    point_biserial: float | None
    upper_lower: float | None
    distractors: dict[str, int]  # option id (or "" for blank) -> count
    flags: list[str] = field(default_factory=list)
    notes: dict[str, str] = field(default_factory=dict)  # statistic -> reason code for None


@dataclass(frozen=True)
class Reliability:
    method: str  # "KR-20" or "Cronbach alpha"
    value: float | None
    items: int
    candidates: int  # rows that had every item of the section
    reason: str | None = None  # a REASONS code when value is None


def pearson(xs: Sequence[float], ys: Sequence[float]) -> tuple[float | None, str | None]:
    """Pearson's r with population moments, or None and the reason it does not exist."""
    if len(xs) < 2:
        return None, "too_few_candidates"
    vx, vy = pvariance(xs), pvariance(ys)
    if vx == 0:
        return None, "item_has_no_variance"
    if vy == 0:
        return None, "rest_has_no_variance"
    mx, my = fmean(xs), fmean(ys)
    cov = fmean([(x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)])
    return cov / math.sqrt(vx * vy), None


def _credit(response: Response, top: float) -> float:
    if response.correct is not None:
        return 1.0 if response.correct else 0.0
    return response.points / top if top > 0 else 0.0


def _groups(totals: Sequence[float]) -> tuple[set[int], set[int]]:
    """Row indexes of the lower and upper 27 % by total (empty when too few rows)."""
    if len(totals) < MIN_FOR_GROUPS:
        return set(), set()
    size = max(1, round(GROUP_SHARE * len(totals)))
    order = sorted(range(len(totals)), key=lambda i: totals[i])  # stable: ties by row order
    return set(order[:size]), set(order[-size:])


def analyse_items(
    matrix: Sequence[Mapping[str, Response]],
    options: Mapping[str, Sequence[str]],
    max_points: Mapping[str, float],
    keys: Mapping[str, Sequence[str]] | None = None,
) -> list[ItemStats]:
    """Statistics per item of one section, in the order of ``options``.

    ``options``: item id -> its option ids; ``max_points``: item id -> the best points it
    gives; ``keys``: item id -> its right option ids, so that only distractors (not keys)
    are flagged as never chosen (without ``keys`` every option is checked).
    """
    totals = [sum(r.points for r in row.values()) for row in matrix]
    lower, upper = _groups(totals)
    stats = []
    for item, option_ids in options.items():
        seen = [(i, row[item]) for i, row in enumerate(matrix) if item in row]
        n = len(seen)
        notes: dict[str, str] = {}
        counts: Counter[str] = Counter()
        for _, r in seen:
            counts.update(r.choice or ("",))
        distractors = {oid: counts[oid] for oid in option_ids} | {"": counts[""]}
        credit = [_credit(r, max_points.get(item, 0.0)) for _, r in seen]
        p = fmean(credit) if n else None
        if p is None:
            notes["p"] = "no_responses"
        pb, why = pearson([r.points for _, r in seen], [totals[i] - r.points for i, r in seen])
        if why:
            notes["point_biserial"] = why
        ul = None
        if not lower:
            notes["upper_lower"] = "too_few_for_groups"
        else:
            up = [c for (i, _), c in zip(seen, credit, strict=True) if i in upper]
            lo = [c for (i, _), c in zip(seen, credit, strict=True) if i in lower]
            if up and lo:
                ul = fmean(up) - fmean(lo)
            else:
                notes["upper_lower"] = "group_did_not_see_item"
        flags = []
        if pb is not None and pb < 0:
            flags.append("negative_discrimination")
        if p is not None and p > TOO_EASY:
            flags.append("too_easy")
        if p is not None and p < TOO_HARD:
            flags.append("too_hard")
        right = set(keys.get(item, ())) if keys else set()
        if n >= MIN_FOR_DISTRACTORS and any(
            count == 0 for oid, count in distractors.items() if oid and oid not in right
        ):
            flags.append("distractor_never_chosen")
        stats.append(ItemStats(item, n, p, pb, ul, distractors, flags, notes))
    return stats


def _complete_rows(
    matrix: Sequence[Mapping[str, Response]], items: Sequence[str]
) -> list[list[Response]]:
    return [[row[i] for i in items] for row in matrix if all(i in row for i in items)]


def _alpha(method: str, scores: list[list[float]], items: int) -> Reliability:
    """k/(k-1) * (1 - sum of item variances / variance of totals), population variances."""
    n = len(scores)
    if items < 2:
        return Reliability(method, None, items, n, "too_few_items")
    if n < 2:
        return Reliability(method, None, items, n, "too_few_complete_rows")
    total_var = pvariance([sum(row) for row in scores])
    if total_var == 0:
        return Reliability(method, None, items, n, "total_has_no_variance")
    item_var = sum(pvariance([row[j] for row in scores]) for j in range(items))
    return Reliability(method, items / (items - 1) * (1 - item_var / total_var), items, n)


def kr20(matrix: Sequence[Mapping[str, Response]], items: Sequence[str]) -> Reliability:
    """KR-20 on right (1) / not right (0): alpha on 0/1 scores, where each item's variance
    is p(1 - p). Only candidates who had every item count."""
    rows = _complete_rows(matrix, items)
    return _alpha("KR-20", [[1.0 if r.correct else 0.0 for r in row] for row in rows], len(items))


def cronbach(matrix: Sequence[Mapping[str, Response]], items: Sequence[str]) -> Reliability:
    """Cronbach's alpha on the points. Only candidates who had every item count."""
    rows = _complete_rows(matrix, items)
    return _alpha("Cronbach alpha", [[r.points for r in row] for row in rows], len(items))


def section_reliability(
    matrix: Sequence[Mapping[str, Response]], items: Sequence[str], weighted: bool
) -> Reliability:
    """KR-20 for a right/wrong section, Cronbach's alpha for a weighted one."""
    return cronbach(matrix, items) if weighted else kr20(matrix, items)


def cronbach_alpha(matrix: Sequence[Mapping[str, Response]], items: Sequence[str]) -> float | None:
    """Cronbach's alpha on the points, or None (see :func:`cronbach` for the reason)."""
    return cronbach(matrix, items).value


def analysis_rows(stats: Sequence[ItemStats], lang: str = "id") -> list[dict[str, object]]:
    """Flat rows for CSV/XLSX export; ``notes`` says why a statistic is empty."""
    en = lang == "en"

    def r(value: float | None) -> float | None:
        return None if value is None else round(value, 3)

    blank = "blank" if en else "kosong"
    return [
        {
            "item": s.item,
            "n": s.n,
            "p": r(s.p),
            "point_biserial": r(s.point_biserial),
            "upper_lower": r(s.upper_lower),
            "distractors": " ".join(f"{k or blank}:{v}" for k, v in s.distractors.items()),
            "flags": " ".join(s.flags),
            "notes": "; ".join(
                f"{stat}: {REASONS[code][en]}" for stat, code in sorted(s.notes.items())
            ),
        }
        for s in stats
    ]
