"""Per-candidate assembly: which questions, in which order, with which option order.

Everything is derived from the attempt's stored seed with a hash-based Fisher-Yates
shuffle, so the same seed gives the same paper on any worker, machine, Python version or
restart: a reconnecting candidate must see exactly the page they left.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")


def _draw(seed: str, label: str, counter: int, bound: int) -> int:
    """A uniform integer in [0, bound) from the seed, without modulo bias."""
    limit = (1 << 64) - ((1 << 64) % bound)
    while True:
        digest = hashlib.sha256(f"{seed}|{label}|{counter}".encode()).digest()
        value = int.from_bytes(digest[:8], "big")
        if value < limit:
            return value % bound
        counter += 1_000_003  # rare: step to a fresh draw


def seeded_shuffle(items: Sequence[T], seed: str, label: str) -> list[T]:
    """A deterministic permutation of ``items`` for this seed and label."""
    out = list(items)
    for i in range(len(out) - 1, 0, -1):
        j = _draw(seed, label, i, i + 1)
        out[i], out[j] = out[j], out[i]
    return out


def question_order(
    ids_by_section: Sequence[Sequence[int]], seed: str, *, shuffle: bool = True
) -> list[int]:
    """Question ids in the order this candidate sees them.

    Sections stay in their exam order (TWK, then TIU, then TKP); questions are shuffled
    within their section only, so section timing and navigation stay meaningful.
    """
    order: list[int] = []
    for index, ids in enumerate(ids_by_section):
        order.extend(seeded_shuffle(ids, seed, f"section:{index}") if shuffle else ids)
    return order


def option_order(
    option_ids: Sequence[str], fixed: Sequence[bool], seed: str, question_id: int
) -> list[str]:
    """Option ids in display order; options marked fixed keep their position."""
    movable = [oid for oid, pinned in zip(option_ids, fixed, strict=True) if not pinned]
    shuffled = iter(seeded_shuffle(movable, seed, f"options:{question_id}"))
    return [
        oid if pinned else next(shuffled) for oid, pinned in zip(option_ids, fixed, strict=True)
    ]


# --- drawing questions from the bank by blueprint ------------------------------------------


@dataclass(frozen=True, slots=True)
class ItemRef:
    """What the draw needs to know about a bank item."""

    id: int
    section: str
    category: str = ""
    difficulty: float | None = None


@dataclass(frozen=True, slots=True)
class SectionPlan:
    """One section of the blueprint: ``count`` items, some from named categories.

    ``categories`` gives (category, count) pairs; what they leave of ``count`` is drawn from
    any category of the section. ``same_for_everybody`` draws one paper for all candidates
    (from ``Blueprint.exam_seed``); otherwise each candidate draws from the pool with the
    attempt's seed. ``balance_difficulty`` spreads each draw over the difficulty range, so
    every candidate's paper has about the same difficulty.
    """

    name: str
    code: str
    count: int
    categories: tuple[tuple[str, int], ...] = ()
    same_for_everybody: bool = True
    balance_difficulty: bool = False


@dataclass(frozen=True, slots=True)
class Blueprint:
    sections: tuple[SectionPlan, ...]
    exam_seed: str = "exam"  # the shared draw; give each exam its own to vary it between exams


def _shortfall(section: SectionPlan, category: str | None, need: int, have: int) -> ValueError:
    what_id = f"seksi {section.code}" + (f" kategori {category}" if category else "")
    what_en = f"section {section.code}" + (f" category {category}" if category else "")
    return ValueError(
        f"Bank soal tidak cukup: {what_id} butuh {need} soal, tersedia {have}. "
        f"/ Not enough questions: {what_en} needs {need}, the bank has {have}."
    )


def _pick(
    candidates: list[ItemRef], count: int, seed: str, label: str, balance: bool
) -> list[ItemRef]:
    if count == 0:
        return []
    if not balance:
        return seeded_shuffle(candidates, seed, label)[:count]
    # Strata of neighbouring difficulty, one item from each: every paper spans the range.
    ordered = sorted(
        candidates, key=lambda r: (0.5 if r.difficulty is None else r.difficulty, r.id)
    )
    picked = []
    for stratum in range(count):
        low = stratum * len(ordered) // count
        high = (stratum + 1) * len(ordered) // count
        picked.append(ordered[low + _draw(seed, f"{label}:stratum", stratum, high - low)])
    return picked


def draw_questions(pool: Sequence[ItemRef], blueprint: Blueprint, seed: str) -> list[list[int]]:
    """Item ids for each section of the blueprint, in bank order (``question_order`` shuffles).

    Raises ``ValueError`` (Indonesian / English) when the pool cannot fill the blueprint.
    """
    ordered_pool = sorted(pool, key=lambda r: r.id)
    papers: list[list[int]] = []
    for index, section in enumerate(blueprint.sections):
        draw_seed = blueprint.exam_seed if section.same_for_everybody else seed
        available = [r for r in ordered_pool if r.section == section.code]
        named = sum(n for _, n in section.categories)
        if named > section.count:
            raise ValueError(
                f"Cetak biru seksi {section.code}: jumlah per kategori ({named}) melebihi jumlah soal "
                f"({section.count}). / Blueprint section {section.code}: the category counts ({named}) "
                f"exceed the section's count ({section.count})."
            )
        if len(available) < section.count:
            raise _shortfall(section, None, section.count, len(available))
        chosen: list[ItemRef] = []
        for category, count in section.categories:
            candidates = [r for r in available if r.category == category]
            if len(candidates) < count:
                raise _shortfall(section, category, count, len(candidates))
            chosen += _pick(
                candidates, count, draw_seed, f"draw:{index}:{category}", section.balance_difficulty
            )
        taken = {r.id for r in chosen}
        rest = [r for r in available if r.id not in taken]
        if len(rest) < section.count - named:
            raise _shortfall(section, None, section.count - named, len(rest))
        chosen += _pick(
            rest, section.count - named, draw_seed, f"draw:{index}:*", section.balance_difficulty
        )
        papers.append(sorted(r.id for r in chosen))
    return papers
