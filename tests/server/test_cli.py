"""The `tkd` command line: every command has help, bad input exits non-zero in one line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from exam_server.cli.main import build_parser

REPO = Path(__file__).resolve().parents[2]


def tkd(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "exam_server.cli.main", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )


def command_names() -> list[str]:
    parser = build_parser()
    names = []
    for action in parser._subparsers._group_actions:  # type: ignore[union-attr]
        for name, sub in action.choices.items():
            nested = [a for a in sub._actions if a.__class__.__name__ == "_SubParsersAction"]
            if nested:
                names.extend(f"{name} {child}" for child in nested[0].choices)
            else:
                names.append(name)
    return names


def test_help_lists_the_contract_commands() -> None:
    out = tkd("--help").stdout
    for name in ("serve", "demo", "db", "loadtest"):
        assert name in out


@pytest.mark.parametrize("name", command_names())
def test_every_command_has_help(name: str) -> None:
    result = tkd(*name.split(), "--help")
    assert result.returncode == 0
    assert "usage:" in result.stdout


@pytest.mark.parametrize("name", command_names())
def test_every_command_is_documented(name: str) -> None:
    docs = (REPO / "README.md").read_text() + "".join(
        p.read_text() for p in (REPO / "docs").glob("*.md")
    )
    assert f"tkd {name}" in docs


def test_bad_input_exits_non_zero_with_one_line(tmp_path: Path) -> None:
    import os

    env = {**os.environ, "TKD_DATA_DIR": str(tmp_path)}
    result = tkd(
        "loadtest", "--candidates", "5", "--credentials", str(tmp_path / "none.csv"), env=env
    )
    assert result.returncode != 0
    assert (
        len(result.stderr.strip().splitlines()) == 1 and "cannot read credentials" in result.stderr
    )
    bad_env = {**env, "DATABASE_URL": "mysql://nope"}
    result = tkd("db", "upgrade", env=bad_env)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "tkd: DATABASE_URL must be a PostgreSQL URL (postgresql://...), got 'mysql://nope'"
    ]
