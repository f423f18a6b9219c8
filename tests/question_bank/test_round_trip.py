"""Other projects' banks survive our spreadsheet and QTI exports: same questions, same keys.

A bank that goes out to a spreadsheet for review and comes back must add nothing new, or
the committee ends up with every question twice (issue 3).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from question_bank.exporting import export_bank, spreadsheet_items
from question_bank.importing import parse_bank
from question_bank.items import Item
from question_bank.tabular import read_csv

SUFFIXES = {".xml", ".txt", ".gift"}


def _external_items(external: Path) -> list[Item]:
    items: dict[str, Item] = {}
    for path in sorted(external.rglob("*")):
        if path.suffix not in SUFFIXES or not path.is_file():
            continue
        report = parse_bank(path.read_bytes(), path.name, skip_unsupported=True)
        for item in report.items:
            items.setdefault(item.content_hash(), item)
    return list(items.values())


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "qti"])
def test_every_external_question_comes_back_from_an_export_as_the_same_question(
    external: Path, fmt: str
) -> None:
    bank = _external_items(external)
    assert len(bank) > 30  # the fixtures hold that many distinct importable questions
    carried = bank if fmt == "qti" else spreadsheet_items(bank)[0]
    report = parse_bank(export_bank(bank, fmt), f"bank.{'zip' if fmt == 'qti' else fmt}")
    assert report.ok, report.errors
    assert [i.content_hash() for i in report.items] == [i.content_hash() for i in carried]
    for back, original in zip(report.items, carried, strict=True):
        assert [o.score for o in back.options] == pytest.approx([o.score for o in original.options])
        assert (back.lower_bound, back.upper_bound) == (original.lower_bound, original.upper_bound)


def test_a_spreadsheet_export_leaves_out_only_the_questions_with_images(external: Path) -> None:
    bank = _external_items(external)
    kept, left_out = spreadsheet_items(bank)
    assert left_out and all(item.images for item in left_out)
    assert len(kept) + len(left_out) == len(bank)
    exported = parse_bank(export_bank(bank, "xlsx"), "bank.xlsx")
    assert len(exported.items) == len(kept)


def test_qti_bounds_travel_through_the_spreadsheet_as_percentages(external: Path) -> None:
    path = external / "qti" / "citolab_qti-scoring-engine" / "2x_ims_choice_multiple.xml"
    (item,) = parse_bank(path.read_bytes(), path.name).items
    text = export_bank([item], "csv").decode("utf-8-sig")
    (cells,) = csv.DictReader(io.StringIO(text))
    assert (cells["batas_bawah"], cells["batas_atas"]) == ("0", "100")


def test_a_row_that_shows_an_image_it_cannot_carry_is_refused() -> None:
    text = (
        "no,soal,opsi_a,opsi_b,kunci\n"
        '1,"Perhatikan <img src=""@@IMG@@/pola.png""> berikut",satu,dua,A\n'
    )
    report = parse_bank(text.encode(), "soal.csv")
    assert not report.ok
    assert [(p.line, p.code) for p in report.errors] == [(2, "image_missing")]
    assert "pola.png" in report.errors[0].message_id


def test_bounds_belong_only_to_partial_credit_multiple_answer_rows() -> None:
    text = (
        "no,tipe,soal,opsi_a,opsi_b,opsi_c,kunci,bobot_a,bobot_b,bobot_c,batas_bawah,batas_atas\n"
        "1,pg,Satu kunci,x,y,z,A,,,,0,100\n"
        '2,pgk,Dua kunci,x,y,z,"A, B",50,50,-50,80,20\n'
        '3,pgk,Dua kunci lagi,x,y,z,"A, B",50,50,-50,-50,100\n'
    )
    report = parse_bank(text.encode(), "soal.csv")
    assert [(p.line, p.code) for p in report.errors] == [
        (2, "bounds_need_weights"),
        (3, "bounds_order"),
    ]
    drafts = read_csv(text)
    assert (drafts[2].item.lower_bound, drafts[2].item.upper_bound) == (-0.5, 1.0)  # type: ignore[union-attr]


def test_text_that_only_resembles_a_tag_stays_text_through_a_spreadsheet() -> None:
    from question_bank.items import Item, ItemKind, Option

    item = Item(
        ItemKind.TRUE_FALSE,
        "&lt; p &gt; &amp;amp;",
        (Option("A", "Benar", 1.0, True), Option("B", "Salah", 0.0, True)),
    )
    for fmt in ("csv", "xlsx"):
        (back,) = parse_bank(export_bank([item], fmt), f"bank.{fmt}").items
        assert back.stem_html == item.stem_html
