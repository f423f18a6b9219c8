"""Which format a file is in: from its name first, then from its first bytes."""

from __future__ import annotations

import io
import re
import zipfile

FORMATS = ("csv", "xlsx", "moodle_xml", "gift", "aiken", "qti", "tcexam")

_BY_EXTENSION = {".csv": "csv", ".xlsx": "xlsx", ".gift": "gift", ".aiken": "aiken", ".zip": "qti"}
_AIKEN_ANSWER = re.compile(r"^\s*ANSWER\s*:\s*[A-Za-z]\s*$", re.M)
_QTI_ROOTS = {"assessmentItem", "assessmentTest", "manifest", "responseProcessing"}
_GIFT_BLOCK = re.compile(r"\{[^{}]*\}")


class UnknownFormat(ValueError):
    """The format could not be told from the name or the content."""


def _xml_root(data: bytes) -> str | None:
    text = data[:4096].decode("utf-8", "replace")
    text = re.sub(r"<\?.*?\?>|<!--.*?-->|<!DOCTYPE[^>]*>", "", text, flags=re.S)
    match = re.search(r"<\s*([A-Za-z_][\w.:-]*)", text)
    return match.group(1).rsplit(":", 1)[-1] if match else None


def _sniff_xml(data: bytes) -> str | None:
    root = _xml_root(data)
    if root == "quiz":
        return "moodle_xml"
    if root == "tcexamquestions":
        return "tcexam"
    if root in _QTI_ROOTS or b"imsqti" in data[:4096] or (root and root.startswith("qti-")):
        return "qti"  # the QTI reader then says precisely what is wrong with it
    return None


def detect_format(filename: str, data: bytes) -> str:
    """One of ``FORMATS``; raises ``UnknownFormat`` when neither name nor content tells."""
    lower = filename.lower()
    extension = lower[lower.rfind(".") :] if "." in lower else ""
    if data.startswith(b"PK"):
        try:
            names = zipfile.ZipFile(io.BytesIO(data)).namelist()
        except zipfile.BadZipFile:
            names = []
        if any(n.startswith("xl/") for n in names):
            return "xlsx"
        if names:
            return "qti"
    if extension in _BY_EXTENSION and extension != ".zip":
        return _BY_EXTENSION[extension]
    stripped = data.lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped.startswith(b"<"):
        found = _sniff_xml(stripped)
        if found:
            return found
        if extension == ".xml":
            raise UnknownFormat(f"XML root <{_xml_root(stripped)}> is not Moodle, QTI or TCExam")
    text = stripped[:65536].decode("utf-8", "replace")
    if _AIKEN_ANSWER.search(text):
        return "aiken"
    if _GIFT_BLOCK.search(text) or "::" in text:
        return "gift"
    first = text.splitlines()[0].lower() if text else ""
    if "soal" in first and ("," in first or ";" in first):
        return "csv"
    raise UnknownFormat(f"cannot tell the format of {filename!r}")
