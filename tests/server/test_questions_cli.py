"""`tkd questions import|export|list` against the test database: all or nothing, idempotent."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
TEMPLATE = REPO / "question_bank" / "templates" / "template-soal.csv"

pytestmark = pytest.mark.slow


def tkd(settings, *args: str) -> subprocess.CompletedProcess[str]:  # type: ignore[no-untyped-def]
    env = {
        **os.environ,
        "DATABASE_URL": str(settings.database_url),
        "REDIS_URL": str(settings.redis_url),
        "TKD_DATA_DIR": str(settings.data_dir),
        "TKD_SECRET_KEY": settings.secret_key_value,
    }
    return subprocess.run(
        [sys.executable, "-m", "exam_server.cli.main", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def test_importing_the_template_twice_adds_nothing_the_second_time(
    settings, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    dry = json.loads(
        tkd(settings, "questions", "import", str(TEMPLATE), "--dry-run", "--json").stdout
    )
    first = json.loads(tkd(settings, "questions", "import", str(TEMPLATE), "--json").stdout)
    assert first["errors"] == [] and first["imported"] > 0
    assert dry["imported"] == first["imported"]  # the dry run counted, and wrote nothing
    second = json.loads(tkd(settings, "questions", "import", str(TEMPLATE), "--json").stdout)
    assert second["imported"] == 0 and second["duplicates"] == first["imported"]

    out = tmp_path / "bank.xlsx"
    exported = tkd(settings, "questions", "export", "--format", "xlsx", "--out", str(out))
    assert exported.returncode == 0, exported.stderr
    again = json.loads(tkd(settings, "questions", "import", str(out), "--json").stdout)
    assert again["imported"] == 0 and again["errors"] == []
    listing = json.loads(tkd(settings, "questions", "list", "--json").stdout)
    assert sum(row["count"] for row in listing) >= first["imported"]


def test_a_bad_file_is_refused_whole_with_line_numbers(settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "soal.txt"
    bad.write_text(
        "Ibu kota Indonesia adalah?\nA. Jakarta\nB. Bandung\nANSWER: A\n\n"
        "Soal tanpa kunci\nA. satu\nB. dua\n\n",
        encoding="utf-8",
    )

    def total() -> int:
        return sum(
            row["count"] for row in json.loads(tkd(settings, "questions", "list", "--json").stdout)
        )

    before = total()
    result = tkd(settings, "questions", "import", str(bad), "--format", "aiken", "--json")
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert report["imported"] == 0 and report["errors"]
    assert all(e["line"] for e in report["errors"])
    assert total() == before  # the good first question was not half-imported
