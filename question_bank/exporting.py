"""Writing the bank back out: the spreadsheet template (CSV/XLSX) and QTI 2.1 packages.

What the CSV/XLSX export writes, the template importer reads back to the same items (same
content hash) for items whose options are lettered A..E, as spreadsheet items are; items
from other tools with their own option identifiers keep them only in a QTI export.
Images travel only in the QTI package: a spreadsheet cannot carry them, so the CSV/XLSX
export leaves items with images out (``spreadsheet_items`` says which) rather than write
rows that would import as questions with broken pictures.
"""

from __future__ import annotations

import csv
import dataclasses
import io
from collections.abc import Sequence
from typing import Any

from question_bank.gift_export import export_gift
from question_bank.items import Item, ItemKind
from question_bank.qti_export import export_qti
from question_bank.sanitize import html_to_cell
from question_bank.spreadsheet_cells import escape_formula
from question_bank.template import COLUMNS

EXPORT_FORMATS = ("csv", "xlsx", "qti", "gift")
LETTERS = "ABCDEFGHIJ"  # the template reads opsi_a .. opsi_j


def _number(value: float) -> str:
    return f"{value:.10g}"


def _kind_column(item: Item) -> str:
    if item.weighted:
        return "bobot"
    return {ItemKind.SINGLE: "pg", ItemKind.MULTIPLE: "pgk", ItemKind.TRUE_FALSE: "bs"}[item.kind]


def _lettered(item: Item) -> Item:
    """Options relabelled A, B, C... when the source used its own identifiers."""
    ids = [o.id for o in item.options]
    if all(len(i) == 1 and i.upper() in LETTERS for i in ids) and len(set(ids)) == len(ids):
        return item
    options = tuple(dataclasses.replace(o, id=LETTERS[n]) for n, o in enumerate(item.options))
    return dataclasses.replace(item, options=options)


def item_to_row(number: int, item: Item) -> dict[str, str]:
    if len(item.options) > len(LETTERS):
        raise ValueError(f"item {number} has more than {len(LETTERS)} options")
    item = _lettered(item)
    row = {
        "no": str(number),
        "seksi": item.section,
        "kategori": item.category,
        "tipe": _kind_column(item),
        "soal": html_to_cell(item.stem_html),
        "tag": ", ".join(item.tags),
        "tingkat_kesulitan": "" if item.difficulty is None else _number(item.difficulty),
        "id_eksternal": item.external_id or "",
        "opsi_tetap": ", ".join(
            o.id for o in item.options if o.fixed and item.kind is not ItemKind.TRUE_FALSE
        ),
    }
    for option in item.options:
        row[f"opsi_{option.id.lower()}"] = html_to_cell(option.html)
    if item.kind is ItemKind.TRUE_FALSE:
        row["kunci"] = "benar" if item.options[0].score > 0 else "salah"
        return row
    if item.weighted:
        for option in item.options:
            row[f"bobot_{option.id.lower()}"] = _number(option.score)
        return row
    keys = [o.id for o in item.options if o.score > 0]
    row["kunci"] = ", ".join(keys)
    if item.kind is ItemKind.MULTIPLE and not item.all_or_nothing:
        # Percentages on every option mark the item as partial credit (not all-or-nothing).
        for option in item.options:
            row[f"bobot_{option.id.lower()}"] = _number(option.score * 100)
        if item.lower_bound is not None:
            row["batas_bawah"] = _number(item.lower_bound * 100)
        if item.upper_bound is not None:
            row["batas_atas"] = _number(item.upper_bound * 100)
    elif item.kind is ItemKind.SINGLE:
        for option in item.options:
            default = 1.0 if option.id == keys[0] else 0.0
            if abs(option.score - default) > 1e-12:
                row[f"bobot_{option.id.lower()}"] = _number(option.score * 100)
    return row


def spreadsheet_items(items: Sequence[Item]) -> tuple[list[Item], list[Item]]:
    """The items a CSV/XLSX export carries, and those it leaves out (they have images)."""
    kept = [item for item in items if not item.images]
    return kept, [item for item in items if item.images]


def _columns(items: Sequence[Item]) -> list[str]:
    most = max((len(item.options) for item in items), default=0)
    extra = [c for x in LETTERS[5:most].lower() for c in (f"opsi_{x}", f"bobot_{x}")]
    if any(item.lower_bound is not None or item.upper_bound is not None for item in items):
        extra += ["batas_bawah", "batas_atas"]  # only where a QTI item brought bounds
    return [*COLUMNS, *extra]


def export_csv(items: Sequence[Item]) -> bytes:
    items, _ = spreadsheet_items(items)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=_columns(items), lineterminator="\r\n")
    writer.writeheader()
    for number, item in enumerate(items, start=1):
        writer.writerow({k: escape_formula(v) for k, v in item_to_row(number, item).items()})
    return out.getvalue().encode("utf-8-sig")


def _text_cell(sheet: Any, value: str | None) -> Any:
    from openpyxl.cell import WriteOnlyCell  # heavy: only the XLSX export needs it

    cell = WriteOnlyCell(sheet, value)
    if value is not None:
        cell.data_type = "s"  # openpyxl would make "=..." a formula
    return cell


def export_xlsx(items: Sequence[Item]) -> bytes:
    from openpyxl import Workbook  # heavy: only the XLSX export needs it

    items, _ = spreadsheet_items(items)
    book = Workbook(write_only=True)
    sheet = book.create_sheet("soal")
    columns = _columns(items)
    sheet.append(columns)
    for number, item in enumerate(items, start=1):
        row = item_to_row(number, item)
        # Every cell as text, so that "007" or "1,5" come back exactly as written, and
        # "=..." stays text rather than a live formula (question_bank/spreadsheet_cells.py).
        sheet.append([_text_cell(sheet, row.get(c, "") or None) for c in columns])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def export_bank(items: Sequence[Item], fmt: str) -> bytes:
    """The items as a file in ``fmt`` (csv, xlsx, gift, or qti, a zip content package)."""
    if fmt == "csv":
        return export_csv(items)
    if fmt == "xlsx":
        return export_xlsx(items)
    if fmt == "qti":
        return export_qti(items)
    if fmt == "gift":
        return export_gift(items)
    raise ValueError(
        f"Format ekspor '{fmt}' tidak dikenal; pilih {', '.join(EXPORT_FORMATS)}. "
        f"/ Unknown export format '{fmt}'; choose {', '.join(EXPORT_FORMATS)}."
    )
