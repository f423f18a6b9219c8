"""docs/results.md names every results route and command, so it cannot drift silently."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from exam_server.cli import results as results_cli
from exam_server.results.routes import public_routes, staff_routes

DOC = Path(__file__).resolve().parents[2] / "docs" / "results.md"


def _documented(path: str) -> str:
    return re.sub(r"\{(\w+)(:\w+)?\}", r"{\1}", path)


def test_every_results_route_is_documented() -> None:
    text = DOC.read_text(encoding="utf-8")
    for route in public_routes:
        assert _documented(route.path) in text, route.path  # type: ignore[attr-defined]
    for route in staff_routes:
        assert f"/panitia{_documented(route.path)}" in text, route.path  # type: ignore[attr-defined]


def test_every_results_command_and_option_is_documented() -> None:
    text = DOC.read_text(encoding="utf-8")
    parser = argparse.ArgumentParser(prog="tkd")
    sub = parser.add_subparsers()
    results_cli.register(sub)
    commands = sub.choices["results"]._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    for name, command in commands.items():
        assert f"tkd results {name}" in text
        for action in command._actions:
            for flag in action.option_strings:
                if flag.startswith("--") and flag != "--help":
                    assert flag in text, f"{name} {flag}"
