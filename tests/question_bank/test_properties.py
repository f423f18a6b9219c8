"""Property tests: exports read back as the same items; shuffles are honest permutations."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from question_bank.assembly import option_order, question_order
from question_bank.exporting import export_bank
from question_bank.importing import parse_bank
from question_bank.items import Item, ItemKind, Option
from question_bank.sanitize import text_to_html

# Words, spaces and the characters that HTML escaping must survive (but no tag-like "<b").
_word = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyzáéüKMT0123456789.,?!()'\"&%", min_size=1, max_size=12
)
_text = st.lists(
    st.one_of(_word, st.sampled_from(["<", ">", "< 3", "&amp;"])), min_size=1, max_size=8
).map(" ".join)
_label = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-", min_size=1, max_size=10)


@st.composite
def items(draw: st.DrawFn) -> Item:
    kind = draw(st.sampled_from(["pg", "pgk", "bs", "bobot"]))
    count = 2 if kind == "bs" else draw(st.integers(2, 5))
    texts = (
        ["Benar", "Salah"]
        if kind == "bs"
        else draw(st.lists(_text, min_size=count, max_size=count))
    )
    ids = "ABCDE"[:count]
    if kind == "bobot":
        scores = [float(draw(st.integers(0, 5))) for _ in ids]
        scores[draw(st.integers(0, count - 1))] = 5.0
    else:
        keys = draw(
            st.lists(
                st.sampled_from(ids),
                min_size=1,
                max_size=1 if kind != "pgk" else count,
                unique=True,
            )
        )
        scores = [(1.0 / len(keys) if i in keys else 0.0) for i in ids]
    return Item(
        kind={"pgk": ItemKind.MULTIPLE, "bs": ItemKind.TRUE_FALSE}.get(kind, ItemKind.SINGLE),
        stem_html=text_to_html(draw(_text)),
        options=tuple(
            Option(i, text_to_html(t), s, fixed=kind == "bs" or draw(st.booleans()))
            for i, t, s in zip(ids, texts, scores, strict=True)
        ),
        section=draw(st.sampled_from(["TWK", "TIU", "TKP", ""])),
        category=draw(st.sampled_from(["", "Pancasila", "Numerik"])),
        tags=tuple(draw(st.lists(_label, max_size=3, unique=True))),
        difficulty=draw(st.one_of(st.none(), st.sampled_from([0.0, 0.25, 0.5, 1.0]))),
        weighted=kind == "bobot",
        external_id=draw(st.one_of(st.none(), _label)),
        all_or_nothing=kind == "pgk" and draw(st.booleans()),
    )


def _unique(bank: list[Item]) -> list[Item]:
    seen: dict[str, Item] = {}
    for item in bank:
        seen.setdefault(item.content_hash(), item)
    return list(seen.values())


@settings(max_examples=40, deadline=None)
@given(
    st.lists(items(), min_size=1, max_size=6).map(_unique), st.sampled_from(["csv", "xlsx", "qti"])
)
def test_an_exported_bank_imports_as_the_same_items(bank: list[Item], fmt: str) -> None:
    report = parse_bank(export_bank(bank, fmt), f"bank.{'zip' if fmt == 'qti' else fmt}")
    assert report.ok, report.errors
    assert [i.content_hash() for i in report.items] == [i.content_hash() for i in bank]
    for back, original in zip(report.items, bank, strict=True):
        assert (back.section, back.category, back.tags, back.difficulty, back.external_id) == (
            original.section,
            original.category,
            original.tags,
            original.difficulty,
            original.external_id,
        )
        assert [o.fixed for o in back.options] == [o.fixed for o in original.options]


@given(st.lists(st.booleans(), min_size=1, max_size=8), st.text(max_size=20), st.integers(1, 10**6))
def test_option_order_is_a_deterministic_permutation_that_keeps_fixed_options(
    fixed: list[bool], seed: str, question: int
) -> None:
    ids = [f"O{n}" for n in range(len(fixed))]
    order = option_order(ids, fixed, seed, question)
    assert sorted(order) == sorted(ids)
    assert order == option_order(ids, fixed, seed, question)
    assert all(order[n] == ids[n] for n, pinned in enumerate(fixed) if pinned)


@given(
    st.lists(st.lists(st.integers(1, 10**6), max_size=20, unique=True), max_size=4),
    st.text(max_size=20),
)
def test_question_order_permutes_within_sections_only(sections: list[list[int]], seed: str) -> None:
    order = question_order(sections, seed)
    assert order == question_order(sections, seed)
    start = 0
    for ids in sections:
        assert sorted(order[start : start + len(ids)]) == sorted(ids)
        start += len(ids)


@settings(max_examples=60, deadline=None)
@given(
    st.binary(max_size=300),
    st.sampled_from(["csv", "xlsx", "moodle_xml", "gift", "aiken", "qti", None]),
)
def test_no_input_makes_the_importer_raise(data: bytes, fmt: str | None) -> None:
    report = parse_bank(data, "upload.bin", fmt)
    assert report.ok or (report.items == [] and report.errors)
