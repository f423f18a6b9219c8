"""How the candidate page's files are sent: compression and validators, without a server."""

from __future__ import annotations

import gzip

from exam_server.web.candidate_pages import accepts_gzip, encode, etag_matches


def test_gzip_is_used_only_where_the_browser_accepts_it() -> None:
    assert accepts_gzip("gzip, deflate, br")
    assert accepts_gzip("br;q=1.0, gzip;q=0.8")
    assert accepts_gzip("*")
    assert not accepts_gzip("")
    assert not accepts_gzip("identity")
    assert not accepts_gzip("gzip;q=0")
    assert not accepts_gzip("gzip;q=zero")


def test_the_etag_follows_the_content_and_validates_either_encoding() -> None:
    one, same, other = encode(b"a" * 500), encode(b"a" * 500), encode(b"b" * 500)
    assert one.etag == same.etag != other.etag
    assert gzip.decompress(one.gzipped) == one.body
    bare = one.etag.strip('"')
    assert etag_matches(one.etag, one.etag)
    assert etag_matches(f'"{bare}-gz"', one.etag)
    assert etag_matches(f'W/"{bare}-gz", "x"', one.etag)
    assert etag_matches("*", one.etag)
    assert not etag_matches(other.etag, one.etag)
    assert not etag_matches("", one.etag)


def test_the_same_file_compresses_to_the_same_bytes() -> None:
    # No timestamp in the gzip header: every worker sends identical bytes under one ETag.
    assert encode(b"x" * 1000).gzipped == encode(b"x" * 1000).gzipped
