"""What each format reader hands to the importer: one draft per question in the file.

Readers only translate; the importer applies the common rules (validation, duplicates,
unsupported types) so every format refuses the same things with the same messages.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from question_bank.items import Item
from question_bank.media import MAX_IMAGE_BYTES, image_media_type, make_image
from question_bank.validation import Finding


@dataclass(slots=True)
class Draft:
    line: int | None  # where the question starts (text formats)
    label: str | None  # the question's name or identifier (XML formats)
    item: Item | None = None  # an Item once the reader could build one
    errors: list[Finding] = field(default_factory=list)
    warnings: list[Finding] = field(default_factory=list)
    unsupported: str | None = None  # the question type, when we do not deliver it
    file: str | None = None  # the file inside a package (QTI zip) that holds the question
    sheet: str | None = None  # the worksheet of an XLSX workbook


class FileProblem(Exception):
    """The whole file is unreadable (bad XML, missing columns): nothing per question.

    Where the format knows it, the problem says where: the line (an XML parse error), the
    file inside a package, the worksheet of a workbook.
    """

    def __init__(
        self,
        *findings: Finding,
        line: int | None = None,
        file: str | None = None,
        sheet: str | None = None,
    ) -> None:
        super().__init__(findings)
        self.findings = list(findings)
        self.line = line
        self.file = file
        self.sheet = sheet


__all__ = ["MAX_IMAGE_BYTES", "Draft", "FileProblem", "image_media_type", "make_image"]
