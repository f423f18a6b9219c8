"""HTML in stems and options: an allow-list sanitiser (nh3) and plain-text helpers.

Only ``@@IMG@@/<name>`` image sources survive: those images travel with the item and are
served by the platform, so a candidate's browser never fetches anything from elsewhere.
A hot-linked ``http(s)`` image (or any other source) is removed with its tag.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from html.parser import HTMLParser
from typing import TypeVar
from urllib.parse import unquote

import nh3

P = TypeVar("P", bound=HTMLParser)

IMG_PREFIX = "@@IMG@@/"

ALLOWED_TAGS = {
    "p",
    "br",
    "b",
    "strong",
    "i",
    "em",
    "u",
    "s",
    "sub",
    "sup",
    "span",
    "div",
    "pre",
    "code",
    "blockquote",
    "hr",
    "ul",
    "ol",
    "li",
    "table",
    "thead",
    "tbody",
    "tfoot",
    "tr",
    "th",
    "td",
    "caption",
    "img",
    "h3",
    "h4",
    "h5",
    "h6",
}
ALLOWED_ATTRIBUTES = {
    "img": {"src", "alt", "width", "height"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
    "ol": {"start", "type"},
}
_NUMERIC_ATTRS = {"width", "height", "colspan", "rowspan", "start"}


def _filter_attribute(tag: str, attribute: str, value: str) -> str | None:
    if tag == "img" and attribute == "src":
        return value if value.startswith(IMG_PREFIX) and "://" not in value else None
    if attribute in _NUMERIC_ATTRS:
        return value if value.strip().isdigit() else None
    return value


# Run on nh3's own normalised output, after sanitising: it only drops <img> tags that lost
# their source above, it is not what keeps the HTML safe.
_IMG_WITHOUT_SRC = re.compile(r"<img(?![^>]*\ssrc=)[^>]*>")


def clean_html(source: str) -> str:
    """Sanitise HTML with the allow-list; scripts, styles, links and event handlers go."""
    cleaned = nh3.clean(
        source,
        tags=ALLOWED_TAGS,
        clean_content_tags={"script", "style"},
        attributes=ALLOWED_ATTRIBUTES,
        attribute_filter=_filter_attribute,
        strip_comments=True,
        link_rel=None,
        url_schemes=set(),
    )
    return _IMG_WITHOUT_SRC.sub("", cleaned).strip()


def text_to_html(text: str) -> str:
    """Plain text as HTML: ``<``, ``&`` shown as typed, line breaks kept."""
    lines = [html.escape(line.strip(), quote=False) for line in text.strip().splitlines()]
    return clean_html("<br>".join(lines))


# As a browser reads tags: "<" straight before the name ("< p >" is text, not a tag).
_TAG_HINT = re.compile(
    r"</?(" + "|".join(sorted(ALLOWED_TAGS, key=len, reverse=True)) + r")\b[^>]*>", re.I
)


def looks_like_html(text: str) -> bool:
    """True when a spreadsheet cell holds HTML (an allowed tag) rather than plain text."""
    return bool(_TAG_HINT.search(text))


def cell_to_html(text: str) -> str:
    return clean_html(text) if looks_like_html(text) else text_to_html(text)


def html_to_cell(source: str) -> str:
    """The inverse of ``cell_to_html`` for export: plain text where the HTML is only text."""
    # A raw newline in HTML shows as a space; in a cell it would come back as a <br>.
    plain = re.sub(r"<br\s*/?>", "\n", re.sub(r"[ \t]*\n\s*", " ", source))
    if "<" in plain:
        return source
    return html.unescape(plain)


class _TextOnly(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def parse_html(make: Callable[[], P], source: str) -> P:
    """A fresh parser from ``make`` fed the whole of ``source``.

    Python's HTML parser asserts on a malformed ``<![`` section (a file damaged or made
    hostile); a browser reads such a thing as text, and so does this, on a second pass.
    """
    parser = make()
    try:
        parser.feed(source)
        parser.close()
    except AssertionError:
        parser = make()
        parser.feed(source.replace("<![", "&lt;!["))
        parser.close()
    return parser


def html_to_text(source: str) -> str:
    """Visible text of an HTML fragment, for labels in messages."""
    parser = parse_html(_TextOnly, source)
    return " ".join("".join(parser.parts).split())


def safe_image_name(name: str) -> str:
    """A file name safe in a URL path and on disk (no folders, no odd characters)."""
    base = unquote(name).replace("\\", "/").rsplit("/", 1)[-1]
    base = re.sub(r"[^A-Za-z0-9._-]+", "_", base).strip("._") or "image"
    return base[:100]
