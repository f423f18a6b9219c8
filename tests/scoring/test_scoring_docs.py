"""docs/scoring.md keeps up with the code: every model, flag and reason is documented."""

from __future__ import annotations

from pathlib import Path

from exam_server.grading.item_analysis import FLAGS, REASONS
from exam_server.grading.scoring import SKD_SECTIONS, ScoringModel

DOC = (Path(__file__).resolve().parents[2] / "docs" / "scoring.md").read_text(encoding="utf-8")


def test_every_scoring_model_flag_and_reason_is_in_the_docs() -> None:
    names = [*(m.value for m in ScoringModel), *FLAGS, *REASONS]
    assert [n for n in names if f"`{n}`" not in DOC] == []


def test_the_documented_skd_table_matches_the_constant() -> None:
    for rule, count in SKD_SECTIONS:
        row = next(line for line in DOC.splitlines() if line.startswith(f"| {rule.code},"))
        cells = [c.strip() for c in row.split("|")]
        assert cells[2] == str(count) and cells[5] == f"{rule.pass_mark:g}", row
