"""Images and other media in imported questions: one rule for every format.

An image is kept only when its bytes travel in the file (a Moodle attachment, a file in a
QTI package) and are a PNG, JPEG, GIF or WebP of at most 5 MiB. Anything else a question
would show (an SVG, a hot-linked or missing picture, audio, video, an embedded object) is
a reason to refuse that question, never to import it without what the file gave it
(docs/question-bank.md, "HTML and images").
"""

from __future__ import annotations

import re
from collections.abc import Collection
from html.parser import HTMLParser
from urllib.parse import unquote

from question_bank.items import Image
from question_bank.sanitize import IMG_PREFIX, parse_html
from question_bank.validation import Finding

MAX_IMAGE_BYTES = 5 * 1024 * 1024

_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)
# Elements the sanitiser removes although a candidate would have seen or heard them.
MEDIA_TAGS = {"object", "embed", "audio", "video", "iframe", "picture", "source", "canvas"}
_SCHEME = re.compile(r"^(?:[a-z][a-z0-9+.-]*:|//)", re.I)
PLUGINFILE = "@@PLUGINFILE@@/"


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


class _Scan(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "img" or tag == "svg" or tag in MEDIA_TAGS:
            self.found.append((tag, {k: v or "" for k, v in attrs}))


def _shown(src: str) -> str:
    """A source as a message can show it: a file name, or the start of a long URL."""
    if src.startswith(PLUGINFILE):
        src = unquote(src[len(PLUGINFILE) :])
    return src if len(src) <= 80 else src[:77] + "..."


def lost_media(source: str, handled: Collection[str] = ()) -> list[Finding]:
    """Why each image or media element of raw HTML would not reach the candidate.

    ``handled`` lists sources the reader has already judged (a missing or refused file).
    An ``<img>`` survives only with an ``@@IMG@@/`` source, which readers give to images
    whose bytes the file carried; everything else here is removed by the sanitiser.
    """
    scan = parse_html(_Scan, source)
    findings: list[Finding] = []
    for tag, attrs in scan.found:
        src = attrs.get("src") or attrs.get("data") or ""
        if src in handled:
            continue
        if tag == "img":
            if src.startswith(IMG_PREFIX) and "://" not in src:
                continue
            if src and _SCHEME.match(src):
                findings.append(("image_source", {"name": _shown(src)}))
            else:
                findings.append(("image_missing", {"name": _shown(src) or "<img>"}))
        elif tag == "svg":
            findings.append(("image_type", {"name": "<svg>"}))
        else:
            findings.append(("media_unsupported", {"name": _shown(src) or f"<{tag}>"}))
    unique: list[Finding] = []
    for finding in findings:
        if finding not in unique:
            unique.append(finding)
    return unique
