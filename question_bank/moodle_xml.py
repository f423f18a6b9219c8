"""Moodle XML (``<quiz>``): multichoice and truefalse questions, with their images.

Files attached as ``<file name=... encoding="base64">`` and referenced as
``@@PLUGINFILE@@/name`` become ``Image`` objects referenced as ``@@IMG@@/name``; so does
Moodle 1.9's ``<image>``/``<image_base64>``. A question that shows an image we cannot keep
(SVG, missing, over 5 MiB, hot-linked) or uses audio, video or a linked file is refused;
an attached file the question never uses is left out with a warning. Problems are
reported by the question's name (HTML stripped).
"""

from __future__ import annotations

import base64
import binascii
import re
from html import unescape
from urllib.parse import unquote
from xml.etree.ElementTree import Element, ParseError

from defusedxml import ElementTree

from question_bank.drafts import Draft, FileProblem
from question_bank.items import Image, Item, ItemKind, Option
from question_bank.media import PLUGINFILE, lost_media, make_image
from question_bank.sanitize import (
    IMG_PREFIX,
    clean_html,
    html_to_text,
    safe_image_name,
    text_to_html,
)
from question_bank.validation import Finding

SUPPORTED = {"multichoice", "truefalse"}
_PLUGINFILE = re.compile(r"@@PLUGINFILE@@/([^\"'\s?#>]+)")
_IMG_PLUGINFILE = re.compile(
    r"""(<img\b[^>]*?\ssrc\s*=\s*)(["'])(@@PLUGINFILE@@/[^"'?#]+)[^"']*\2""", re.I | re.S
)


def parse_xml(data: bytes) -> Element:
    try:
        root: Element = ElementTree.fromstring(data)
        return root
    except ParseError as exc:
        line = exc.position[0] if exc.position else None
        finding = ("bad_xml", {"xml_line": line or "?", "detail": str(exc)})
        raise FileProblem(finding, line=line) from None
    except Exception as exc:  # defusedxml refuses entities and DTD tricks
        raise FileProblem(("bad_xml", {"xml_line": "?", "detail": type(exc).__name__})) from None


def _text(element: Element | None, path: str = "text") -> str:
    if element is None:
        return ""
    found = element.find(path)
    return (found.text or "") if found is not None else ""


class _Files:
    """The files attached to one question, kept as images where its HTML shows them."""

    def __init__(self) -> None:
        self.images: dict[str, Image] = {}
        self.findings: list[Finding] = []
        self.warnings: list[Finding] = []

    def _decode(self, element: Element) -> dict[str, bytes | None]:
        """The ``<file>`` children by name; None where the base64 cannot be read."""
        attached: dict[str, bytes | None] = {}
        for node in element.findall("file"):
            try:
                data = base64.b64decode("".join((node.text or "").split()), validate=True)
            except (binascii.Error, ValueError):
                data = None
            attached[node.get("name", "")] = data
        return attached

    def store(self, name: str, data: bytes | None) -> str | None:
        """The stored name of an image the question shows, or None (with the reason)."""
        stored = safe_image_name(name)
        made = ("image_type", {"name": name}) if data is None else make_image(stored, data)
        if isinstance(made, Image):
            self.images[stored] = made
            return stored
        self.findings.append(made)
        return None

    def html(self, element: Element | None) -> str:
        """The element's text as sanitised HTML, with its files as item images."""
        if element is None:
            return ""
        attached = self._decode(element)
        raw = _text(element)
        if element.get("format") in {"plain_text", "markdown"}:
            return text_to_html(raw)
        used: set[str] = set()
        handled: set[str] = set()

        def image(match: re.Match[str]) -> str:
            src = unescape(match.group(3))
            original = unquote(src[len(PLUGINFILE) :])
            name = original if original in attached else src[len(PLUGINFILE) :]
            if name not in attached:
                self.findings.append(("image_missing", {"name": original}))
                handled.add(src)
                return match.group(0)
            used.add(name)
            stored = self.store(original, attached[name])
            if stored is None:
                handled.add(src)
                return match.group(0)
            return f"{match.group(1)}{match.group(2)}{IMG_PREFIX}{stored}{match.group(2)}"

        rewritten = _IMG_PLUGINFILE.sub(image, raw)
        for match in _PLUGINFILE.finditer(rewritten):  # links, audio, video: not an <img>
            if PLUGINFILE + match.group(1) in handled:
                continue  # an <img> refused above
            original = unquote(match.group(1))
            used.update({original, match.group(1)})
            self.findings.append(("media_unsupported", {"name": original}))
        for name in attached.keys() - used:
            self.warnings.append(("media_dropped", {"name": name}))
        self.findings.extend(f for f in lost_media(rewritten, handled) if f not in self.findings)
        return clean_html(rewritten)


