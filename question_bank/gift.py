"""GIFT, Moodle's text format: ``::title:: stem {=right ~wrong ~%-50%penalised}``.

We read multiple choice (one ``=`` key, or ``~%n%`` fractions for several answers) and
true/false (``{T}``, ``{FALSE#feedback}``). Essay ``{}``, matching ``->``, numerical ``{#}``,
short answer (only ``=`` answers) and descriptions (no answer block) are named as
unsupported. Feedback is dropped: candidates see no feedback during a test.
"""

from __future__ import annotations

import re

from question_bank.drafts import Draft
from question_bank.items import Item, ItemKind, Option
from question_bank.media import lost_media
from question_bank.sanitize import clean_html, text_to_html
from question_bank.validation import Finding

# Moodle's escapes (qformat_gift::escapedchar_pre): "\\" is a backslash, "\n" a line break
# inside the text, "\:", "\#", "\=", "\~", "\{", "\}" the character itself; any other
# backslash stays as written. Each becomes a private-use placeholder while we parse, so an
# escaped "\n" never splits the file's real lines (line numbers stay the file's own).
_ESCAPES = {
    "\\": "\ue000",
    ":": "\ue001",
    "=": "\ue002",
    "~": "\ue003",
    "#": "\ue004",
    "{": "\ue005",
    "}": "\ue006",
    "n": "\ue007",
}
_RESTORE = {v: k for k, v in _ESCAPES.items()} | {"\ue007": "\n"}
_ESCAPE = re.compile(r"\\([\\:=~#{}n])")
_TITLE = re.compile(r"^\s*::(.*?)::", re.S)
_FORMAT = re.compile(r"^\s*\[(html|moodle|plain|markdown)\]", re.I)
_TRUE_FALSE = re.compile(r"^(T|F|TRUE|FALSE)\s*(#.*)?$", re.S | re.I)
_WEIGHT = re.compile(r"^\s*%([^%]*)%")
TRUE_FALSE_LABELS = ("Benar", "Salah")


def _hide_escapes(text: str) -> str:
    return _ESCAPE.sub(lambda m: _ESCAPES[m.group(1)], text)


def _restore(text: str) -> str:
    return "".join(_RESTORE.get(ch, ch) for ch in text)


def _text_format(text: str, default: str = "moodle") -> str:
    match = _FORMAT.match(text)
    return match.group(1).lower() if match else default


def _to_html(text: str, findings: list[Finding], default: str = "moodle") -> str:
    """GIFT text with an optional ``[format]`` prefix, as sanitised HTML.

    Answers without a prefix take the question text's format, as Moodle reads them. GIFT
    carries no files, so any picture the HTML shows is refused (docs/question-bank.md).
    """
    match = _FORMAT.match(text)
    fmt = match.group(1).lower() if match else default
    body = _restore(text[match.end() :] if match else text).strip()
    if fmt in {"html", "moodle"}:
        findings.extend(f for f in lost_media(body) if f not in findings)
        return clean_html(body)
    return text_to_html(body)


def _blocks(text: str) -> list[tuple[int, str]]:
    """Questions separated by blank lines (not inside an answer block); comments dropped."""
    blocks: list[tuple[int, str]] = []
    lines: list[str] = []
    start = 0
    depth = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        if raw.lstrip().startswith("//"):
            continue
        if not raw.strip() and depth <= 0:
            if lines:
                blocks.append((start, "\n".join(lines)))
            lines, depth = [], 0
            continue
        if not lines:
            start = number
        lines.append(raw)
        depth += raw.count("{") - raw.count("}")
    if lines:
        blocks.append((start, "\n".join(lines)))
    return blocks


