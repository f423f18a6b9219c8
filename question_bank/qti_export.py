"""Writing items as a QTI 2.1 content package (zip): manifest, one XML file per item, images.

Scoring is written with the standard templates: ``match_correct`` where the item has a key
(one option, or an all-or-nothing set), ``map_response`` where options carry fractions,
penalties or TKP weights. What QTI has no place for (section, category, tags, difficulty,
our own external id, weighted and true/false) goes into the manifest as ``tkd:`` metadata,
which ``question_bank.qti`` reads back.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Sequence
from html.parser import HTMLParser
from xml.etree.ElementTree import Element, SubElement, tostring

from question_bank.items import Item, ItemKind
from question_bank.qti import STEM_CLASS, TKD_NS
from question_bank.sanitize import IMG_PREFIX, html_to_text

QTI_NS = "http://www.imsglobal.org/xsd/imsqti_v2p1"
CP_NS = "http://www.imsglobal.org/xsd/imscp_v1p1"
MATCH_CORRECT = "http://www.imsglobal.org/question/qti_v2p1/rptemplates/match_correct"
MAP_RESPONSE = "http://www.imsglobal.org/question/qti_v2p1/rptemplates/map_response"
_VOID = {"br", "hr", "img"}


class _XhtmlBuilder(HTMLParser):
    """Sanitised HTML (HTML5 serialisation) as XML elements under ``parent``."""

    def __init__(self, parent: Element) -> None:
        super().__init__(convert_charrefs=True)
        self.stack = [parent]
        self.last: Element | None = None  # where text goes as a tail

    def _append_text(self, text: str) -> None:
        top = self.stack[-1]
        if self.last is not None and self.last in list(top):
            self.last.tail = (self.last.tail or "") + text
        else:
            top.text = (top.text or "") + text

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = SubElement(self.stack[-1], tag, {k: v or "" for k, v in attrs})
        if tag.startswith("img") and element.get("src", "").startswith(IMG_PREFIX):
            element.set("src", "images/" + element.get("src", "")[len(IMG_PREFIX) :])
        self.last = element
        if tag not in _VOID:
            self.stack.append(element)
            self.last = None

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in _VOID:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if len(self.stack) > 1 and self.stack[-1].tag == tag:
            self.last = self.stack.pop()

    def handle_data(self, data: str) -> None:
        self._append_text(data)


def _append_html(parent: Element, source: str) -> None:
    builder = _XhtmlBuilder(parent)
    builder.feed(source)  # our own sanitised HTML: well formed
    builder.close()


def _number(value: float) -> str:
    return f"{value:.12g}"


def _needs_mapping(item: Item) -> bool:
    if item.weighted:
        return True
    if item.kind is ItemKind.MULTIPLE:
        return not item.all_or_nothing
    return any(o.score not in (0.0, 1.0) for o in item.options)


def item_xml(item: Item, identifier: str) -> bytes:
    multiple = item.kind is ItemKind.MULTIPLE
    root = Element(
        "assessmentItem",
        {
            "xmlns": QTI_NS,
            "identifier": identifier,
            "title": html_to_text(item.stem_html)[:80],
            "adaptive": "false",
            "timeDependent": "false",
        },
    )
    declaration = SubElement(
        root,
        "responseDeclaration",
        {
            "identifier": "RESPONSE",
            "cardinality": "multiple" if multiple else "single",
            "baseType": "identifier",
        },
    )
    keys = item.correct_ids
    if keys:
        correct = SubElement(declaration, "correctResponse")
        for key in keys if multiple or item.weighted is False else keys[:1]:
            SubElement(correct, "value").text = key
    mapped = _needs_mapping(item)
    if mapped:
        bounds = {}
        if item.lower_bound is not None:
            bounds["lowerBound"] = _number(item.lower_bound)
        if item.upper_bound is not None:
            bounds["upperBound"] = _number(item.upper_bound)
        mapping = SubElement(declaration, "mapping", {**bounds, "defaultValue": "0"})
        for option in item.options:
            SubElement(
                mapping, "mapEntry", {"mapKey": option.id, "mappedValue": _number(option.score)}
            )
    SubElement(
        root,
        "outcomeDeclaration",
        {"identifier": "SCORE", "cardinality": "single", "baseType": "float"},
    )
    body = SubElement(root, "itemBody")
    stem = SubElement(body, "div", {"class": STEM_CLASS})
    _append_html(stem, item.stem_html)
    interaction = SubElement(
        body,
        "choiceInteraction",
        {
            "responseIdentifier": "RESPONSE",
            "shuffle": "true" if any(not o.fixed for o in item.options) else "false",
            "maxChoices": "0" if multiple else "1",
        },
    )
    for option in item.options:
        choice = SubElement(
            interaction,
            "simpleChoice",
            {"identifier": option.id, "fixed": "true" if option.fixed else "false"},
        )
        _append_html(choice, option.html)
    SubElement(root, "responseProcessing", {"template": MAP_RESPONSE if mapped else MATCH_CORRECT})
    xml: bytes = tostring(root, encoding="utf-8", xml_declaration=False)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + xml


def _identifier(item: Item, number: int, used: set[str]) -> str:
    wanted = item.external_id or ""
    if not re.fullmatch(r"[A-Za-z_][\w.-]*", wanted) or wanted in used:
        wanted = f"item-{number:05d}"
    used.add(wanted)
    return wanted


def _metadata(resource: Element, item: Item) -> None:
    meta = SubElement(SubElement(resource, "metadata"), "tkd:item")
    fields = {
        "section": item.section,
        "category": item.category,
        "kind": item.kind.value,
        "weighted": "true" if item.weighted else "false",
        "externalId": item.external_id or "",
        "difficulty": "" if item.difficulty is None else repr(item.difficulty),
    }
    for name, value in fields.items():
        if value:
            SubElement(meta, f"tkd:{name}").text = value
    for tag in item.tags:
        SubElement(meta, "tkd:tag").text = tag


def export_qti(items: Sequence[Item]) -> bytes:
    manifest = Element(
        "manifest", {"xmlns": CP_NS, "xmlns:tkd": TKD_NS, "identifier": "tkd-cbt-bank"}
    )
    SubElement(manifest, "organizations")
    resources = SubElement(manifest, "resources")
    out = io.BytesIO()
    used: set[str] = set()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for number, item in enumerate(items, start=1):
            identifier = _identifier(item, number, used)
            href = f"items/{identifier}.xml"
            resource = SubElement(
                resources,
                "resource",
                {"identifier": f"res-{identifier}", "type": "imsqti_item_xmlv2p1", "href": href},
            )
            _metadata(resource, item)
            SubElement(resource, "file", {"href": href})
            archive.writestr(href, item_xml(item, identifier))
            for image in item.images:
                path = f"items/images/{image.name}"
                SubElement(resource, "file", {"href": path})
                if path not in archive.namelist():
                    archive.writestr(path, image.data)
        archive.writestr(
            "imsmanifest.xml",
            b'<?xml version="1.0" encoding="UTF-8"?>\n' + tostring(manifest, encoding="utf-8"),
        )
    return out.getvalue()
