"""Reading the committee's spreadsheet template (CSV or XLSX) into drafts.

The columns are described in ``question_bank.template`` and docs/question-bank.md. Cells are
plain text unless they contain an allowed HTML tag; numbers may use a decimal comma, as
Indonesian spreadsheets write them.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from xml.etree.ElementTree import ParseError

from defusedxml import ElementTree

from question_bank.archive_limits import ArchiveTooLarge, check_archive
from question_bank.drafts import Draft, FileProblem
from question_bank.items import Item, ItemKind, Option
from question_bank.media import lost_media
from question_bank.sanitize import cell_to_html, looks_like_html
from question_bank.spreadsheet_cells import unescape_formula
from question_bank.validation import Finding

KNOWN = {
    "no",
    "seksi",
    "kategori",
    "tipe",
    "soal",
    "kunci",
    "opsi_tetap",
    "tingkat_kesulitan",
    "tag",
    "id_eksternal",
    "batas_bawah",
    "batas_atas",
}
_OPTION_COLUMN = re.compile(r"^(opsi|bobot)_([a-j])$")
TYPES = {
    "pg": "pg",
    "pilihan_ganda": "pg",
    "tunggal": "pg",
    "pgk": "pgk",
    "pilihan_ganda_kompleks": "pgk",
    "ganda": "pgk",
    "jamak": "pgk",
    "bs": "bs",
    "benar_salah": "bs",
    "benar/salah": "bs",
    "bobot": "bobot",
    "tkp": "bobot",
    "berbobot": "bobot",
}
DIFFICULTY_WORDS = {"mudah": 0.25, "sedang": 0.5, "sulit": 0.75, "sukar": 0.75}
TRUE_WORDS = {"a", "benar", "true", "t", "ya"}
FALSE_WORDS = {"b", "salah", "false", "f", "tidak"}


def _header_name(value: str) -> str:
    return re.sub(r"[\s-]+", "_", value.strip().lower())


def _check_header(header: list[str]) -> dict[str, int]:
    columns: dict[str, int] = {}
    findings: list[Finding] = []
    for index, raw in enumerate(header):
        name = _header_name(raw)
        if not name:
            continue
        if name in columns:
            findings.append(("duplicate_column", {"column": name}))
        elif name not in KNOWN and not _OPTION_COLUMN.match(name):
            findings.append(("unknown_column", {"column": raw.strip()}))
        columns[name] = index
    for required in ("soal", "opsi_a", "opsi_b"):
        if required not in columns:
            findings.append(("missing_column", {"column": required}))
    if findings:
        raise FileProblem(*findings)
    return columns


def _number(text: str, column: str, errors: list[Finding]) -> float | None:
    try:
        return float(text.replace(",", ".").replace("%", "").strip())
    except ValueError:
        errors.append(("bad_number", {"value": text, "column": column}))
        return None


def _letters(text: str) -> list[str]:
    parts = [p for p in re.split(r"[\s,;/]+", text.strip().upper()) if p]
    if len(parts) == 1 and parts[0].isalpha() and len(parts[0]) > 1:
        return list(parts[0])
    return parts


def row_to_draft(line: int, row: dict[str, str]) -> Draft:
    """One spreadsheet row as a draft (errors found here carry the row's line number)."""
    label = row.get("id_eksternal") or row.get("no") or None
    draft = Draft(line=line, label=label)
    errors = draft.errors
    letters = sorted({m.group(2) for c in row if (m := _OPTION_COLUMN.match(c))})
    texts = {x.upper(): row.get(f"opsi_{x}", "") for x in letters}
    weights_raw = {x.upper(): row.get(f"bobot_{x}", "") for x in letters}
    key = row.get("kunci", "")
    raw_type = _header_name(row.get("tipe", ""))
    if raw_type:
        kind = TYPES.get(raw_type)
        if kind is None:
            errors.append(("bad_type", {"value": row.get("tipe", "")}))
            return draft
    else:
        kind = "bobot" if any(weights_raw.values()) and not key else "pg"
    if kind == "bs":
        texts = {"A": texts.get("A") or "Benar", "B": texts.get("B") or "Salah"}
    filled = [x for x, text in texts.items() if text]
    weights: dict[str, float] = {}
    for letter, raw in weights_raw.items():
        if not raw:
            continue
        if letter not in filled:
            errors.append(("weight_without_option", {"column": f"bobot_{letter.lower()}"}))
        value = _number(raw, f"bobot_{letter.lower()}", errors)
        if value is not None:
            weights[letter] = value
    scores = _scores(kind, key, filled, weights, errors)
    difficulty = _difficulty(row.get("tingkat_kesulitan", ""), errors)
    bounds = _bounds(row, partial=kind == "pgk" and bool(weights), errors=errors)
    for column in ("soal", *(f"opsi_{x.lower()}" for x in filled)):
        cell = row.get(column, "")
        if looks_like_html(cell):  # a picture the sanitiser would drop refuses the row
            errors.extend(f for f in lost_media(cell) if f not in errors)
    if errors or scores is None:
        return draft
    fixed = set(_letters(row.get("opsi_tetap", "")))
    draft.item = Item(
        kind={"pgk": ItemKind.MULTIPLE, "bs": ItemKind.TRUE_FALSE}.get(kind, ItemKind.SINGLE),
        stem_html=cell_to_html(row.get("soal", "")),
        options=tuple(
            Option(
                id=x,
                html=cell_to_html(texts[x]),
                score=scores.get(x, 0.0),
                fixed=kind == "bs" or x in fixed,
            )
            for x in filled
        ),
        section=row.get("seksi", "").strip(),
        category=row.get("kategori", "").strip(),
        tags=tuple(t.strip() for t in re.split(r"[,;]", row.get("tag", "")) if t.strip()),
        difficulty=difficulty,
        weighted=kind == "bobot",
        external_id=row.get("id_eksternal", "").strip() or None,
        all_or_nothing=kind == "pgk" and not weights,
        lower_bound=bounds[0],
        upper_bound=bounds[1],
    )
    return draft


def _bounds(
    row: dict[str, str], *, partial: bool, errors: list[Finding]
) -> tuple[float | None, float | None]:
    """QTI map_response bounds, written as percentages of the item's credit."""
    raw = (row.get("batas_bawah", "").strip(), row.get("batas_atas", "").strip())
    if not any(raw):
        return None, None
    if not partial:
        errors.append(("bounds_need_weights", {}))
        return None, None
    lower, upper = (
        None if not text else _number(text, column, errors)
        for text, column in zip(raw, ("batas_bawah", "batas_atas"), strict=True)
    )
    if lower is not None and upper is not None and lower > upper:
        errors.append(("bounds_order", {"lower": raw[0], "upper": raw[1]}))
    return (
        None if lower is None else lower / 100.0,
        None if upper is None else upper / 100.0,
    )


def _scores(
    kind: str, key: str, filled: list[str], weights: dict[str, float], errors: list[Finding]
) -> dict[str, float] | None:
    if kind == "bobot":
        missing = [x for x in filled if x not in weights]
        errors.extend(("missing_weights", {"option": x}) for x in missing)
        return None if missing else dict(weights)
    if not key.strip():
        errors.append(("missing_key", {}))
        return None
    if kind == "bs":
        word = key.strip().lower()
        if word in TRUE_WORDS:
            return {"A": 1.0, "B": 0.0}
        if word in FALSE_WORDS:
            return {"A": 0.0, "B": 1.0}
        errors.append(("bad_key", {"value": key}))
        return None
    keys = _letters(key)
    if any(k not in filled for k in keys) or not keys:
        errors.append(("bad_key", {"value": key}))
        return None
    if kind == "pg" and len(keys) > 1:
        errors.append(("single_one_key", {"value": key}))
        return None
    share = 1.0 / len(keys)
    default = {x: (share if x in keys else 0.0) for x in filled}
    return {x: weights[x] / 100.0 if x in weights else default[x] for x in filled}


def _difficulty(text: str, errors: list[Finding]) -> float | None:
    text = text.strip().lower()
    if not text:
        return None
    if text in DIFFICULTY_WORDS:
        return DIFFICULTY_WORDS[text]
    return _number(text, "tingkat_kesulitan", errors)


def _rows_to_drafts(rows: Iterable[tuple[int, list[str]]]) -> list[Draft]:
    iterator = iter(rows)
    header_row = next(iterator, None)
    if header_row is None:
        raise FileProblem(("empty_file", {}))
    columns = _check_header(header_row[1])
    drafts = []
    for line, cells in iterator:
        if not any(c.strip() for c in cells):
            continue
        row = {name: (cells[i].strip() if i < len(cells) else "") for name, i in columns.items()}
        drafts.append(row_to_draft(line, row))
    return drafts


def _csv_rows(text: str) -> Iterator[tuple[int, list[str]]]:
    first = text.split("\n", 1)[0]
    delimiter = max([",", ";", "\t"], key=first.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    start = 1
    for cells in reader:
        yield start, [unescape_formula(c) for c in cells]  # our export's "'=" is text
        start = reader.line_num + 1  # a quoted cell may span lines


def read_csv(text: str) -> list[Draft]:
    try:
        return _rows_to_drafts(_csv_rows(text))
    except csv.Error as exc:
        raise FileProblem(("unreadable", {"detail": str(exc)})) from None


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "benar" if value else "salah"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(value)


def read_xlsx(data: bytes) -> list[Draft]:
    from openpyxl import load_workbook  # heavy: only XLSX files need it

    try:
        check_archive(data)
    except ArchiveTooLarge as exc:
        raise FileProblem(
            ("archive_too_large", {"declared": exc.declared, "limit": exc.limit})
        ) from None
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a damaged workbook
        raise FileProblem(_damaged(exc), file=_broken_part(data, exc)) from None
    try:
        sheet = book["soal"] if "soal" in book.sheetnames else book.worksheets[0]
        read = [0]  # the last row read, to say where damage inside the sheet begins

        def rows() -> Iterator[tuple[int, list[str]]]:
            for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
                read[0] = number
                yield number, [_cell(v) for v in values]

        try:
            drafts = _rows_to_drafts(rows())
        except FileProblem as problem:
            problem.sheet = sheet.title
            raise
        except Exception as exc:  # the sheet's XML is read row by row, so damage shows here
            path = getattr(sheet, "_worksheet_path", None)
            raise FileProblem(
                _damaged(exc), line=read[0] + 1, file=path, sheet=sheet.title
            ) from None
        for draft in drafts:
            draft.sheet = sheet.title
        return drafts
    finally:
        book.close()


def _damaged(exc: Exception) -> Finding:
    return ("bad_sheet", {"detail": f"{type(exc).__name__}: {exc}"})


def _broken_part(data: bytes, exc: Exception) -> str | None:
    """The workbook part that is missing, damaged inside the zip or not well-formed XML (the
    error names the line)."""
    named = re.search(r"'((?:xl|docProps|_rels)/[^']+|\[Content_Types\]\.xml)'", str(exc))
    if named:
        return named.group(1)
    archive = zipfile.ZipFile(io.BytesIO(data))
    for name in archive.namelist():
        if name.endswith((".xml", ".rels")):
            try:
                ElementTree.fromstring(archive.read(name))
            # defusedxml's refusals are ValueErrors; a damaged member fails in zipfile/zlib
            except (ParseError, ValueError, zipfile.BadZipFile, zlib.error, EOFError):
                return name
    return None
