"""Citolab's QTI scoring engine's own score tables, reproduced by our scoring models.

The items are read here with the standard library straight from the QTI files (2.2 and
3.0), independently of ``question_bank.qti``, so the scoring rule is checked against the
files themselves; a second test runs the same tables through our importer.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest

from exam_server.grading.scoring import ScoringModel, SectionRule, score_answer
from question_bank.importing import parse_bank
from question_bank.items import Item, ItemKind, Option

EXTERNAL = Path(__file__).resolve().parents[2] / ".." / "shared" / "external"
FOLDER = "qti/citolab_qti-scoring-engine"


@pytest.fixture(scope="module")
def expectations() -> dict[str, dict[str, Any]]:
    if not (EXTERNAL / "expectations.json").is_file():
        pytest.skip("the shared external test material is not on this machine")
    data = json.loads((EXTERNAL / "expectations.json").read_text())
    tables = {k: v for k, v in data.items() if k.startswith(FOLDER) and "score" in v}
    assert len(tables) == 4  # choice, choice_multiple, its QTI 3.0 twin, 112505-MR
    return tables


def _name(tag: str) -> str:
    """QTI 2.x ``mapEntry`` and QTI 3.0 ``qti-map-entry`` both become ``mapentry``."""
    local = tag.rsplit("}", 1)[-1]
    return local.removeprefix("qti-").replace("-", "").lower()


def _attrs(element: ElementTree.Element) -> dict[str, str]:
    return {k.replace("-", "").lower(): v for k, v in element.attrib.items()}


def _all(root: ElementTree.Element, name: str) -> list[ElementTree.Element]:
    return [e for e in root.iter() if _name(e.tag) == name]


def item_from_qti(path: Path) -> tuple[Item, SectionRule]:
    """The item and the rule that reproduce the file's SCORE: map_response, match_correct,
    or the all-or-nothing pattern of a custom responseProcessing."""
    root = ElementTree.parse(path).getroot()
    (declaration,) = _all(root, "responsedeclaration")
    multiple = _attrs(declaration)["cardinality"] == "multiple"
    correct = [v.text or "" for c in _all(declaration, "correctresponse") for v in _all(c, "value")]
    choices = [_attrs(c)["identifier"] for c in _all(root, "simplechoice")]
    (processing,) = _all(root, "responseprocessing")
    # 2.x names the template ".../map_response", 3.0 ".../map_response.xml".
    template = _attrs(processing).get("template", "").removesuffix(".xml")
    kind = ItemKind.MULTIPLE if multiple else ItemKind.SINGLE
    mappings = _all(declaration, "mapping")
    if template.endswith("map_response") and mappings:
        mapping = _attrs(mappings[0])
        values = {
            _attrs(e)["mapkey"]: float(_attrs(e)["mappedvalue"])
            for e in _all(mappings[0], "mapentry")
        }
        default = float(mapping.get("defaultvalue", "0"))
        lower, upper = mapping.get("lowerbound"), mapping.get("upperbound")
        item = Item(
            kind,
            root.get("title", ""),
            tuple(Option(c, c, values.get(c, default)) for c in choices),
            lower_bound=None if lower is None else float(lower),
            upper_bound=None if upper is None else float(upper),
        )
        # points_correct is the file's best SCORE, so our points are its SCORE.
        assert upper is not None
        return item, SectionRule("Q", "Q", ScoringModel.MAP_RESPONSE, points_correct=float(upper))
    if template.endswith("match_correct"):
        options = tuple(Option(c, c, 1.0 if c in correct else 0.0) for c in choices)
        return Item(kind, root.get("title", ""), options), SectionRule("Q", "Q", points_correct=1)
    # Custom processing: SCORE 1 when every <member> holds and no negated one does.
    negated = {id(m) for n in _all(processing, "not") for m in _all(n, "member")}
    members = _all(processing, "member")
    required = [_all(m, "basevalue")[0].text or "" for m in members if id(m) not in negated]
    refused = [_all(m, "basevalue")[0].text or "" for m in members if id(m) in negated]
    assert sorted(required) == sorted(correct)  # the program says what correctResponse says
    ids = sorted({*required, *refused, *choices})
    share = 1 / len(required)
    options = tuple(Option(c, c, share if c in required else 0.0) for c in ids)
    item = Item(kind, root.get("identifier", ""), options, all_or_nothing=True)
    return item, SectionRule("Q", "Q", ScoringModel.RIGHT_WRONG, points_correct=1)


def _response(key: str) -> frozenset[str] | None:
    return frozenset(key.split(",")) if key else None


def test_every_citolab_score_table_is_reproduced(expectations: dict[str, dict[str, Any]]) -> None:
    checked = 0
    for key, expected in expectations.items():
        item, rule = item_from_qti(EXTERNAL / key)
        for response, score in expected["score"].items():
            got = score_answer(item, _response(response), rule).points
            assert got == pytest.approx(score), (key, response)
            checked += 1
    assert checked == 15


def test_the_map_response_file_is_read_as_authored(expectations: dict[str, dict[str, Any]]) -> None:
    for name in ("2x_ims_choice_multiple.xml", "30_ims_composition_of_water_qti3.xml"):
        item, rule = item_from_qti(EXTERNAL / FOLDER / name)
        assert {o.id: o.score for o in item.options} == {
            "H": 1,
            "He": -2,
            "C": -2,
            "O": 1,
            "N": -2,
            "Cl": -1,
        }
        assert (item.lower_bound, item.upper_bound, rule.points_correct) == (0, 2, 2)


def test_our_importer_and_map_response_give_citolabs_scores(
    expectations: dict[str, dict[str, Any]],
) -> None:
    rule = SectionRule("Q", "Q", ScoringModel.MAP_RESPONSE, points_correct=2)
    for name in ("2x_ims_choice_multiple.xml", "30_ims_composition_of_water_qti3.xml"):
        key = f"{FOLDER}/{name}"
        (item,) = parse_bank((EXTERNAL / key).read_bytes(), name).items
        for response, score in expectations[key]["score"].items():
            assert score_answer(item, _response(response), rule).points == pytest.approx(score)
