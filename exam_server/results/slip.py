"""The result slip as data: what a candidate, the PDF and the public ``/verify`` page show.

Pure: no I/O. The slip is the upper bound of what anyone without a staff login may see
about a result, so the verify page renders exactly this and nothing more.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import asdict, dataclass, field
from typing import Any

CODE_GROUPS = 4
CODE_GROUP_LEN = 5
_CODE_CHARS = re.compile(r"^[0-9A-F]{20}$")


@dataclass(frozen=True)
class SlipSection:
    code: str
    name: str
    points: float
    max_points: float
    correct: int
    wrong: int
    blank: int
    pass_mark: float | None
    passed: bool | None
    rule_id: str  # how the section was scored, e.g. "Benar 5, salah 0, kosong 0"
    rule_en: str
    reason_id: str | None = None
    reason_en: str | None = None


@dataclass(frozen=True)
class Slip:
    verify_code: str
    exam_code: str
    exam_title: str
    session: str
    participant_no: str
    name: str
    nik_masked: str
    submitted_at: dt.datetime | None
    graded_at: dt.datetime
    total: float
    max_total: float
    total_pass_mark: float | None
    passed: bool | None
    sections: list[SlipSection] = field(default_factory=list)

    # Every rule that failed, as graded (the total's included), in each language.
    failed_id: list[str] = field(default_factory=list)
    failed_en: list[str] = field(default_factory=list)
    # The session's zone: the slip's times read as the candidate lived them (WIB/WITA/WIT).
    time_zone: str = "Asia/Jakarta"

    @property
    def reasons_id(self) -> list[str]:
        return list(self.failed_id)

    @property
    def reasons_en(self) -> list[str]:
        return list(self.failed_en)

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["submitted_at"] = self.submitted_at.isoformat() if self.submitted_at else None
        data["graded_at"] = self.graded_at.isoformat()
        data["reasons_id"] = self.reasons_id
        data["reasons_en"] = self.reasons_en
        return data


def fmt(value: float | None) -> str:
    """Points as people write them: 75, 162.5; never 75.0."""
    return "" if value is None else f"{value:g}"


def normalise_code(raw: str) -> str | None:
    """A verification code in canonical form (``ABCDE-12345-...``), or None if malformed.

    People type codes off paper: spaces, lower case and missing dashes are forgiven.
    """
    compact = re.sub(r"[\s-]", "", raw or "").upper()
    if not _CODE_CHARS.match(compact):
        return None
    return "-".join(compact[i : i + CODE_GROUP_LEN] for i in range(0, len(compact), CODE_GROUP_LEN))


def is_released(mode: str, release_at: dt.datetime | None, now: dt.datetime) -> bool:
    """Whether candidates (and ``/verify``) may see results of an exam released this way."""
    if mode == "immediate":
        return True
    if mode == "after":
        return release_at is not None and now >= release_at
    return False


def describe_rule(scoring: dict[str, Any] | None) -> tuple[str, str]:
    """A section's scoring model in words, both languages."""
    cfg = scoring or {}
    model = cfg.get("model", "right_wrong")
    right = fmt(float(cfg.get("points_correct", 5.0)))
    wrong = fmt(float(cfg.get("points_wrong", 0.0)))
    blank = fmt(float(cfg.get("points_blank", 0.0)))
    if model == "weighted":
        return (
            "Setiap pilihan berbobot (mis. 1-5); kosong 0",
            "Every option carries a weight (e.g. 1-5); blank 0",
        )
    if model == "map_response":
        return (
            f"Skor per pilihan (QTI map_response), maksimal {right} per soal",
            f"Per-option scores (QTI map_response), at most {right} per item",
        )
    return (
        f"Benar {right}, salah {wrong}, kosong {blank}",
        f"Correct {right}, wrong {wrong}, blank {blank}",
    )


def slip_sections(
    stored: list[dict[str, Any]], scoring_by_code: dict[str, dict[str, Any]]
) -> list[SlipSection]:
    """``results.sections`` as grading wrote them, with each section's rule in words.

    The rule is the one stored at grading time; ``scoring_by_code`` (the exam as it reads
    now) only fills in for results graded before rules were stored with them.
    """
    out = []
    for s in stored:
        rule_id, rule_en = describe_rule(s.get("scoring") or scoring_by_code.get(s["code"]))
        out.append(
            SlipSection(
                code=s["code"],
                name=s.get("name", s["code"]),
                points=float(s["points"]),
                max_points=float(s["max_points"]),
                correct=int(s.get("correct", 0)),
                wrong=int(s.get("wrong", 0)),
                blank=int(s.get("blank", 0)),
                pass_mark=s.get("pass_mark"),
                passed=s.get("passed"),
                rule_id=rule_id,
                rule_en=rule_en,
                reason_id=s.get("reason_id"),
                reason_en=s.get("reason_en"),
            )
        )
    return out
