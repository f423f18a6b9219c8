"""CSV that opens right in the committee's spreadsheet (docs/results.md, "CSV").

An Indonesian Excel or LibreOffice reads ``;`` as the list separator and ``,`` as the
decimal mark: a comma-separated file with ``75.5`` lands in one column, as a date. So every
CSV the committee downloads is, by default, semicolon-separated, decimal comma, UTF-8 with
a BOM (so accented names survive). The former style (comma, decimal point) stays available
(``?sep=comma`` on a page, ``--csv-comma`` in ``tkd``) for scripts and other tools.

Cells that start with ``= + - @`` are prefixed with ``'``, so a candidate named
``=HYPERLINK(...)`` cannot plant a formula in a committee member's spreadsheet.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from question_bank.spreadsheet_cells import escape_formula

BOM = "\ufeff"


@dataclass(frozen=True)
class CsvStyle:
    delimiter: str
    decimal: str


SEMICOLON = CsvStyle(";", ",")
COMMA = CsvStyle(",", ".")


def csv_style(choice: str | None) -> CsvStyle:
    """The style a page or command asked for: ``comma``/``koma`` for the former one."""
    return COMMA if (choice or "").strip().lower() in ("comma", "koma", ",") else SEMICOLON


def csv_cell(value: Any, style: CsvStyle = SEMICOLON) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "ya" if value else "tidak"
    if isinstance(value, float):
        text = f"{value:g}" if abs(value) < 1e15 else repr(value)
        return text.replace(".", style.decimal)
    return escape_formula(value)  # the one rule every export shares (docs/security.md)


def csv_text(rows: Iterable[Sequence[Any]], style: CsvStyle = SEMICOLON) -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=style.delimiter, lineterminator="\r\n")
    for row in rows:
        writer.writerow([csv_cell(v, style) for v in row])
    return out.getvalue()
