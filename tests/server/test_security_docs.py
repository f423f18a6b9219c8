"""docs/security.md names the tests behind its claims: each named test and file exists."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DOC = (REPO / "docs" / "security.md").read_text()


def defined_tests() -> set[str]:
    names: set[str] = set()
    for path in (REPO / "tests").rglob("test_*.py"):
        names |= set(re.findall(r"^(?:async )?def (test_\w+)", path.read_text(), re.M))
    return names


def test_every_test_named_in_security_md_exists() -> None:
    named = set(re.findall(r"\b(test_\w+)\b(?!\.py)", DOC.replace("\n", "")))
    assert len(named) > 40
    assert named <= defined_tests(), named - defined_tests()


def test_every_file_named_in_security_md_exists() -> None:
    paths = set(re.findall(r"`(tests/[\w/.]+?)(?:::|`)", DOC)) | set(
        re.findall(r"`(exam_server/[\w/.]+\.py)`", DOC)
    )
    assert paths
    for path in paths:
        assert (REPO / path).exists(), path


def test_every_setting_named_in_security_md_is_read_by_the_settings() -> None:
    settings_source = (REPO / "exam_server" / "settings.py").read_text()
    for name in set(re.findall(r"`(TKD_[A-Z_]+)`", DOC)):
        assert f'"{name}"' in settings_source or name.startswith("TKD_SECRET_KEY"), name
