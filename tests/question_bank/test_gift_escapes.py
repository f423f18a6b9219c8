"""GIFT as Moodle's export writes it: escapes, real line numbers, and our own GIFT export."""

from __future__ import annotations

from pathlib import Path

import pytest

from question_bank.exporting import export_bank
from question_bank.gift_export import escape, export_gift, gift_items
from question_bank.importing import parse_bank
from question_bank.items import Image, Item, ItemKind, Option
from question_bank.sanitize import html_to_text

# As Moodle's GIFT export writes questions whose text has paragraphs: every line break in
# the text is the two characters "\n", so the file itself has 14 lines.
MOODLE_EXPORT = r"""// question: 0  name: Switch category to $course$/top/Default for IPA
$CATEGORY: $course$/top/Default for IPA

// question: 11  name: Air mendidih
::Air mendidih::[html]<p>Air murni mendidih pada 100 °C.</p>\n\n<p>Tekanan udara 1 atm\: benar?</p>{TRUE}

// question: 12  name: Es
::Es::[html]<p>Es mencair pada\n50 °C.</p>\n\n<p>Benar atau salah?</p>{FALSE}

// question: 13  name: Planet
::Planet::[html]<p>Planet terdekat\n\ndari Matahari?</p>{
	~%50%<p>Merkurius</p>
	~<p>Venus</p>
}
"""


def _gift(text: str, **options: bool):
    return parse_bank(text.encode(), "soal.gift", **options)


def test_an_escaped_line_break_keeps_the_question_whole_and_the_line_numbers_real() -> None:
    report = _gift(MOODLE_EXPORT)
    assert len(MOODLE_EXPORT.splitlines()) == 14
    # Only the planet question is wrong (its fractions add up to 50%), at its real line.
    assert [(p.line, p.item, p.code) for p in report.errors] == [(11, "Planet", "fractions_sum")]


def test_two_true_false_questions_with_paragraphs_import_with_every_sentence() -> None:
    report = _gift(MOODLE_EXPORT.replace("~%50%", "="), skip_unsupported=True)
    assert report.ok and report.skipped == []
    boiling, ice, planet = report.items
    assert boiling.kind is ItemKind.TRUE_FALSE and boiling.correct_ids == ("A",)
    assert html_to_text(boiling.stem_html) == (
        "Air murni mendidih pada 100 °C. Tekanan udara 1 atm: benar?"
    )
    assert ice.correct_ids == ("B",) and "Es mencair pada\n50 °C." in ice.stem_html
    assert "Benar atau salah?" in ice.stem_html and ice.category == "Default for IPA"
    assert planet.correct_ids == ("A",) and "dari Matahari?" in planet.stem_html


def test_every_moodle_escape_gives_its_character() -> None:
    text = (
        r"::Kode\: A\=B::Tanda \{x\} \~ y \# z \\ w, garis\nbaru, \\n dan \q"
        r"{=satu\=1 ~dua\~2 ~tiga\#3 ~empat\:4 ~lima\{5\}}"
    )
    (item,) = _gift(text).items
    assert item.external_id == "Kode: A=B"
    assert html_to_text(item.stem_html) == r"Tanda {x} ~ y # z \ w, garis baru, \n dan \q"
    assert "garis\nbaru" in item.stem_html  # "\n" is a line break inside the text
    assert [html_to_text(o.html) for o in item.options] == [
        "satu=1",
        "dua~2",
        "tiga#3",
        "empat:4",
        "lima{5}",
    ]
    assert item.correct_ids == ("A",)


def test_answers_take_the_question_texts_format_as_moodle_reads_them() -> None:
    text = "[plain]Which is bigger, <b> or <i>?{=<b> ~<i>}"
    (item,) = _gift(text).items
    assert [o.html for o in item.options] == ["&lt;b&gt;", "&lt;i&gt;"]


@pytest.mark.parametrize(
    ("img", "code", "name"),
    [
        (r'<img src\="@@PLUGINFILE@@/peta.png" alt\="peta">', "image_missing", "peta.png"),
        (
            r'<img src\="https\://cdn.example/peta.png">',
            "image_source",
            "https://cdn.example/peta.png",
        ),
        (
            r'<img src\="data\:image/svg+xml;base64,PHN2Zz4=">',
            "image_source",
            "data:image/svg+xml;base64,PHN2Zz4=",
        ),
        ('<svg width\\="10"><circle r\\="4"/></svg>', "image_type", "<svg>"),
    ],
)
def test_a_gift_question_that_shows_a_picture_is_refused_at_its_line(
    img: str, code: str, name: str
) -> None:
    text = f"// gambar\n::Peta::[html]<p>Lihat gambar\\:</p><p>{img}</p>{{=Jawa ~Bali}}\n"
    for skip in (False, True):
        report = _gift(text, skip_unsupported=skip)
        assert report.items == []
        assert [(p.line, p.item, p.code) for p in report.errors] == [(2, "Peta", code)]
        assert name in report.errors[0].message_id and name in report.errors[0].message_en