def read_gift(text: str) -> list[Draft]:
    drafts: list[Draft] = []
    category = ""
    for line, raw_block in _blocks(_hide_escapes(text)):
        block = raw_block
        if block.lstrip().startswith("$CATEGORY:"):
            first, _, rest = block.lstrip().partition("\n")
            category = _category(_restore(first.split(":", 1)[1]))
            if not rest.strip():
                continue
            block, line = rest, line + 1
        drafts.append(_question(line, block, category))
    return drafts


def _category(path: str) -> str:
    parts = [p.strip() for p in path.strip().split("/") if p.strip()]
    while parts and (parts[0].startswith("$") or parts[0] == "top"):
        parts.pop(0)
    return "/".join(parts)


def _question(line: int, block: str, category: str) -> Draft:
    title_match = _TITLE.match(block)
    title = _restore(title_match.group(1)).strip() if title_match else None
    body = block[title_match.end() :] if title_match else block
    draft = Draft(line=line, label=title or None)
    opening = body.find("{")
    if opening < 0:
        draft.unsupported = "description"
        return draft
    closing = body.find("}", opening)
    if closing < 0:
        draft.errors.append(("gift_unclosed", {}))
        return draft
    before, inner, after = body[:opening], body[opening + 1 : closing], body[closing + 1 :]
    stem = before
    if re.search(r"\w", after):  # Moodle's "missing word" form: the blank sits in the stem
        stem = f"{before.rstrip()} _____ {after.lstrip()}"
    elif after.strip():
        draft.warnings.append(("trailing_junk", {"text": _restore(after.strip())}))
    inner = inner.split("####", 1)[0].strip()  # general feedback
    text_format = _text_format(stem.lstrip())
    kind, options, errors = _answers(inner, text_format)
    if not isinstance(kind, ItemKind):
        draft.unsupported = kind
        return draft
    stem_html = _to_html(stem.lstrip(), errors)
    draft.errors.extend(errors)
    if errors:
        return draft
    draft.item = Item(
        kind=kind,
        stem_html=stem_html,
        options=options,
        category=category,
        external_id=title or None,
    )
    return draft


def _answers(
    inner: str, text_format: str
) -> tuple[ItemKind | str, tuple[Option, ...], list[Finding]]:
    if not inner:
        return "essay", (), []
    if inner.startswith("#"):
        return "numerical", (), []
    tf = _TRUE_FALSE.match(inner)
    if tf:
        right = tf.group(1).upper().startswith("T")
        return (
            ItemKind.TRUE_FALSE,
            (
                Option("A", TRUE_FALSE_LABELS[0], 1.0 if right else 0.0, fixed=True),
                Option("B", TRUE_FALSE_LABELS[1], 0.0 if right else 1.0, fixed=True),
            ),
            [],
        )
    if "~" not in inner:
        # Only "=" answers: pairs "a -> b" make a matching question, else a short answer
        # (an arrow inside a multiple-choice option does not, as GIFT-grammar-PEG.js reads it).
        pairs = [p for p in re.split(r"(?==)", inner) if p.strip()]
        return ("matching" if all("->" in p for p in pairs) else "shortanswer"), (), []
    errors: list[Finding] = []
    options: list[Option] = []
    pieces = [p for p in re.split(r"(?=[=~])", inner) if p.strip()]
    for index, piece in enumerate(pieces):
        marker, rest = piece[0], piece[1:]
        if marker not in "=~":
            continue  # text before the first answer marker
        rest = rest.split("#", 1)[0]
        score = 1.0 if marker == "=" else 0.0
        weight = _WEIGHT.match(rest)
        if weight:
            try:
                score = float(_restore(weight.group(1)).strip()) / 100.0
            except ValueError:
                errors.append(("gift_bad_weight", {"value": _restore(weight.group(1))}))
            rest = rest[weight.end() :]
        letter = chr(ord("A") + index) if index < 26 else f"O{index}"
        options.append(Option(letter, _to_html(rest.strip(), errors, text_format), score))
    kind = ItemKind.SINGLE if "=" in inner else ItemKind.MULTIPLE
    return kind, tuple(options), errors
