"""IMS QTI 2.x items (and QTI 3.0's kebab-case spelling): choice interactions only.

Accepted input: one ``assessmentItem`` XML file, or a zip content package (an
``imsmanifest.xml`` listing item files, with their images). Scoring comes from the
``match_correct`` or ``map_response`` response-processing templates; a custom
response-processing program is refused, since we cannot promise to score it the same way.
Our own exports add ``tkd:`` metadata (section, category, ...) to the manifest.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable
from html import escape, unescape
from urllib.parse import unquote
from xml.etree.ElementTree import Element, tostring

from question_bank.archive_limits import ArchiveTooLarge, check_archive
from question_bank.containers import open_zip, read_member
from question_bank.drafts import Draft, FileProblem
from question_bank.items import Image, Item, ItemKind, Option
from question_bank.media import lost_media, make_image
from question_bank.moodle_xml import parse_xml
from question_bank.sanitize import IMG_PREFIX, clean_html, safe_image_name
from question_bank.validation import Finding

_IMG_SRC = re.compile(r"""(<img\b[^>]*?\ssrc\s*=\s*)(["'])(.*?)\2""", re.I | re.S)
TKD_NS = "https://tkd-cbt.example/qti-metadata"


def _local(name: str) -> str:
    name = name.rsplit("}", 1)[-1]
    if name.startswith("qti-"):  # QTI 3.0: qti-simple-choice -> simpleChoice
        head, *rest = name[4:].split("-")
        return head + "".join(p.capitalize() for p in rest)
    return name


def _strip_namespaces(root: Element) -> Element:
    for element in root.iter():
        element.tag = _local(element.tag)
        for key in list(element.attrib):
            value = element.attrib.pop(key)
            local = key.rsplit("}", 1)[-1]
            if "-" in local:
                head, *rest = local.split("-")
                local = head + "".join(p.capitalize() for p in rest)
            element.attrib[local] = value
    return root


def _inner_html(element: Element, skip: Element | None = None) -> str:
    parts = [escape(element.text or "", quote=False)]
    for child in element:
        if child is skip:
            parts.append(escape(child.tail or "", quote=False))
            continue
        parts.append(tostring(child, encoding="unicode", method="html"))
    return "".join(parts)


def read_qti(data: bytes) -> list[Draft]:
    if data.startswith(b"PK"):
        return _read_package(data)
    return [_read_item(data, "", {})]


def _read_package(data: bytes) -> list[Draft]:
    try:
        check_archive(data)
    except ArchiveTooLarge as exc:
        raise FileProblem(
            ("archive_too_large", {"declared": exc.declared, "limit": exc.limit})
        ) from None
    archive = open_zip(data)
    files = {i.filename for i in archive.infolist() if not i.is_dir()}

    def read(name: str) -> bytes | None:
        return read_member(archive, name) if name in files else None

    manifest = read("imsmanifest.xml")
    entries: list[tuple[str, str, dict[str, str]]] = []
    if manifest is not None:
        try:
            root = _strip_namespaces(parse_xml(manifest))
        except FileProblem as problem:
            problem.file = "imsmanifest.xml"
            raise
        for resource in root.iter("resource"):
            href = resource.get("href", "")
            if resource.get("type", "").startswith("imsqti_item") and href:
                entries.append((href, resource.get("identifier") or href, _metadata(resource)))
    else:
        entries = [(n, n, {}) for n in sorted(files) if n.lower().endswith(".xml")]
    drafts = []
    for href, identifier, meta in entries:
        # A broken file inside the package is that question's problem: the others are
        # still read, so one refusal lists every broken item with its file and line.
        try:
            body = read(href)
            if body is None:
                draft = Draft(None, identifier, errors=[("qti_missing_file", {"name": href})])
            else:
                draft = _read_item(body, href, meta, read)
            draft.file = href
        except FileProblem as problem:  # this file, or an image it shows, is damaged
            draft = Draft(problem.line, identifier, errors=problem.findings)
            draft.file = problem.file or href
        drafts.append(draft)
    return drafts


def _metadata(resource: Element) -> dict[str, str]:
    meta: dict[str, str] = {}
    for element in resource.iter():
        if element.tag in {"section", "category", "difficulty", "externalId", "weighted", "kind"}:
            meta[element.tag] = element.text or ""
        elif element.tag == "tag" and element.text:
            meta["tags"] = meta.get("tags", "") + "\n" + element.text
    return meta


def _read_item(
    data: bytes, path: str, meta: dict[str, str], read: Callable[[str], bytes | None] | None = None
) -> Draft:
    root = _strip_namespaces(parse_xml(data))
    if root.tag != "assessmentItem":
        raise FileProblem(("not_qti", {"root": root.tag}))
    identifier = root.get("identifier") or path or "?"
    draft = Draft(line=None, label=identifier)
    body = root.find("itemBody")
    if body is None:
        draft.errors.append(("qti_no_interaction", {}))
        return draft
    interactions = [e for e in body.iter() if e.tag.endswith("Interaction")]
    if not interactions:
        draft.errors.append(("qti_no_interaction", {}))
        return draft
    if len(interactions) > 1:
        draft.errors.append(("qti_many_interactions", {"count": len(interactions)}))
        return draft
    interaction = interactions[0]
    if interaction.tag != "choiceInteraction":
        draft.unsupported = interaction.tag
        return draft
    images: dict[str, Image] = {}
    findings: list[Finding] = []

    def html(source: str) -> str:
        handled: set[str] = set()

        def rewrite(match: re.Match[str]) -> str:
            src = unescape(match.group(3))
            if not src or re.match(r"^(?:[a-z][a-z0-9+.-]*:|//)", src, re.I):
                return match.group(0)  # hot-linked: lost_media refuses it below
            target = posixpath.normpath(posixpath.join(posixpath.dirname(path), unquote(src)))
            content = read(target) if read is not None else None
            name = safe_image_name(target)
            made = (
                ("image_missing", {"name": src}) if content is None else make_image(name, content)
            )
            if isinstance(made, Image):
                images[name] = made
                return f"{match.group(1)}{match.group(2)}{IMG_PREFIX}{name}{match.group(2)}"
            findings.append(made)
            handled.add(src)
            return match.group(0)

        rewritten = _IMG_SRC.sub(rewrite, source)
        findings.extend(f for f in lost_media(rewritten, handled) if f not in findings)
        return clean_html(rewritten)

    prompt = interaction.find("prompt")
    wrapper = [c for c in body if c.get("class") == STEM_CLASS]
    if wrapper:  # our own export wraps the stem in one div
        stem = html(_inner_html(wrapper[0]))
    else:
        stem = html(_inner_html(body, skip=_container(body, interaction)))
    if prompt is not None:
        stem = clean_html(stem + html(_inner_html(prompt)))
    choices = [
        (c.get("identifier", ""), html(_inner_html(c)), c.get("fixed", "false") == "true")
        for c in interaction.iter("simpleChoice")
    ]
    shuffle = interaction.get("shuffle", "false") == "true"
    scores, bounds, all_or_nothing, problem = _scores(
        root, interaction, [c[0] for c in choices], meta
    )
    draft.errors.extend(findings)
    if problem:
        draft.errors.append(problem)
    if draft.errors:
        return draft
    cardinality = _declaration(root, interaction).get("cardinality", "single")
    max_choices = interaction.get("maxChoices", "1")
    multiple = cardinality == "multiple" or max_choices not in {"1"}
    kind = ItemKind.MULTIPLE if multiple else ItemKind.SINGLE
    if meta.get("kind") == ItemKind.TRUE_FALSE.value:
        kind = ItemKind.TRUE_FALSE
    difficulty = meta.get("difficulty", "")
    draft.item = Item(
        kind=kind,
        stem_html=stem,
        options=tuple(
            Option(cid, text, scores.get(cid, 0.0), fixed=fixed or not shuffle)
            for cid, text, fixed in choices
        ),
        section=meta.get("section", ""),
        category=meta.get("category", ""),
        tags=tuple(t for t in meta.get("tags", "").split("\n") if t),
        difficulty=float(difficulty) if difficulty else None,
        weighted=meta.get("weighted") == "true",
        # Our own export says so when an item had no external id; other tools' items keep theirs.
        external_id=(meta.get("externalId") or None) if "kind" in meta else identifier,
        images=tuple(images.values()),
        lower_bound=bounds[0],
        upper_bound=bounds[1],
        all_or_nothing=all_or_nothing,
    )
    return draft


STEM_CLASS = "tkd-stem"


def _container(body: Element, interaction: Element) -> Element:
    """The direct child of itemBody that holds the interaction (left out of the stem)."""
    for child in body:
        if child is interaction or interaction in list(child.iter()):
            return child
    return interaction


def _declaration(root: Element, interaction: Element) -> Element:
    wanted = interaction.get("responseIdentifier", "RESPONSE")
    for declaration in root.iter("responseDeclaration"):
        if declaration.get("identifier") == wanted:
            return declaration
    return Element("responseDeclaration")


def _scores(
    root: Element, interaction: Element, ids: list[str], meta: dict[str, str]
) -> tuple[dict[str, float], tuple[float | None, float | None], bool, Finding | None]:
    declaration = _declaration(root, interaction)
    processing = root.find("responseProcessing")
    template = ""
    if processing is not None:
        template = processing.get("template") or processing.get("templateLocation") or "(custom)"
    correct = [v.text or "" for v in declaration.iter("value") if _in_correct(declaration, v)]
    mapping = declaration.find("mapping")
    no_bounds: tuple[float | None, float | None] = (None, None)
    if "map_response" in template and mapping is not None:
        default = float(mapping.get("defaultValue", "0"))
        values = {cid: default for cid in ids}
        for entry in mapping.iter("mapEntry"):
            if entry.get("mapKey") in values:
                values[entry.get("mapKey", "")] = float(entry.get("mappedValue", "0"))
        if meta.get("weighted") == "true":
            return values, no_bounds, False, None
        lower, upper = mapping.get("lowerBound"), mapping.get("upperBound")
        multiple = declaration.get("cardinality") == "multiple"
        positive = [v for v in values.values() if v > 0]
        scale = float(upper) if upper else (sum(positive) if multiple else max(positive, default=0))
        if not upper and abs(scale - 1.0) <= 1e-3:
            scale = 1.0  # already fractions (Moodle's thirds add up to 0.9999999)
        if scale <= 0:
            return {}, no_bounds, False, ("no_correct_answer", {})
        bounds = (
            float(lower) / scale if lower is not None else None,
            float(upper) / scale if upper is not None else None,
        )
        return {k: v / scale for k, v in values.items()}, bounds, False, None
    if "match_correct" in template or (not template and correct):
        if not correct:
            return {}, no_bounds, False, ("qti_no_key", {})
        share = 1.0 / len(correct)
        multiple = declaration.get("cardinality") == "multiple"
        scores = {cid: (share if cid in correct else 0.0) for cid in ids}
        return scores, no_bounds, multiple, None
    return {}, no_bounds, False, ("qti_rp_unsupported", {"template": template.rsplit("/", 1)[-1]})


def _in_correct(declaration: Element, value: Element) -> bool:
    correct = declaration.find("correctResponse")
    return correct is not None and value in list(correct.iter("value"))
