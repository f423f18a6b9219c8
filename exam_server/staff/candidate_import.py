"""Reading a candidate list (CSV or XLSX) into checked rows: pure, no database.

The template's columns are Indonesian (``NIK, Nama, Tanggal Lahir, Unit Kerja/OPD,
Telepon, Email, Foto``); English names and common variants are accepted too. A file is
imported whole or refused whole, so every problem is collected with its line number (the
header is line 1) rather than stopping at the first. Twin names with different NIKs are
not problems: two people can share a name, so they are listed for a person to review and
never merged.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from exam_server.refusal import Refusal
from question_bank.archive_limits import ArchiveTooLarge, check_archive

TEMPLATE_HEADER = ["NIK", "Nama", "Tanggal Lahir", "Unit Kerja/OPD", "Telepon", "Email", "Foto"]
TEMPLATE_EXAMPLE = [
    [
        "3201234567890001",
        "Siti Aminah",
        "1994-08-17",
        "Dinas Pendidikan",
        "081234567890",
        "siti@example.id",
        "3201234567890001.jpg",
    ],
    ["3201234567890002", "Budi Santoso", "17-08-1990", "Dinas Kesehatan", "", "", ""],
]
MAX_ROWS = 100_000

COLUMNS: dict[str, tuple[str, ...]] = {
    "nik": ("nik", "nomorindukkependudukan", "noktp", "nomorktp"),
    "name": ("nama", "namalengkap", "namapeserta", "name", "fullname"),
    "birth_date": ("tanggallahir", "tgllahir", "tgllhr", "birthdate", "dateofbirth"),
    "unit": ("unitkerjaopd", "unitopd", "unitkerja", "unit", "opd", "instansi", "satuankerja"),
    "phone": ("telepon", "telp", "nohp", "nomorhp", "hp", "notelepon", "nomortelepon", "phone"),
    "email": ("email", "surel", "suratelektronik"),
    "photo": ("foto", "filefoto", "namafilefoto", "photo", "photofile"),
}
REQUIRED = ("nik", "name")
NIK = re.compile(r"^[0-9]{16}$")
PHONE = re.compile(r"^\+?[0-9 ()-]{6,40}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
DATE_FORMATS = ("%Y-%m-%d", "%d-%m-%Y", "%d/%m/%Y", "%d.%m.%Y", "%Y/%m/%d")


@dataclass(frozen=True)
class Problem:
    line: int | None
    item: str | None  # the NIK concerned, when known
    message_id: str
    message_en: str

    def message(self, lang: str = "id") -> str:
        return self.message_en if lang == "en" else self.message_id

    def as_json(self, lang: str = "id") -> dict[str, object]:
        return {"line": self.line, "item": self.item, "message": self.message(lang)}


@dataclass(frozen=True)
class CandidateRow:
    line: int
    nik: str
    name: str
    birth_date: dt.date | None
    unit: str
    phone: str
    email: str
    photo: str


@dataclass(frozen=True)
class Twin:
    """People who share a name but not a NIK: for review, never merged."""

    name: str
    entries: tuple[str, ...]  # "baris 4 (NIK ...)" or "nomor peserta ... (NIK ...)"


@dataclass
class ParsedCandidates:
    rows: list[CandidateRow] = field(default_factory=list)
    errors: list[Problem] = field(default_factory=list)
    twins: list[Twin] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


class UnreadableFile(Refusal):
    """The file as a whole cannot be read; one bilingual reason."""


def header_key(text: object) -> str:
    return re.sub(r"[^a-z]", "", str(text or "").lower())


def name_key(name: str) -> str:
    return " ".join(name.casefold().split())


def _cells_from_csv(data: bytes) -> Iterator[tuple[int, list[object]]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")  # old Excel "CSV" exports
    sample = text[:4096]
    delimiter = ";" if sample.count(";") > sample.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    start = 1
    for row in reader:
        yield start, list(row)
        start = reader.line_num + 1


def _cells_from_xlsx(data: bytes) -> Iterator[tuple[int, list[object]]]:
    from openpyxl import load_workbook  # heavy: only XLSX uploads need it

    try:
        check_archive(data)  # before openpyxl inflates anything (docs/security.md)
    except ArchiveTooLarge as exc:
        raise UnreadableFile(
            f"Berkas XLSX terlalu besar setelah dibuka ({exc.declared} byte).",
            f"The XLSX file is too large once opened ({exc.declared} bytes).",
        ) from None
    # Read whole before any row is judged: openpyxl meets a damaged sheet only while reading
    # it, and a file refused halfway must be refused as a file, not as its first rows.
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        try:
            rows = [list(row) for row in book.worksheets[0].iter_rows(values_only=True)]
        finally:
            book.close()
    except Exception as exc:  # openpyxl, zipfile and the XML parser raise many kinds
        raise UnreadableFile(
            f"Berkas XLSX tidak dapat dibaca ({exc}).", f"The XLSX file cannot be read ({exc})."
        ) from None
    yield from enumerate(rows, start=1)


def read_cells(data: bytes, filename: str) -> Iterator[tuple[int, list[object]]]:
    if data[:2] == b"PK" or filename.lower().endswith((".xlsx", ".xlsm")):
        return _cells_from_xlsx(data)
    if filename.lower().endswith(".xls"):
        raise UnreadableFile(
            "Format .xls lama tidak didukung; simpan sebagai .xlsx atau .csv.",
            "Old .xls files are not supported; save as .xlsx or .csv.",
        )
    return _cells_from_csv(data)


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _date(value: object) -> dt.date | str | None:
    """A date, None when empty, or the text that could not be read."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = _text(value)
    for fmt in DATE_FORMATS:
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return text


