"""HTML allow-list, hot-linked images, and telling formats apart."""

from __future__ import annotations

import pytest

from question_bank.formats import UnknownFormat, detect_format
from question_bank.sanitize import clean_html


def test_scripts_handlers_links_and_styles_are_removed() -> None:
    dirty = '<p onclick="x()" style="color:red">Hi <a href="https://evil">there</a><script>bad()</script></p>'
    assert clean_html(dirty) == "<p>Hi there</p>"


def test_hot_linked_images_are_removed_and_bundled_images_kept() -> None:
    html = '<img src="https://cdn.example/x.png" alt="luar"><img src="@@IMG@@/peta.png" alt="peta">'
    assert clean_html(html) == '<img src="@@IMG@@/peta.png" alt="peta">'
    assert clean_html('<img src="data:image/png;base64,AAAA">') == ""


def test_cleaning_twice_changes_nothing() -> None:
    html = "<p>a &lt; b &amp; c<br>d&nbsp;e <sub>2</sub></p>"
    assert clean_html(clean_html(html)) == clean_html(html)


@pytest.mark.parametrize(
    ("name", "data", "fmt"),
    [
        ("soal.csv", b"no,soal,opsi_a\n", "csv"),
        ("soal.gift", b"::a::b{=c ~d}", "gift"),
        ("soal.txt", b"Q?\nA) x\nB) y\nANSWER: A\n", "aiken"),
        ("soal.txt", b"::a:: b {T}", "gift"),
        ("x.xml", b'<?xml version="1.0"?>\n<quiz></quiz>', "moodle_xml"),
        ("x.xml", b'<assessmentItem xmlns="http://www.imsglobal.org/xsd/imsqti_v2p1"/>', "qti"),
        ("unnamed", b"soal;opsi_a;opsi_b\n", "csv"),
    ],
)
def test_the_format_is_told_from_the_name_or_the_content(name: str, data: bytes, fmt: str) -> None:
    assert detect_format(name, data) == fmt


def test_an_unknown_format_raises_a_clear_error() -> None:
    with pytest.raises(UnknownFormat):
        detect_format("catatan.txt", b"hanya catatan biasa")
