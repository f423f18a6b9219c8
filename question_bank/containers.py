"""Zip containers (QTI packages, XLSX workbooks) and files that are another container.

A file whose name or chosen format promises a zip but whose bytes are not one, an old
Excel or Word file, a PDF or an archive of another kind each get their own message
(``bad_zip``, ``wrong_container``) instead of whatever a text reader would make of them.
Problems found inside a package name the file inside it.
"""

from __future__ import annotations

import io
import zipfile
import zlib

from question_bank.drafts import FileProblem

MAX_PACKAGE_BYTES = 512 * 1024 * 1024
MAX_ENTRIES = 50_000

_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # Word/Excel 97-2003 (.doc, .xls)
# Magic bytes -> (what it is, in Indonesian and in English).
_ARCHIVES = (
    (b"Rar!\x1a\x07", ("arsip RAR", "a RAR archive")),
    (b"7z\xbc\xaf\x27\x1c", ("arsip 7-Zip", "a 7-Zip archive")),
    (b"\x1f\x8b", ("arsip gzip", "a gzip archive")),
)
_SAVE_AS_XLSX = (
    "simpan ulang sebagai Excel Workbook (.xlsx) atau CSV UTF-8",
    "save it again as an Excel Workbook (.xlsx) or UTF-8 CSV",
)
_USE_A_QUESTION_FORMAT = (
    "gunakan templat XLSX/CSV, atau ekspor soal sebagai GIFT, Aiken, Moodle XML atau QTI",
    "use the XLSX/CSV template, or export the questions as GIFT, Aiken, Moodle XML or QTI",
)
ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"


def _wrong(what: tuple[str, str], fix: tuple[str, str]) -> FileProblem:
    fields: dict[str, object] = {"what_id": what[0], "what_en": what[1]}
    fields.update(fix_id=fix[0], fix_en=fix[1])
    return FileProblem(("wrong_container", fields))


def bad_zip(detail_id: str, detail_en: str, *, file: str | None = None) -> FileProblem:
    return FileProblem(("bad_zip", {"detail_id": detail_id, "detail_en": detail_en}), file=file)


def check_container(filename: str, data: bytes, fmt: str | None) -> None:
    """Raise the container's own problem when the bytes are not what a reader can take."""
    lower = filename.lower()
    if data.startswith(_OLE2):
        what = ("berkas Excel/Word 97-2003 (.xls/.doc)", "an Excel/Word 97-2003 file (.xls/.doc)")
        raise _wrong(what, _SAVE_AS_XLSX)
    if data.startswith(b"%PDF"):
        raise _wrong(("dokumen PDF", "a PDF document"), _USE_A_QUESTION_FORMAT)
    for magic, (what_id, what_en) in _ARCHIVES:
        if data.startswith(magic):
            raise bad_zip(
                f"isinya {what_id}, bukan zip; kemas ulang sebagai .zip",
                f"it holds {what_en}, not a zip; pack it again as a .zip",
            )
    promised = lower.endswith((".zip", ".xlsx")) or fmt == "xlsx"
    if data.startswith(b"PK"):
        _check_zip(data)
        if fmt is not None and fmt not in {"xlsx", "qti"}:
            what = (
                "arsip zip (workbook XLSX atau paket QTI)",
                "a zip archive (an XLSX workbook or a QTI package)",
            )
            fix = (
                f"pilih format xlsx atau qti, bukan {fmt}, atau biarkan format dikenali sendiri",
                f"choose the xlsx or qti format, not {fmt}, or let the format be detected",
            )
            raise _wrong(what, fix)
    elif promised:
        if lower.endswith(".xlsx") or fmt == "xlsx":
            raise bad_zip(
                "isinya bukan zip, padahal workbook XLSX selalu zip (mungkin CSV atau .xls yang diganti namanya)",
                "its content is not a zip, and an XLSX workbook always is one (perhaps a renamed CSV or .xls)",
            )
        raise bad_zip("isinya bukan zip", "its content is not a zip")


def _check_zip(data: bytes) -> None:
    archive = open_zip(data)
    names = set(archive.namelist())
    if any(n.startswith("word/") for n in names):
        raise _wrong(("dokumen Word (.docx)", "a Word document (.docx)"), _USE_A_QUESTION_FORMAT)
    if "mimetype" in names and read_member(archive, "mimetype").strip() == ODS_MIMETYPE:
        what = ("lembar kerja OpenDocument (.ods)", "an OpenDocument spreadsheet (.ods)")
        raise _wrong(what, _SAVE_AS_XLSX)


def open_zip(data: bytes) -> zipfile.ZipFile:
    """The archive, or ``bad_zip`` saying why it cannot be opened."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as exc:
        raise bad_zip(
            f"rusak atau terpotong ({exc})", f"it is damaged or truncated ({exc})"
        ) from None
    if len(infos) > MAX_ENTRIES or sum(i.file_size for i in infos) > MAX_PACKAGE_BYTES:
        raise bad_zip(
            f"lebih dari {MAX_ENTRIES} berkas atau lebih dari 512 MiB setelah dibuka",
            f"more than {MAX_ENTRIES} files or more than 512 MiB unpacked",
        )
    return archive


def read_member(archive: zipfile.ZipFile, name: str) -> bytes:
    """One file of the archive, or ``bad_zip`` naming that file."""
    try:
        return archive.read(name)
    except RuntimeError:  # zipfile says "encrypted, password required" this way
        raise bad_zip(
            "berkas ini terkunci kata sandi", "this file is password-protected", file=name
        ) from None
    # ValueError: zipfile's own arithmetic on a damaged header ("negative seek value").
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, ValueError) as exc:
        raise bad_zip(
            f"berkas ini rusak ({exc})", f"this file is damaged ({exc})", file=name
        ) from None