def _nik(value: object) -> str | Problem:
    if isinstance(value, int | float) and not isinstance(value, bool):
        # Excel keeps 15 significant digits: a 16-digit NIK typed as a number has already
        # lost its last digit when we see it, so only text cells are trusted.
        return Problem(
            None,
            None,
            "NIK tersimpan sebagai angka di Excel sehingga digit terakhir bisa berubah; "
            "format kolom NIK sebagai Teks.",
            "The NIK is stored as a number in Excel, which can change its last digit; "
            "format the NIK column as Text.",
        )
    return re.sub(r"[\s.'-]", "", _text(value))


def _map_header(cells: list[object]) -> tuple[dict[str, int], list[Problem]]:
    found: dict[str, int] = {}
    for index, cell in enumerate(cells):
        key = header_key(cell)
        for column, aliases in COLUMNS.items():
            if key in aliases and column not in found:
                found[column] = index
    missing = [c for c in REQUIRED if c not in found]
    problems = (
        [
            Problem(
                1,
                None,
                f"Kolom wajib tidak ada: {', '.join(TEMPLATE_HEADER[REQUIRED.index(c)] for c in missing)}. "
                "Gunakan templat.",
                f"Required column missing: {', '.join(TEMPLATE_HEADER[REQUIRED.index(c)] for c in missing)}. "
                "Use the template.",
            )
        ]
        if missing
        else []
    )
    return found, problems


def check_row(
    line: int, cells: list[object], columns: dict[str, int]
) -> CandidateRow | list[Problem]:
    def cell(name: str) -> object:
        index = columns.get(name)
        return cells[index] if index is not None and index < len(cells) else None

    problems: list[Problem] = []
    nik = _nik(cell("nik"))
    if isinstance(nik, Problem):
        problems.append(Problem(line, _text(cell("nik")), nik.message_id, nik.message_en))
        nik = ""
    elif not NIK.match(nik):
        problems.append(
            Problem(
                line,
                nik or None,
                f"NIK harus 16 angka, tertulis {nik!r}.",
                f"The NIK must be 16 digits, found {nik!r}.",
            )
        )
    name = " ".join(_text(cell("name")).split())
    if not name:
        problems.append(Problem(line, nik or None, "Nama kosong.", "The name is empty."))
    elif len(name) > 200:
        problems.append(
            Problem(
                line,
                nik or None,
                "Nama lebih dari 200 karakter.",
                "The name is longer than 200 characters.",
            )
        )
    birth = _date(cell("birth_date"))
    if isinstance(birth, str):
        problems.append(
            Problem(
                line,
                nik or None,
                f"Tanggal lahir {birth!r} tidak dikenali; tulis seperti 1994-08-17 atau 17-08-1994.",
                f"Birth date {birth!r} not understood; write it as 1994-08-17 or 17-08-1994.",
            )
        )
        birth = None
    elif birth is not None and not dt.date(1900, 1, 1) <= birth <= dt.date.today():
        problems.append(
            Problem(
                line,
                nik or None,
                f"Tanggal lahir {birth} tidak mungkin.",
                f"Birth date {birth} is impossible.",
            )
        )
    unit, phone, email, photo = (_text(cell(c)) for c in ("unit", "phone", "email", "photo"))
    if len(unit) > 200:
        problems.append(
            Problem(
                line,
                nik or None,
                "Unit kerja lebih dari 200 karakter.",
                "The unit is longer than 200 characters.",
            )
        )
    if phone and not PHONE.match(phone):
        problems.append(
            Problem(
                line,
                nik or None,
                f"Nomor telepon {phone!r} tidak valid.",
                f"Phone number {phone!r} is not valid.",
            )
        )
    if email and (not EMAIL.match(email) or len(email) > 200):
        problems.append(
            Problem(
                line, nik or None, f"Email {email!r} tidak valid.", f"Email {email!r} is not valid."
            )
        )
    if photo and ("/" in photo or "\\" in photo or len(photo) > 200):
        problems.append(
            Problem(
                line,
                nik or None,
                "Foto harus berupa nama berkas saja.",
                "The photo must be a bare file name.",
            )
        )
    if problems:
        return problems
    return CandidateRow(line, nik, name, birth, unit, phone, email, photo)


