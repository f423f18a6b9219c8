"""Fixtures for the question bank: the other projects' files in ../shared/external."""

from __future__ import annotations

from pathlib import Path

import pytest

EXTERNAL = Path(__file__).resolve().parents[2] / ".." / "shared" / "external"


@pytest.fixture
def external() -> Path:
    if not EXTERNAL.is_dir():
        pytest.skip("../shared/external is not present in this checkout")
    return EXTERNAL.resolve()
