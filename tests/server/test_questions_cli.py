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


def test_the_bank_exports_as_gift_and_the_export_imports_as_nothing_new(
    settings, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    tkd(settings, "questions", "import", str(TEMPLATE), "--json")
    out = tmp_path / "bank.gift"
    exported = tkd(settings, "questions", "export", "--format", "gift", "--out", str(out))
    assert exported.returncode == 0, exported.stderr
    assert "::" in out.read_text(encoding="utf-8")
    again = json.loads(tkd(settings, "questions", "import", str(out), "--json").stdout)
    assert again["errors"] == [] and again["imported"] == 0


def test_a_broken_item_in_a_qti_package_is_named_by_its_file(settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import zipfile

    package = tmp_path / "paket.zip"
    manifest = (
        '<manifest xmlns="http://www.imsglobal.org/xsd/imscp_v1p1"><resources>'
        '<resource identifier="R1" type="imsqti_item_xmlv2p1" href="items/q1.xml">'
        '<file href="items/q1.xml"/></resource></resources></manifest>'
    )
    with zipfile.ZipFile(package, "w") as z:
        z.writestr("imsmanifest.xml", manifest)
        z.writestr("items/q1.xml", "<assessmentItem>\n<itemBody>\n</assessmentItm>\n")
    result = tkd(settings, "questions", "import", str(package), "--format", "qti", "--json")
    assert result.returncode == 1
    (error,) = json.loads(result.stdout)["errors"]
    assert error["file"] == "items/q1.xml" and error["line"] == 3
