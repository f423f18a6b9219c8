"""Reading the exam and section forms into checked values: pure, no database."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from exam_server.display import LOCAL_TZ
from exam_server.refusal import Refusal

SCORING_MODELS = ("right_wrong", "negative", "weighted", "map_response")
RELEASES = ("immediate", "never", "after")
CODE = re.compile(r"^[A-Za-z0-9._-]{1,40}$")
T = TypeVar("T")


class FormError(Refusal):
    """What is wrong with a form: one problem, or every problem found (``parts``), so the
    page lists them all at once rather than one per submit."""

    def __init__(self, id_text: str, en_text: str) -> None:
        super().__init__(id_text, en_text)
        self.parts: list[tuple[str, str]] = [(id_text, en_text)]

    @classmethod
    def joined(cls, errors: Sequence[FormError]) -> FormError:
        parts = [part for error in errors for part in error.parts]
        combined = cls("\n".join(p[0] for p in parts), "\n".join(p[1] for p in parts))
        combined.parts = parts
        return combined


class Problems:
    """Collects the problems of a form while every field is still read."""

    def __init__(self) -> None:
        self.found: list[FormError] = []

    def take(self, check: Callable[[], T]) -> T | None:
        try:
            return check()
        except FormError as exc:
            self.found.append(exc)
            return None

    def add(self, id_text: str, en_text: str) -> None:
        self.found.append(FormError(id_text, en_text))

    def done(self) -> None:
        if self.found:
            raise FormError.joined(self.found)


def _str(form: Mapping[str, Any], key: str) -> str:
    return str(form.get(key, "") or "").strip()


def _number(
    form: Mapping[str, Any],
    key: str,
    label: tuple[str, str],
    *,
    low: float | None = None,
    whole: bool = False,
    required: bool = False,
) -> float | None:
    raw = _str(form, key).replace(",", ".")
    if raw == "":
        if required:
            raise FormError(f"{label[0]} wajib diisi.", f"{label[1]} is required.")
        return None
    try:
        value = float(raw)
    except ValueError:
        raise FormError(f"{label[0]} harus angka.", f"{label[1]} must be a number.") from None
    if whole and not value.is_integer():
        raise FormError(f"{label[0]} harus bilangan bulat.", f"{label[1]} must be a whole number.")
    if low is not None and value < low:
        raise FormError(f"{label[0]} minimal {low:g}.", f"{label[1]} must be at least {low:g}.")
    return value


def local_datetime(date_text: str, time_text: str, zone: str | None = None) -> dt.datetime:
    """A date and time as read in ``zone`` (default WIB), in UTC."""
    tz = ZoneInfo(zone) if zone else LOCAL_TZ
    try:
        naive = dt.datetime.strptime(f"{date_text} {time_text}", "%Y-%m-%d %H:%M")
    except ValueError:
        raise FormError(
            "Tanggal/jam tidak valid (TTTT-BB-HH dan JJ:MM).",
            "Invalid date/time (YYYY-MM-DD and HH:MM).",
        ) from None
    return naive.replace(tzinfo=tz).astimezone(dt.UTC)


@dataclass(frozen=True)
class ExamValues:
    code: str
    title: str
    shared_minutes: int | None
    results_release: str
    release_at: dt.datetime | None
    total_pass_mark: float | None
    shuffle_questions: bool
    shuffle_options: bool
    rules_id: str
    rules_en: str
    # Candidates may see their own answer sheet once results are released (issue 15).
    show_answer_sheet: bool = False


def exam_values(form: Mapping[str, Any]) -> ExamValues:
    problems = Problems()
    code, title = _str(form, "code"), _str(form, "title")
    if not CODE.match(code):
        problems.add(
            "Kode ujian 1-40 huruf/angka tanpa spasi.",
            "The exam code is 1-40 letters or digits, no spaces.",
        )
    if not title or len(title) > 200:
        problems.add("Judul wajib diisi (maks. 200).", "A title is required (max. 200).")
    minutes = problems.take(
        lambda: _number(
            form, "shared_minutes", ("Durasi bersama", "Shared duration"), low=1, whole=True
        )
    )
    release = _str(form, "results_release") or "immediate"
    if release not in RELEASES:
        problems.add("Pilihan hasil tidak dikenal.", "Unknown results release.")
    release_at = None
    if release == "after":
        if not _str(form, "release_date") or not _str(form, "release_time"):
            problems.add(
                "Isi tanggal dan jam pengumuman hasil.",
                "Fill in the date and time results are released.",
            )
        else:
            release_at = problems.take(
                lambda: local_datetime(_str(form, "release_date"), _str(form, "release_time"))
            )
    pass_mark = problems.take(
        lambda: _number(form, "total_pass_mark", ("Nilai lulus total", "Total pass mark"), low=0)
    )
    problems.done()
    return ExamValues(
        code=code,
        title=title,
        shared_minutes=None if minutes is None else int(minutes),
        results_release=release,
        release_at=release_at,
        total_pass_mark=pass_mark,
        shuffle_questions=form.get("shuffle_questions") == "1",
        shuffle_options=form.get("shuffle_options") == "1",
        rules_id=_str(form, "rules_id"),
        rules_en=_str(form, "rules_en"),
        show_answer_sheet=form.get("show_answer_sheet") == "1",
    )


@dataclass(frozen=True)
class SectionValues:
    code: str
    name: str
    question_count: int
    minutes: int | None
    scoring: dict[str, Any]
    pass_mark: float | None
    draw: str = "pool"
    balance_difficulty: bool = False
    category_quota: list[list[Any]] = field(default_factory=list)


DRAWS = {
    "pool": ("Soal pada kumpulan, berurutan", "The pool's questions, in order"),
    "same": ("Undian acak, sama untuk semua peserta", "A random draw, the same for everybody"),
    "per_candidate": ("Undian acak per peserta", "A random draw per candidate"),
}


def category_quota(text: str, count: int) -> list[list[Any]]:
    """'Pancasila=10; UUD 1945=5' as [["Pancasila", 10], ["UUD 1945", 5]]."""
    quota: list[list[Any]] = []
    for part in (p.strip() for p in re.split(r"[;\n]", text)):
        if not part:
            continue
        name, _, number = part.rpartition("=")
        if not name.strip() or not number.strip().isdigit() or int(number) < 1:
            raise FormError(
                f"Kuota kategori '{part}' harus berbentuk Kategori=jumlah.",
                f"The category quota '{part}' must read Category=count.",
            )
        quota.append([name.strip(), int(number)])
    if sum(n for _, n in quota) > count:
        raise FormError(
            "Jumlah kuota kategori melebihi jumlah soal bagian.",
            "The category quotas add up to more than the section's question count.",
        )
    return quota


def section_values(form: Mapping[str, Any], shared_clock: bool) -> SectionValues:
    problems = Problems()
    code, name = _str(form, "code").upper(), _str(form, "name")
    if not CODE.match(code):
        problems.add("Kode bagian 1-40 huruf/angka.", "The section code is 1-40 letters/digits.")
    if not name:
        problems.add("Nama bagian wajib diisi.", "A section name is required.")
    count = problems.take(
        lambda: _number(
            form,
            "question_count",
            ("Jumlah soal", "Question count"),
            low=1,
            whole=True,
            required=True,
        )
    )
    minutes = problems.take(
        lambda: _number(form, "minutes", ("Durasi bagian", "Section duration"), low=1, whole=True)
    )
    if not shared_clock and minutes is None and _str(form, "minutes") == "":
        problems.add(
            "Ujian tanpa durasi bersama: isi durasi setiap bagian.",
            "The exam has no shared duration: give each section its minutes.",
        )
    model = _str(form, "model") or "right_wrong"
    if model not in SCORING_MODELS:
        problems.add("Model penilaian tidak dikenal.", "Unknown scoring model.")
    scoring: dict[str, Any] = {"model": model}
    if model in ("right_wrong", "negative"):
        for key, label, default in (
            ("points_correct", ("Poin benar", "Points for right"), 5.0),
            ("points_wrong", ("Poin salah", "Points for wrong"), 0.0),
            ("points_blank", ("Poin kosong", "Points for blank"), 0.0),
        ):
            value = problems.take(lambda key=key, label=label: _number(form, key, label))  # type: ignore[misc]
            scoring[key] = default if value is None else value
        if model == "right_wrong" and scoring["points_wrong"] < 0:
            problems.add(
                "Poin salah negatif: pilih model 'negative'.",
                "Negative points for wrong: choose the 'negative' model.",
            )
    pass_mark = problems.take(
        lambda: _number(form, "pass_mark", ("Nilai ambang", "Pass mark"), low=0)
    )
    draw = _str(form, "draw") or "pool"
    if draw not in DRAWS:
        problems.add("Cara pengambilan soal tidak dikenal.", "Unknown way of drawing questions.")
    quota = (
        problems.take(lambda: category_quota(_str(form, "category_quota"), int(count or 0))) or []
    )
    if draw == "pool" and (quota or form.get("balance_difficulty") == "1"):
        problems.add(
            "Kuota kategori dan sebaran kesulitan berlaku untuk undian acak saja.",
            "Category quotas and difficulty balance apply to a random draw only.",
        )
    problems.done()
    return SectionValues(
        code,
        name,
        int(count or 0),
        None if minutes is None else int(minutes),
        scoring,
        pass_mark,
        draw=draw,
        balance_difficulty=form.get("balance_difficulty") == "1",
        category_quota=quota,
    )


def _field(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def exam_form(exam: Any) -> dict[str, str]:
    """An exam's current values as the exam form's fields: change some, read it back."""
    form = {
        key: _field(getattr(exam, key))
        for key in (
            "code",
            "title",
            "shared_minutes",
            "results_release",
            "total_pass_mark",
            "shuffle_questions",
            "shuffle_options",
            "rules_id",
            "rules_en",
            "show_answer_sheet",
        )
    }
    if exam.release_at is not None:
        local = exam.release_at.astimezone(LOCAL_TZ)
        form.update(release_date=f"{local:%Y-%m-%d}", release_time=f"{local:%H:%M}")
    return form


def section_form(section: Any) -> dict[str, str]:
    """A section's current values as the section form's fields."""
    form = {
        key: _field(getattr(section, key))
        for key in (
            "code",
            "name",
            "question_count",
            "minutes",
            "pass_mark",
            "draw",
            "balance_difficulty",
        )
    }
    scoring = dict(section.scoring or {})
    form["model"] = str(scoring.get("model", "right_wrong"))
    for key in ("points_correct", "points_wrong", "points_blank"):
        if key in scoring:
            form[key] = _field(scoring[key])
    form["category_quota"] = "; ".join(f"{name}={n}" for name, n in section.category_quota or [])
    return form
