"""``tkd results export`` and ``tkd results regrade`` from the command line."""

from __future__ import annotations

import argparse
import asyncio
import csv
from pathlib import Path

import openpyxl
import pytest
from results.builders import add_candidate, build_exam, grade_all, set_key

from exam_server.cli import results as results_cli
from exam_server.delivery.services import Services
from exam_server.settings import Settings


def _run(settings: Settings, *argv: str) -> int:
    parser = argparse.ArgumentParser(prog="tkd")
    results_cli.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["results", *argv])
    return int(args.func(args, settings))


async def test_it_exports_an_exam_to_xlsx_and_csv_files(
    db_engine, services: Services, settings: Settings, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    built = build_exam(db_engine)
    add_candidate(db_engine, built, "Lestari", ["A"] * 8)
    add_candidate(db_engine, built, "Made", ["B"] * 8)
    await grade_all(services, built)

    async def export(fmt: str, out: Path, *extra: str) -> int:
        # The command runs its own event loop, as it does from a shell: give it a thread.
        args = ["export", "--exam", str(built.exam_id), "--format", fmt, "--out", str(out)]
        return await asyncio.to_thread(_run, settings, *args, *extra)

    out = tmp_path / "hasil.xlsx"
    assert await export("xlsx", out) == 0
    book = openpyxl.load_workbook(out, read_only=True)
    names = [r[3] for r in book.active.iter_rows(min_row=2, values_only=True)]  # type: ignore[union-attr]
    book.close()
    assert names == ["Lestari", "Made"]
    out_csv = tmp_path / "hasil.csv"
    assert await export("csv", out_csv, "--lang", "en") == 0
    rows = list(csv.DictReader(out_csv.read_text(encoding="utf-8-sig").splitlines(), delimiter=";"))
    assert [(r["Name"], r["Rank"], r["Status"]) for r in rows] == [
        ("Lestari", "1", "PASSED"),
        ("Made", "2", "NOT PASSED"),
    ]


async def test_it_regrades_and_names_an_unknown_exam(
    db_engine, services: Services, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:  # type: ignore[no-untyped-def]
    from exam_server.cli.runner import CommandError

    built = build_exam(db_engine)
    add_candidate(db_engine, built, "Nur", ["B"] + ["A"] * 7)
    await grade_all(services, built)
    await set_key(services, built.question_ids[0], "B")
    # The command runs its own event loop, as it does from a shell: give it a thread.
    assert (
        await asyncio.to_thread(
            _run, settings, "regrade", "--exam", str(built.exam_id), "--actor", "uji"
        )
        == 0
    )
    # Read by a person: no "35.0 -> 40.0 (False -> True)".
    assert "Nur: total 35 → 40, tidak lulus/not passed → lulus/passed" in capsys.readouterr().out
    with pytest.raises(CommandError, match="exam 99999999 does not exist"):
        await asyncio.to_thread(_run, settings, "regrade", "--exam", "99999999")
