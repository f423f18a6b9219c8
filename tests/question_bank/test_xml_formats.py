"""Moodle XML and IMS QTI files written by Moodle, OAT's qti-sdk and Citolab's scoring engine."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest

from question_bank.credit import credit
from question_bank.importing import parse_bank
from question_bank.items import ItemKind
from question_bank.sanitize import html_to_text

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def _read(path: Path, **options: bool):
    return parse_bank(path.read_bytes(), path.name, **options)


def _expect(external: Path, key: str) -> dict:
    return json.loads((external / "expectations.json").read_text())[key]


def test_moodle_true_false_export_keeps_both_keys_and_the_embedded_image(external: Path) -> None:
    report = _read(external / "moodle/xml/truefalse.xml")
    assert report.ok and report.fmt == "moodle_xml"
    by_name = {item.external_id: item for item in report.items}
    assert by_name["Moodle acronym (False)"].correct_ids == ("B",)  # Salah
    assert by_name["Moodle acronym (True)"].correct_ids == ("A",)  # Benar
    item = by_name["Moodle acronym (True)"]
    assert item.kind is ItemKind.TRUE_FALSE and item.category == "Default for testhead/TrueFalse"
    assert [i.name for i in item.images] == ["logo.jpg"] and item.images[
        0
    ].media_type == "image/jpeg"
    assert 'src="@@IMG@@/logo.jpg"' in item.stem_html and "@@PLUGINFILE@@" not in item.stem_html


def test_moodle_multichoice_whose_text_links_audio_is_refused_naming_the_audio(
    external: Path,
) -> None:
    # "Listen to this greeting" links an mp3 we cannot play to candidates: without it the
    # question cannot be answered, so it is refused rather than imported without it.
    report = _read(external / "moodle/xml/multichoice.xml")
    assert report.items == []
    assert [(p.item, p.code) for p in report.errors] == [("Greeting", "media_unsupported")]
    assert "bonjour.mp3" in report.errors[0].message_id


def test_moodle_multichoice_keeps_its_flags_and_leaves_out_an_unused_attachment(
    external: Path,
) -> None:
    expected = _expect(external, "moodle/xml/multichoice.xml")
    data = (external / "moodle/xml/multichoice.xml").read_bytes()
    link = b'<a href="@@PLUGINFILE@@/bonjour.mp3">Listen to this greeting:</a>'
    report = parse_bank(data.replace(link, b"Listen to this greeting:"), "multichoice.xml")
    (item,) = report.items
    assert [o.score * 100 for o in item.options] == expected["fractions"]
    assert item.external_id == expected["name"] and expected["contains"] in item.stem_html
    assert len(item.images) == 4 and all("@@IMG@@/" in o.html for o in item.options)
    assert [w.code for w in report.warnings] == ["media_dropped"]


def test_moodle_multiple_answer_question_keeps_its_fifty_fifty_fractions(external: Path) -> None:
    expected = _expect(external, "moodle/qtype/multichoice_testquestion.moodle.xml")
    (item,) = _read(external / "moodle/qtype/multichoice_testquestion.moodle.xml").items
    assert item.kind is ItemKind.MULTIPLE and item.external_id == expected["name"]
    fractions = {html_to_text(o.html): o.score * 100 for o in item.options}
    assert fractions == expected["fractions"]


def test_moodle_grades_that_do_not_add_up_refuse_the_file_naming_the_question(
    external: Path,
) -> None:
    report = _read(external / "moodle/xml/error_invalid_grades.xml")
    assert report.items == [] and [p.code for p in report.errors] == ["fractions_sum"]
    problem = report.errors[0]
    assert problem.item == "Question with invalid grades : x > 1 & x < 2"
    assert "33%" in problem.message_id and "33%" in problem.message_en


def test_moodle_category_paths_become_categories(external: Path) -> None:
    report = _read(
        external / "moodle/xml/nested_categories_with_questions.xml", skip_unsupported=True
    )
    placement = {i.external_id: i.category for i in report.items}
    assert placement == {
        "Iota Question": "Iota",
        "Kappa Question": "Iota/Kappa",
        "Lambda Question": "Iota/Kappa/Lambda",
        "Mu Question": "Iota/Mu",
    }
    assert [s.item for s in report.skipped] == ["Kappa Essay Question"]


def test_moodle_idnumbers_with_entities_are_decoded(external: Path) -> None:
    (item,) = _read(external / "moodle/xml/html_chars_in_idnumbers.xml").items
    assert item.external_id == "T & F"


@pytest.mark.parametrize("name", ["broken_cloze_questions.xml", "multianswer.xml"])
def test_moodle_cloze_questions_are_refused_by_type(external: Path, name: str) -> None:
    report = _read(external / "moodle/xml" / name)
    assert report.items == [] and report.errors
    assert all(p.code == "unsupported_type" and "'cloze'" in p.message_en for p in report.errors)


def test_moodle_19_image_tag_is_kept_with_the_item(external: Path) -> None:
    report = _read(
        external / "moodle/xml/sample_questions_with_old_image_tag.xml", skip_unsupported=True
    )
    (item,) = report.items
    assert item.external_id == "mcq with image" and item.images[0].media_type == "image/png"
    assert '<img src="@@IMG@@/moodle.png"' in item.stem_html


def test_qti_map_response_reproduces_citolabs_score_table(external: Path) -> None:
    table = {("H", "O"): 2, ("O",): 1, ("Cl", "H", "O"): 1, ("He", "Cl", "H", "O"): 0}
    for name in ("2x_ims_choice_multiple.xml", "30_ims_composition_of_water_qti3.xml"):
        (item,) = _read(external / "qti/citolab_qti-scoring-engine" / name).items
        assert item.kind is ItemKind.MULTIPLE
        for chosen, score in table.items():
            # The item's maximum is its upperBound, 2; credit() gives the fraction of it.
            assert credit(item, chosen) * 2 == pytest.approx(score), (name, chosen)


def _package(item_xml: bytes, images: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr(
            "imsmanifest.xml",
            '<manifest xmlns="http://www.imsglobal.org/xsd/imscp_v1p1"><resources>'
            '<resource identifier="r1" type="imsqti_item_xmlv2p1" href="items/choice.xml"/>'
            "</resources></manifest>",
        )
        archive.writestr("items/choice.xml", item_xml)
        for name, data in images.items():
            archive.writestr(f"items/{name}", data)
    return out.getvalue()


def test_a_qti_item_whose_image_is_missing_is_refused(external: Path) -> None:
    report = _read(external / "qti/oat-sa_qti-sdk/ims_items_2_1_choice_fixed.xml")
    assert [p.code for p in report.errors] == ["image_missing"] and report.errors[
        0
    ].item == "choice"


def test_a_qti_package_keeps_the_image_the_key_and_the_fixed_choice(external: Path) -> None:
    xml = (external / "qti/oat-sa_qti-sdk/ims_items_2_1_choice_fixed.xml").read_bytes()
    report = parse_bank(_package(xml, {"images/sign.png": PNG}), "paket.zip")
    assert report.ok, report.errors
    (item,) = report.items
    assert item.correct_ids == ("ChoiceA",) and item.kind is ItemKind.SINGLE
    assert [o.fixed for o in item.options] == [False, False, False, True]
    assert item.images[0].data == PNG and 'src="@@IMG@@/sign.png"' in item.stem_html
    assert "What does it say?" in item.stem_html


def test_qti_match_correct_single_choice_scores_a_one_and_b_c_nothing(external: Path) -> None:
    xml = (external / "qti/citolab_qti-scoring-engine/2x_ims_choice.xml").read_bytes()
    (item,) = parse_bank(_package(xml, {"images/sign.png": PNG}), "p.zip").items
    assert [credit(item, [c]) for c in ("ChoiceA", "ChoiceB", "ChoiceC")] == [1, 0, 0]
    assert all(o.fixed for o in item.options)  # shuffle="false": the author's order stays


def test_qti_item_without_a_choice_interaction_is_refused(external: Path) -> None:
    report = _read(external / "qti/citolab_qti-scoring-engine/2x_112505-MR.xml")
    assert [(p.item, p.code) for p in report.errors] == [("ITM-112505", "qti_no_interaction")]


def test_broken_qti_files_each_get_their_own_message(external: Path) -> None:
    folder = external / "qti/oat-sa_qti-sdk"
    assert [p.code for p in _read(folder / "invalid_empty.xml").errors] == ["empty_file"]
    malformed = _read(folder / "invalid_malformed.xml").errors
    assert [p.code for p in malformed] == ["bad_xml"] and "28" in malformed[0].message_id
    assert [p.code for p in _read(folder / "invalid_noversion.xml").errors] == ["not_qti"]


def test_qti_all_or_nothing_multiple_answer_scores_only_the_exact_set() -> None:
    xml = b"""<assessmentItem xmlns="http://www.imsglobal.org/xsd/imsqti_v2p1" identifier="mr">
      <responseDeclaration identifier="RESPONSE" cardinality="multiple" baseType="identifier">
        <correctResponse><value>D</value><value>E</value></correctResponse></responseDeclaration>
      <itemBody><choiceInteraction responseIdentifier="RESPONSE" maxChoices="0" shuffle="true">
        <prompt>Pilih dua.</prompt><simpleChoice identifier="C">c</simpleChoice>
        <simpleChoice identifier="D">d</simpleChoice><simpleChoice identifier="E">e</simpleChoice>
      </choiceInteraction></itemBody>
      <responseProcessing template="http://www.imsglobal.org/question/qti_v2p1/rptemplates/match_correct"/>
    </assessmentItem>"""
    (item,) = parse_bank(xml, "mr.xml").items
    assert item.all_or_nothing
    assert [credit(item, s) for s in (["D", "E"], ["D"], ["C", "D", "E"], [])] == [1, 0, 0, 0]


def test_a_qti_text_entry_item_is_refused_naming_the_interaction() -> None:
    xml = b"""<assessmentItem xmlns="http://www.imsglobal.org/xsd/imsqti_v2p1" identifier="te">
      <itemBody><p>Ibu kota? <textEntryInteraction responseIdentifier="RESPONSE"/></p></itemBody>
    </assessmentItem>"""
    report = parse_bank(xml, "te.xml")
    assert [p.code for p in report.errors] == ["unsupported_type"]
    assert "textEntryInteraction" in report.errors[0].message_en
