"""Property-based fuzzing of every importer with mutated real files: whatever the bytes,
the answer is an import report with documented problems, never an exception and never a
reader crash caught by the last-resort ``internal`` problem (docs/security.md, "Fuzzing").

The seeds are the shipped templates and, where present, the other projects' files in
../shared/external (skipped when absent).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from exam_server.staff.candidate_import import parse_candidates, template_csv, template_xlsx
from question_bank.exporting import export_bank
from question_bank.importing import parse_bank
from question_bank.problems import MESSAGES

REPO = Path(__file__).resolve().parents[2]
EXTERNAL = (REPO / ".." / "shared" / "external").resolve()
SUFFIXES = {".csv", ".xlsx", ".xml", ".txt", ".gift", ".zip"}


def seed_files() -> list[tuple[str, bytes]]:
    paths = sorted((REPO / "question_bank" / "templates").iterdir())
    if EXTERNAL.is_dir():
        found = sorted(p for p in EXTERNAL.rglob("*") if p.is_file() and p.suffix in SUFFIXES)
        # One file per folder and kind keeps the run short and still covers every reader.
        picked: dict[tuple[Path, str], Path] = {}
        for path in found:
            picked.setdefault((path.parent, path.suffix), path)
        paths += list(picked.values())
    seeds = [(p.name, p.read_bytes()) for p in paths if p.suffix in SUFFIXES]
    # A QTI content package (zip) made by our own export of the template.
    template = parse_bank(
        (REPO / "question_bank" / "templates" / "template-soal.csv").read_bytes(), "t.csv"
    )
    seeds.append(("bank.zip", export_bank(template.items, "qti")))
    return [(name, data) for name, data in seeds if len(data) < 2_000_000]


SEEDS = seed_files()


@st.composite
def mutated(draw: st.DrawFn, data: bytes) -> bytes:
    """The file with a few bytes flipped, inserted, deleted or the tail cut off."""
    out = bytearray(data)
    for _ in range(draw(st.integers(1, 6))):
        op = draw(st.sampled_from(["flip", "insert", "delete", "truncate", "splice"]))
        at = draw(st.integers(0, max(0, len(out) - 1)))
        if op == "flip" and out:
            out[at] = draw(st.integers(0, 255))
        elif op == "insert":
            out[at:at] = draw(
                st.sampled_from(
                    [
                        b"<",
                        b"&#0;",
                        b'"',
                        b"{",
                        b"\x00",
                        b"\xff\xfe",
                        b"=",
                        b"]]>",
                        b"<![CDATA[",
                        b"\r\n",
                        b"::",
                    ]
                )
            )
        elif op == "delete":
            del out[at : at + draw(st.integers(1, 16))]
        elif op == "truncate":
            del out[at:]
        elif op == "splice" and out:
            size = draw(st.integers(1, 64))
            out[at:at] = out[at : at + size]
    return bytes(out)


def assert_documented(report) -> None:  # type: ignore[no-untyped-def]
    codes = {p.code for p in report.errors}
    assert "internal" not in codes, [p.message_en for p in report.errors if p.code == "internal"]
    assert codes <= set(MESSAGES), codes - set(MESSAGES)


@pytest.mark.parametrize("seed", SEEDS, ids=[name for name, _ in SEEDS])
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_a_mutated_question_file_gives_only_documented_problems(seed, data) -> None:  # type: ignore[no-untyped-def]
    name, original = seed
    report = parse_bank(data.draw(mutated(original)), name)
    assert_documented(report)
    assert report.ok == (not report.errors)


@settings(max_examples=60, deadline=None)
@given(
    data=st.data(),
    template=st.sampled_from([("peserta.csv", template_csv()), ("peserta.xlsx", template_xlsx())]),
)
def test_a_mutated_candidate_list_gives_only_problems_never_an_exception(data, template) -> None:  # type: ignore[no-untyped-def]
    name, seed = template
    report = parse_candidates(data.draw(mutated(seed)), name)
    for problem in report.errors:
        assert str(problem)  # every problem has words for the committee