def _category(path: str) -> str:
    parts = [p.strip() for p in path.strip().split("/") if p.strip()]
    while parts and (parts[0].startswith("$") or parts[0] == "top"):
        parts.pop(0)
    return "/".join(parts)


def read_moodle_xml(data: bytes) -> list[Draft]:
    root = parse_xml(data)
    if root.tag != "quiz":
        raise FileProblem(("not_moodle", {}))
    drafts: list[Draft] = []
    category = ""
    for number, question in enumerate(root.findall("question"), start=1):
        qtype = question.get("type", "")
        if qtype == "category":
            category = _category(_text(question.find("category")))
            continue
        name = html_to_text(_text(question.find("name"))) or f"#{number}"
        draft = Draft(line=None, label=name)
        drafts.append(draft)
        if qtype not in SUPPORTED:
            draft.unsupported = qtype or "?"
            continue
        _fill(draft, question, qtype, category)
    return drafts


def _fill(draft: Draft, question: Element, qtype: str, category: str) -> None:
    files = _Files()
    stem = files.html(question.find("questiontext"))
    old_image = (question.findtext("image") or "").strip()
    old_data = "".join((question.findtext("image_base64") or "").split())
    if old_image:  # Moodle 1.9: an <image> beside the text, its bytes in <image_base64>
        try:
            data: bytes | None = base64.b64decode(old_data, validate=True) if old_data else None
        except (binascii.Error, ValueError):
            data = None
        if data is None and not old_data:
            files.findings.append(("image_missing", {"name": old_image}))
        else:
            stored = files.store(old_image, data)
            if stored is not None:
                stem += f'<p><img src="{IMG_PREFIX}{stored}" alt=""></p>'
    options: list[Option] = []
    shuffle = (question.findtext("shuffleanswers") or "true").strip().lower() not in {"0", "false"}
    for index, answer in enumerate(question.findall("answer")):
        raw_fraction = answer.get("fraction", "0")
        try:
            score = float(raw_fraction) / 100.0
        except ValueError:
            draft.errors.append(("bad_fraction", {"value": raw_fraction}))
            continue
        options.append(Option(chr(ord("A") + index), files.html(answer), score, fixed=not shuffle))
    draft.errors.extend(files.findings)
    draft.warnings.extend(files.warnings)
    if draft.errors:
        return
    if qtype == "truefalse":
        kind = ItemKind.TRUE_FALSE
        options = _true_false(question)
    else:
        single = (question.findtext("single") or "true").strip().lower() in {"1", "true"}
        kind = ItemKind.SINGLE if single else ItemKind.MULTIPLE
    idnumber = (question.findtext("idnumber") or "").strip()
    tags = tuple(t for t in (_text(tag).strip() for tag in question.findall("tags/tag")) if t)
    draft.item = Item(
        kind=kind,
        stem_html=stem,
        options=tuple(options),
        category=category,
        tags=tags,
        external_id=idnumber or draft.label,
        images=tuple(files.images.values()),
    )


def _true_false(question: Element) -> list[Option]:
    """Moodle's answers are the words "true" and "false"; we show Benar / Salah."""
    scores = {"true": 0.0, "false": 0.0}
    for answer in question.findall("answer"):
        word = html_to_text(_text(answer)).strip().lower()
        if word in scores:
            scores[word] = float(answer.get("fraction", "0")) / 100.0
    return [
        Option("A", "Benar", scores["true"], fixed=True),
        Option("B", "Salah", scores["false"], fixed=True),
    ]
