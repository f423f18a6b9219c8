"""The rules every item must meet before a file is accepted, whatever its format."""

from __future__ import annotations

import re
from collections.abc import Mapping

from question_bank.items import Item, ItemKind
from question_bank.sanitize import IMG_PREFIX, html_to_text

# Moodle writes thirds as 33.33333%, so three of them add up to 99.99999%.
TOLERANCE = 1e-3

Finding = tuple[str, Mapping[str, object]]

_IMAGE_REFERENCE = re.compile(r'<img[^>]*\ssrc="' + re.escape(IMG_PREFIX) + r'([^"]+)"')


def _percent(value: float) -> str:
    return f"{value * 100:.10g}"


def item_findings(item: Item) -> list[Finding]:
    """Every rule the item breaks, as (message code, fields); empty when the item is fine."""
    found: list[Finding] = []
    if not html_to_text(item.stem_html) and "<img" not in item.stem_html:
        found.append(("empty_stem", {}))
    count = len(item.options)
    if item.kind is ItemKind.TRUE_FALSE and count != 2:
        found.append(("true_false_options", {"count": count}))
    elif count < 2:
        found.append(("too_few_options", {"count": count}))
    seen: set[str] = set()
    for option in item.options:
        if option.id in seen:
            found.append(("duplicate_option_id", {"option": option.id}))
        seen.add(option.id)
        if not html_to_text(option.html) and "<img" not in option.html:
            found.append(("empty_option", {"option": option.id}))
    if item.difficulty is not None and not 0.0 <= item.difficulty <= 1.0:
        found.append(("difficulty_range", {"value": item.difficulty}))
    found.extend(_image_findings(item))
    found.extend(_score_findings(item))
    return found


def _image_findings(item: Item) -> list[Finding]:
    """An image the HTML shows must travel with the item (a spreadsheet cannot carry one)."""
    carried = {image.name for image in item.images}
    shown = [item.stem_html, *(o.html for o in item.options)]
    missing = sorted({m for html in shown for m in _IMAGE_REFERENCE.findall(html)} - carried)
    return [("image_missing", {"name": name}) for name in missing]


def _score_findings(item: Item) -> list[Finding]:
    if not item.options:
        return []
    if item.weighted:
        negative = [o for o in item.options if o.score < 0]
        if negative:
            return [("negative_weight", {"option": o.id, "value": o.score}) for o in negative]
        if max(o.score for o in item.options) <= 0:
            return [("no_correct_answer", {})]
        return []
    found: list[Finding] = [
        ("fraction_range", {"option": o.id, "value": _percent(o.score)})
        for o in item.options
        if not -1.0 - TOLERANCE <= o.score <= 1.0 + TOLERANCE
    ]
    positive = [o.score for o in item.options if o.score > 0]
    if not positive:
        return [*found, ("no_correct_answer", {})]
    if item.kind is ItemKind.MULTIPLE:
        total = sum(positive)
        if abs(total - 1.0) > TOLERANCE:
            fractions = ", ".join(f"{o.id}={_percent(o.score)}%" for o in item.options)
            found.append(("fractions_sum", {"total": _percent(total), "fractions": fractions}))
    elif abs(max(positive) - 1.0) > TOLERANCE:
        found.append(("single_needs_full", {"best": _percent(max(positive))}))
    return found