def find_twins(rows: Iterable[CandidateRow]) -> list[Twin]:
    by_name: dict[str, list[CandidateRow]] = defaultdict(list)
    for row in rows:
        by_name[name_key(row.name)].append(row)
    return [
        Twin(group[0].name, tuple(f"baris {r.line} (NIK {r.nik})" for r in group))
        for group in by_name.values()
        if len({r.nik for r in group}) > 1
    ]


def parse_candidates(data: bytes, filename: str) -> ParsedCandidates:
    report = ParsedCandidates()
    try:
        lines = read_cells(data, filename)
        header: tuple[int, list[object]] | None = None
        columns: dict[str, int] = {}
        seen: dict[str, int] = {}
        for line, cells in lines:
            if not any(_text(c) for c in cells):
                continue
            if header is None:
                header = (line, cells)
                columns, problems = _map_header(cells)
                if problems:
                    report.errors.extend(problems)
                    return report
                continue
            if len(report.rows) + len(report.errors) >= MAX_ROWS:
                report.errors.append(
                    Problem(
                        line, None, f"Lebih dari {MAX_ROWS} baris.", f"More than {MAX_ROWS} rows."
                    )
                )
                break
            checked = check_row(line, cells, columns)
            if isinstance(checked, list):
                report.errors.extend(checked)
                continue
            if checked.nik in seen:
                first = seen[checked.nik]
                report.errors.append(
                    Problem(
                        line,
                        checked.nik,
                        f"NIK {checked.nik} ganda: baris {first} dan baris {line}.",
                        f"Duplicate NIK {checked.nik}: lines {first} and {line}.",
                    )
                )
                continue
            seen[checked.nik] = line
            report.rows.append(checked)
    except UnreadableFile as exc:
        report.errors.append(Problem(None, None, exc.id_text, exc.en_text))
        return report
    except csv.Error as exc:
        report.errors.append(Problem(None, None, f"CSV rusak: {exc}", f"Broken CSV: {exc}"))
        return report
    if header is None:
        report.errors.append(Problem(None, None, "Berkas kosong.", "The file is empty."))
    elif not report.rows and not report.errors:
        report.errors.append(Problem(None, None, "Tidak ada baris peserta.", "No candidate rows."))
    report.twins = find_twins(report.rows)
    return report


def template_csv() -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(TEMPLATE_HEADER)
    writer.writerows(TEMPLATE_EXAMPLE)
    return out.getvalue().encode("utf-8-sig")  # the BOM makes Excel read UTF-8


def template_xlsx() -> bytes:
    from openpyxl import Workbook  # heavy: only the template download needs it

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Peserta"
    sheet.append(TEMPLATE_HEADER)
    for row in TEMPLATE_EXAMPLE:
        sheet.append(row)
    # NIK as text: Excel would round a 16-digit number.
    for row in sheet.iter_rows(min_row=1, max_row=5000, min_col=1, max_col=1):
        for cell in row:
            cell.number_format = "@"
    for column, width in zip("ABCDEFG", (20, 28, 14, 28, 16, 26, 24), strict=True):
        sheet.column_dimensions[column].width = width
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
