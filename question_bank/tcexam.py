"""TCExam's question export (``<tcexamquestions>``): single and multiple-answer questions.

TCExam, the open-source CBT many Indonesian schools and agencies already run, writes
module -> subject -> question -> answer; the category becomes ``module/subject``. Its text
uses TCExam's own markup (``[b]``, ``[sub]``, ``[ulist]``...), turned into HTML here.
Images and formulas live in TCExam's own server, not in the file, so a question that
shows one is refused (``image_missing``) rather than imported without it. Disabled
questions and answers stay behind, with a warning for each question. A multiple-answer
question earns its credit only for exactly the right set, as TCExam scores it by default.
"""

from __future__ import annotations

import re
from xml.etree.ElementTree import Element

from question_bank.drafts import Draft, FileProblem
from question_bank.items import Item, ItemKind, Option
from question_bank.moodle_xml import parse_xml
from question_bank.sanitize import clean_html, text_to_html

SUPPORTED = {"single", "multiple"}
_SIMPLE = {
    "b": "strong",
    "i": "em",
    "u": "u",
    "s": "s",
    "sub": "sub",
    "sup": "sup",
    "code": "code",
    "tt": "code",
    "small": "small",
    "li": "li",
    "ulist": "ul",
    "olist": "ol",
}
_MEDIA = re.compile(r"\[(img|object|tex)\b[^\]]*\](.*?)\[/\1\]", re.S | re.I)
_TAG = re.compile(r"\[(/?)([a-z]+)(?:=[^\]]*)?\]", re.I)


def _truthy(element: Element, path: str, default: bool) -> bool:
    text = (element.findtext(path) or "").strip().lower()
    return default if not text else text in {"true", "1"}


def tcecode_to_html(text: str) -> tuple[str, list[str]]:
    """TCExam markup as sanitised HTML, and the images or formulas it could not bring."""
    missing = [m.group(2).strip() or m.group(1) for m in _MEDIA.finditer(text)]
    text = _MEDIA.sub("", text)
    escaped = text_to_html(text.replace("[br]", "\n").replace("[BR]", "\n"))

    def tag(match: re.Match[str]) -> str:
        name = _SIMPLE.get(match.group(2).lower())
        return f"<{match.group(1)}{name}>" if name else ""  # [align], [url]...: text only

    return clean_html(_TAG.sub(tag, escaped)), missing


def read_tcexam(data: bytes) -> list[Draft]:
    root = parse_xml(data)
    if root.tag != "tcexamquestions":
        raise FileProblem(("not_tcexam", {}))
    drafts: list[Draft] = []
    for module in root.iter("module"):
        module_name = (module.findtext("name") or "").strip()
        for subject in module.findall("subject"):
            category = "/".join(
                p for p in (module_name, (subject.findtext("name") or "").strip()) if p
            )
            for number, question in enumerate(subject.findall("question"), start=1):
                draft = Draft(line=None, label=f"{category or 'TCExam'} #{number}")
                drafts.append(draft)
                _fill(draft, question, category)
    return drafts


def _fill(draft: Draft, question: Element, category: str) -> None:
    qtype = (question.findtext("type") or "single").strip().lower()  # TCExam's default
    if qtype not in SUPPORTED:
        draft.unsupported = qtype
        return
    stem, missing = tcecode_to_html(question.findtext("description") or "")
    answers = [a for a in question.findall("answer") if _truthy(a, "enabled", True)]
    texts, right = [], []
    for answer in answers:
        html, lost = tcecode_to_html(answer.findtext("description") or "")
        texts.append(html)
        missing += lost
        right.append(_truthy(answer, "isright", False))  # TCExam's default: wrong
    draft.errors.extend(("image_missing", {"name": name}) for name in missing)
    if qtype == "single" and sum(right) > 1:
        keys = ", ".join(chr(ord("A") + i) for i, r in enumerate(right) if r)
        draft.errors.append(("single_one_key", {"value": keys}))
    if not _truthy(question, "enabled", True):
        draft.errors.clear()  # not imported, so not refused for what it holds either
        draft.warnings.append(("tcexam_disabled", {}))
        return
    if draft.errors:
        return
    share = 1.0 / max(1, sum(right))
    draft.item = Item(
        kind=ItemKind.SINGLE if qtype == "single" else ItemKind.MULTIPLE,
        stem_html=stem,
        options=tuple(
            Option(chr(ord("A") + i), html, share if ok else 0.0)
            for i, (html, ok) in enumerate(zip(texts, right, strict=True))
        ),
        category=category,
        external_id=draft.label,
        all_or_nothing=qtype == "multiple",
    )
