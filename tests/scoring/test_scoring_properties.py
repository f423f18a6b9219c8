"""Properties every scoring model keeps, on items and rules that hypothesis makes up."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import assume, given
from hypothesis import strategies as st

from exam_server.grading.scoring import (
    ScoringModel,
    SectionRule,
    points_range,
    score_answer,
    score_attempt,
)
from question_bank.items import Item, ItemKind, Option

scores = st.floats(-3, 3, allow_nan=False).map(lambda x: round(x, 3))
bound = st.none() | scores


@st.composite
def items(draw: st.DrawFn, kinds: tuple[ItemKind, ...] = tuple(ItemKind)) -> Item:
    kind = draw(st.sampled_from(kinds))
    count = 2 if kind is ItemKind.TRUE_FALSE else draw(st.integers(1, 6))
    weighted = draw(st.booleans())
    values = draw(
        st.lists(
            st.integers(1, 5).map(float) if weighted else scores, min_size=count, max_size=count
        )
    )
    multiple = kind is ItemKind.MULTIPLE
    return Item(
        kind,
        "?",
        tuple(Option(f"o{i}", "", v) for i, v in enumerate(values)),
        weighted=weighted,
        lower_bound=draw(bound) if multiple else None,
        upper_bound=draw(bound) if multiple else None,
        all_or_nothing=multiple and not weighted and draw(st.booleans()),
    )


rules = st.builds(
    SectionRule,
    code=st.just("X"),
    name=st.just("X"),
    model=st.sampled_from(ScoringModel),
    points_correct=st.floats(0, 10, allow_nan=False),
    points_wrong=st.floats(-5, 0, allow_nan=False),
    points_blank=st.floats(-2, 0, allow_nan=False),
)


@st.composite
def responses(draw: st.DrawFn, item: Item) -> frozenset[str] | None:
    ids = [o.id for o in item.options]
    if item.kind is ItemKind.MULTIPLE:
        picked = draw(st.sets(st.sampled_from(ids)))
    else:
        picked = draw(st.sets(st.sampled_from(ids), max_size=1))
    return frozenset(picked) if picked or draw(st.booleans()) else None


@given(st.data(), items(), rules)
def test_every_response_scores_within_the_items_range(
    data: st.DataObject, item: Item, rule: SectionRule
) -> None:
    chosen = data.draw(responses(item))
    low, high = points_range(item, rule)
    points = score_answer(item, chosen, rule).points
    assert low - 1e-6 <= points <= high + 1e-6


# Drawn as partial-credit multiple-answer items directly: filtering the general strategy
# down to them discarded so many inputs that hypothesis's health check failed at random.
partial_credit = items(kinds=(ItemKind.MULTIPLE,)).map(lambda i: replace(i, all_or_nothing=False))


@given(st.data(), partial_credit, rules)
def test_adding_an_option_that_gains_credit_never_lowers_the_score(
    data: st.DataObject, item: Item, rule: SectionRule
) -> None:
    gains = [o.id for o in item.options if o.score >= 0]
    assume(gains)
    chosen = data.draw(st.sets(st.sampled_from([o.id for o in item.options]), min_size=1))
    extra = data.draw(st.sampled_from(gains))
    before = score_answer(item, frozenset(chosen), rule).points
    after = score_answer(item, frozenset(chosen | {extra}), rule).points
    assert after >= before - 1e-9


@given(
    st.data(),
    st.lists(st.tuples(rules, st.integers(0, 4)), max_size=4),
    st.none() | st.floats(-5, 50, allow_nan=False),
)
def test_an_attempt_adds_its_answers_and_passes_only_when_every_rule_holds(
    data: st.DataObject, layout: list[tuple[SectionRule, int]], total_mark: float | None
) -> None:
    sections = []
    for rule, count in layout:
        marked = replace(rule, pass_mark=data.draw(st.none() | st.floats(-5, 20)))
        paper = data.draw(st.lists(items(), min_size=count, max_size=count))
        answers = [(item, data.draw(responses(item))) for item in paper]
        sections.append((marked, answers))
    result = score_attempt(sections, total_pass_mark=total_mark)
    expected = [sum(score_answer(i, c, r).points for i, c in answers) for r, answers in sections]
    assert [s.points for s in result.sections] == [round(x, 6) for x in expected]
    assert result.total == round(sum(s.points for s in result.sections), 6)
    failing = [s for s in result.sections if s.passed is False]
    assert all(
        (s.passed is False) == (r.pass_mark is not None and s.points < r.pass_mark)
        for s, (r, _) in zip(result.sections, sections, strict=True)
    )
    total_fails = total_mark is not None and result.total < total_mark
    assert len(result.failed_rules) == len(failing) + total_fails == len(result.failed_rules_en)
    assert result.passed is (not failing and not total_fails)
    assert all(s.points <= s.max_points + 1e-6 for s in result.sections)