def test_a_picture_in_an_answer_is_refused_too() -> None:
    report = _gift("Bendera Jepang?{=<img src\\='jp.png'> ~Merah putih}")
    assert [(p.line, p.code) for p in report.errors] == [(1, "image_missing")]


def test_the_export_writes_moodles_layout_and_escapes() -> None:
    item = Item(
        ItemKind.SINGLE,
        "<p>a: b = c</p>\n<p>{x} ~ #y \\ z</p>",
        (
            Option("A", "<p>1:2</p>", 1.0),
            Option("B", "<p>~3</p>", 0.0),
            Option("C", "%4", 0.0),
            Option("D", "<p>5</p>", -0.25),
        ),
        category="IPA/Fisika",
        external_id="Q:1",
    )
    assert export_gift([item]).decode() == (
        "// question: 0  name: Switch category to $course$/top/IPA/Fisika\n"
        "$CATEGORY: $course$/top/IPA/Fisika\n"
        "\n"
        "// question: 1  name: Q:1\n"
        "::Q\\:1::[html]<p>a\\: b \\= c</p>\\n<p>\\{x\\} \\~ \\#y \\\\ z</p>{\n"
        "\t=<p>1\\:2</p>\n"
        "\t~<p>\\~3</p>\n"
        "\t~%0%%4\n"
        "\t~%-25%<p>5</p>\n"
        "}\n"
    )
    assert escape("a\r\nb") == "a\\nb"


def _bank() -> list[Item]:
    single = Item(
        ItemKind.SINGLE,
        "<p>Sila ke-4: musyawarah = mufakat?</p>\n<p>Pilih {satu} ~ #1 \\ saja.</p>",
        (
            Option("A", "perintah", 0.0),
            Option("B", "musyawarah = mufakat", 1.0),
            Option("C", "undian", -0.25),
            Option("D", "%suara%", 0.0),
        ),
        category="TWK/Pancasila",
        external_id="TWK:001",
    )
    thirds = Item(
        ItemKind.MULTIPLE,
        "<p>Bilangan prima?</p>",
        (
            Option("A", "2", 1 / 3),
            Option("B", "3", 1 / 3),
            Option("C", "5", 1 / 3),
            Option("D", "9", -1.0),
        ),
        category="TIU/Numerik",
    )
    true_false = Item(
        ItemKind.TRUE_FALSE,
        "<p>Air mendidih pada 100 °C.</p>",
        (Option("A", "Benar", 0.0, fixed=True), Option("B", "Salah", 1.0, fixed=True)),
    )
    return [single, thirds, true_false]


def test_the_gift_export_reads_back_as_the_same_questions() -> None:
    bank = _bank()
    report = parse_bank(export_bank(bank, "gift"), "bank-soal.gift")
    assert report.ok, report.errors
    assert [i.content_hash() for i in report.items] == [i.content_hash() for i in bank]
    assert [(i.category, i.external_id) for i in report.items] == [
        ("TWK/Pancasila", "TWK:001"),
        ("TIU/Numerik", None),
        ("", None),
    ]


def test_what_gift_cannot_carry_is_left_out_of_the_export() -> None:
    png = Image("peta.png", "image/png", b"\x89PNG\r\n\x1a\n")
    base = _bank()[0]
    pictured = Item(base.kind, '<img src="@@IMG@@/peta.png">', base.options, images=(png,))
    weighted = Item(
        base.kind,
        "<p>TKP</p>",
        tuple(Option(o.id, o.html, float(n)) for n, o in enumerate(base.options, start=1)),
        weighted=True,
    )
    kept, left_out = gift_items([base, pictured, weighted])
    assert kept == [base] and left_out == [pictured, weighted]
    assert len(parse_bank(export_gift([base, pictured, weighted]), "x.gift").items) == 1


def test_every_external_question_gift_can_carry_comes_back_the_same(external: Path) -> None:
    items: dict[str, Item] = {}
    for path in sorted(external.rglob("*")):
        if path.suffix in {".xml", ".txt", ".gift"} and path.is_file():
            for item in parse_bank(path.read_bytes(), path.name, skip_unsupported=True).items:
                items.setdefault(item.content_hash(), item)
    carried, _ = gift_items(list(items.values()))
    assert len(carried) > 20
    report = parse_bank(export_gift(carried), "semua.gift")
    assert report.ok, report.errors[:3]
    assert [i.content_hash() for i in report.items] == [i.content_hash() for i in carried]
