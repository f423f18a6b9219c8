"""What each format reader hands to the importer: one draft per question in the file.

Readers only translate; the importer applies the common rules (validation, duplicates,
unsupported types) so every format refuses the same things with the same messages.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from question_bank.items import Image, Item
from question_bank.validation import Finding

MAX_IMAGE_BYTES = 5 * 1024 * 1024

_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)


@dataclass(slots=True)
class Draft:
    line: int | None  # where the question starts (text formats)
    label: str | None  # the question's name or identifier (XML formats)
    item: Item | None = None  # an Item once the reader could build one
    errors: list[Finding] = field(default_factory=list)
    warnings: list[Finding] = field(default_factory=list)
    unsupported: str | None = None  # the question type, when we do not deliver it


class FileProblem(Exception):
    """The whole file is unreadable (bad XML, missing columns): nothing per question."""

    def __init__(self, *findings: Finding) -> None:
        super().__init__(findings)
        self.findings = list(findings)


def image_media_type(data: bytes) -> str | None:
    """The media type from the file's own bytes, never from its name (SVG is refused)."""
    for magic, media_type in _MAGIC:
        if data.startswith(magic):
            return media_type
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def make_image(name: str, data: bytes) -> Image | Finding:
    media_type = image_media_type(data)
    if media_type is None:
        return ("image_type", {"name": name})
    if len(data) > MAX_IMAGE_BYTES:
        return ("image_too_big", {"name": name, "size": len(data), "limit": MAX_IMAGE_BYTES})
    return Image(name=name, media_type=media_type, data=data)
