r"""Writing items as GIFT, the way Moodle's own GIFT export writes them.

The layout follows ``qformat_gift::writequestion``: a ``// question:`` comment, a
``$CATEGORY:`` block where the category changes, ``::name::``, the text with an
``[html]`` prefix and Moodle's escapes (``\\``, ``\#``, ``\=``, ``\~``, ``\{``, ``\}``,
``\:``; a line break written as ``\n``, a carriage return dropped), then the answers one
per line. ``question_bank.gift`` reads the file back to the same items (same content hash).

GIFT has no place for images, TKP weights, all-or-nothing scoring or QTI bounds, so
``gift_items`` leaves those items out rather than write questions that would come back
different; the caller says how many.
"""

from __future__ import annotations

from collections.abc import Sequence

from question_bank.gift import TRUE_FALSE_LABELS
from question_bank.items import Item, ItemKind

_RESERVED = (
    ("\\", "\\\\"),
    ("#", "\\#"),
    ("=", "\\="),
    ("~", "\\~"),
    ("{", "\\{"),
    ("}", "\\}"),
    (":", "\\:"),
    ("\n", "\\n"),
    ("\r", ""),
)


def escape(text: str) -> str:
    """Moodle's ``repchar``: the backslash first, so the escapes it adds stay single."""
    for reserved, escaped in _RESERVED:
        text = text.replace(reserved, escaped)
    return text


def _fits(item: Item) -> bool:
    if item.images or item.weighted or item.all_or_nothing:
        return False
    if item.lower_bound is not None or item.upper_bound is not None:
        return False
    if item.kind is ItemKind.TRUE_FALSE:
        labels = tuple(o.html for o in item.options)
        scores = tuple(o.score for o in item.options)
        return labels == TRUE_FALSE_LABELS and scores in {(1.0, 0.0), (0.0, 1.0)}
    return True


def gift_items(items: Sequence[Item]) -> tuple[list[Item], list[Item]]:
    """The items a GIFT export carries, and those it leaves out."""
    return [i for i in items if _fits(i)], [i for i in items if not _fits(i)]


def _percent(score: float) -> str:
    return f"{score * 100:.10g}"


def _answer(item: Item, html: str, score: float) -> str:
    if item.kind is ItemKind.SINGLE and score == 1.0:
        marker = "="
    elif score == 0.0 and not html.startswith("%"):  # "%" first would read as a weight
        marker = "~"
    else:
        marker = f"~%{_percent(score)}%"
    return f"\t{marker}{escape(html)}\n"


def _question(number: int, item: Item) -> str:
    name = item.external_id or ""
    label = " ".join((name or f"Soal {number}").split())  # a comment is one line
    out = f"// question: {number}  name: {label}\n"
    if name:
        out += f"::{escape(name)}::"
    out += "[html]" + escape(item.stem_html)
    if item.kind is ItemKind.TRUE_FALSE:
        return out + ("{TRUE}" if item.options[0].score > 0 else "{FALSE}") + "\n"
    out += "{\n"
    for option in item.options:
        out += _answer(item, option.html, option.score)
    return out + "}\n"


def export_gift(items: Sequence[Item]) -> bytes:
    """The items GIFT can carry, as a UTF-8 GIFT file Moodle and our reader both import."""
    kept, _ = gift_items(items)
    blocks: list[str] = []
    category: str | None = None
    for number, item in enumerate(kept, start=1):
        if item.category != category:
            category = item.category
            path = f"$course$/top/{category}" if category else "$course$/top"
            blocks.append(f"// question: 0  name: Switch category to {path}\n$CATEGORY: {path}\n")
        blocks.append(_question(number, item))
    return "\n".join(blocks).encode("utf-8")
