"""Blueprint draws and per-candidate order, deterministic from the attempt's seed."""

from __future__ import annotations

import statistics

import pytest

from question_bank.assembly import Blueprint, ItemRef, SectionPlan, draw_questions, option_order

POOL = [
    ItemRef(i, "TWK", ("Pancasila", "UUD", "Sejarah")[i % 3], (i % 20) / 19) for i in range(1, 91)
] + [ItemRef(100 + i, "TKP", "Pelayanan", None) for i in range(60)]


def _blueprint(**twk: object) -> Blueprint:
    return Blueprint(
        (
            SectionPlan("Wawasan Kebangsaan", "TWK", 30, (("Pancasila", 10), ("UUD", 10)), **twk),  # type: ignore[arg-type]
            SectionPlan("Karakteristik Pribadi", "TKP", 45),
        )
    )


def test_the_same_set_for_everybody_gives_every_candidate_the_same_items() -> None:
    blueprint = _blueprint(same_for_everybody=True)
    assert draw_questions(POOL, blueprint, "seed-a") == draw_questions(POOL, blueprint, "seed-b")


def test_a_per_candidate_draw_differs_between_candidates_and_not_between_reconnects() -> None:
    blueprint = _blueprint(same_for_everybody=False)
    first = draw_questions(POOL, blueprint, "attempt-1")
    assert first == draw_questions(list(reversed(POOL)), blueprint, "attempt-1")
    assert first[0] != draw_questions(POOL, blueprint, "attempt-2")[0]


def test_the_draw_meets_the_category_counts_of_the_blueprint() -> None:
    twk, tkp = draw_questions(POOL, _blueprint(same_for_everybody=False), "s")
    categories = {r.id: r.category for r in POOL}
    assert len(twk) == 30 and len(set(twk)) == 30 and len(tkp) == 45
    assert [categories[i] for i in twk].count("Pancasila") >= 10
    assert [categories[i] for i in twk].count("UUD") >= 10


def test_balancing_difficulty_evens_out_the_papers() -> None:
    def spread(balance: bool) -> float:
        blueprint = _blueprint(same_for_everybody=False, balance_difficulty=balance)
        level = {r.id: r.difficulty or 0.0 for r in POOL}
        means = [
            statistics.mean(level[i] for i in draw_questions(POOL, blueprint, f"c{n}")[0])
            for n in range(40)
        ]
        return statistics.pstdev(means)

    assert spread(True) < spread(False) / 2


def test_a_pool_that_cannot_fill_the_blueprint_is_refused_in_both_languages() -> None:
    blueprint = Blueprint((SectionPlan("TWK", "TWK", 5, (("Pancasila", 40),)),))
    with pytest.raises(ValueError, match="melebihi"):
        draw_questions(POOL, blueprint, "s")
    blueprint = Blueprint((SectionPlan("TWK", "TWK", 40, (("Pancasila", 40),)),))
    with pytest.raises(ValueError, match="Pancasila butuh 40 soal, tersedia 30") as caught:
        draw_questions(POOL, blueprint, "s")
    assert "needs 40" in str(caught.value)


def test_fixed_options_stay_in_place() -> None:
    ids, fixed = ["A", "B", "C", "D", "E"], [False, False, False, False, True]
    orders = {tuple(option_order(ids, fixed, f"seed{n}", 7)) for n in range(30)}
    assert len(orders) > 1 and all(order[4] == "E" for order in orders)
