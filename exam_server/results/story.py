"""The story of one attempt, told from what was recorded (pure: facts in, lines out).

Two views answer a complaint (docs/results.md, "The story of an attempt"):

* the **timeline**: every change as the server received it (which question, the option
  as the candidate saw it and as the bank letters it, durable), every connection and
  device, pauses, extensions, the submit and who caused it, grading and re-grading;
* the **answer sheet**: the candidate's own question and option order, their choice and
  the key, side by side, in both letterings.

Options are shuffled per candidate: the letter on the candidate's screen is the position
of the option in their ``option_orders`` row, while the answer log, the key and the item
analysis use the bank's option ids. ``shown_letter``/``bank_id`` convert between the two.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def shown_letter(order: Sequence[str], bank_option: str) -> str:
    """The letter the candidate saw for ``bank_option`` (their screen letters by position)."""
    return LETTERS[list(order).index(bank_option)]


def bank_id(order: Sequence[str], letter: str) -> str:
    """The bank's option id behind the letter ``letter`` on the candidate's screen."""
    return list(order)[LETTERS.index(letter)]


def _choices(value: Any) -> tuple[str, ...]:
    if value is None or value == "" or value == []:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(str(v) for v in value)


@dataclass(frozen=True, slots=True)
class SheetOption:
    shown: str  # letter on the candidate's screen
    bank: str  # the bank's option id
    html: str
    score: float
    chosen: bool
    key: bool  # earns the most points this question gives


@dataclass(frozen=True, slots=True)
class SheetRow:
    number: int  # 1-based, as the candidate saw it
    section: str
    question_id: int
    stem_html: str
    options: tuple[SheetOption, ...]
    chosen_shown: tuple[str, ...]
    chosen_bank: tuple[str, ...]
    key_shown: tuple[str, ...]
    key_bank: tuple[str, ...]
    weighted: bool
    points: float | None  # as graded; None before grading
    correct: bool | None


def answer_sheet(
    question_ids: Sequence[int],
    option_orders: Sequence[Sequence[str]],
    sections: Sequence[Mapping[str, Any]],
    questions: Mapping[int, Mapping[str, Any]],
    answers: Mapping[int, Any],
    graded: Mapping[int, tuple[float, bool | None]] | None = None,
) -> list[SheetRow]:
    """The paper in the candidate's order with their final answers and the key.

    ``questions`` maps question id to ``{"stem_html", "options": [{"id", "html", "score"}],
    "weighted"}`` as the bank holds it now (after any key correction); ``answers`` maps a
    paper position to the final choice in bank ids; ``graded`` maps a position to
    (points, correct) as the result stored them.
    """
    graded = graded or {}
    rows: list[SheetRow] = []
    for q, (qid, order) in enumerate(zip(question_ids, option_orders, strict=True)):
        question = questions[qid]
        by_id = {str(o["id"]): o for o in question["options"]}
        best = max((float(o.get("score") or 0) for o in question["options"]), default=0.0)
        chosen = _choices(answers.get(q))
        options = tuple(
            SheetOption(
                shown=LETTERS[i],
                bank=oid,
                html=str(by_id[oid].get("html", "")),
                score=float(by_id[oid].get("score") or 0),
                chosen=oid in chosen,
                key=best > 0 and float(by_id[oid].get("score") or 0) == best,
            )
            for i, oid in enumerate(order)
        )
        section = next(
            (str(s["code"]) for s in sections if s["start"] <= q < s["start"] + s["count"]), ""
        )
        points, correct = graded.get(q, (None, None))
        rows.append(
            SheetRow(
                number=q + 1,
                section=section,
                question_id=qid,
                stem_html=str(question.get("stem_html", "")),
                options=options,
                chosen_shown=tuple(o.shown for o in options if o.chosen),
                chosen_bank=tuple(o.bank for o in options if o.chosen),
                key_shown=tuple(o.shown for o in options if o.key),
                key_bank=tuple(o.bank for o in options if o.key),
                weighted=bool(question.get("weighted")),
                points=points,
                correct=correct,
            )
        )
    return rows


# -- the timeline --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LogRow:
    """One row of the answer log (durable by being there)."""

    seq: int
    kind: str  # answer | doubt | submit
    q: int | None
    value: Any
    device: str
    saved_at: dt.datetime


@dataclass(frozen=True, slots=True)
class EventRow:
    """One row of ``attempt_events``."""

    at: dt.datetime
    kind: str
    device: str
    detail: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AuditRow:
    at: dt.datetime
    username: str
    action: str
    old: Any
    new: Any
    reason: str


@dataclass(frozen=True, slots=True)
class Line:
    at: dt.datetime
    kind: str
    id_text: str
    en_text: str
    device: str = ""
    who: str = ""

    def text(self, lang: str) -> str:
        return self.en_text if lang == "en" else self.id_text


def _letters(order: Sequence[str], value: Any) -> tuple[str, str]:
    bank = _choices(value)
    shown = tuple(shown_letter(order, b) if b in order else "?" for b in bank)
    return ", ".join(shown), ", ".join(bank)


def _answer_line(row: LogRow, orders: Sequence[Sequence[str]], section: str) -> Line:
    q = row.q if row.q is not None else -1
    where_id, where_en = f"Soal {q + 1}", f"Question {q + 1}"
    if section:
        where_id, where_en = f"{where_id} ({section})", f"{where_en} ({section})"
    tail_id = f" · seq {row.seq} · diterima server, tersimpan permanen"
    tail_en = f" · seq {row.seq} · received by the server, durable"
    if row.kind == "doubt":
        on = bool(row.value)
        return Line(
            row.saved_at,
            "doubt",
            f"{where_id}: ragu-ragu {'dinyalakan' if on else 'dimatikan'}{tail_id}",
            f"{where_en}: doubt flag {'on' if on else 'off'}{tail_en}",
            row.device,
        )
    if not _choices(row.value):
        return Line(
            row.saved_at,
            "answer",
            f"{where_id}: jawaban dikosongkan{tail_id}",
            f"{where_en}: answer cleared{tail_en}",
            row.device,
        )
    order = orders[q] if 0 <= q < len(orders) else ()
    shown, bank = _letters(order, row.value)
    return Line(
        row.saved_at,
        "answer",
        f"{where_id}: memilih {shown} di layar peserta = {bank} di bank soal{tail_id}",
        f"{where_en}: chose {shown} on the candidate's screen = {bank} in the bank{tail_en}",
        row.device,
    )


# Times are kept to the millisecond: within one, a connection's changes come after it
# opened and before it closed or was taken over (not in the order the lines were listed).
_SAME_MOMENT = {"connect": 0, "disconnect": 2, "replaced": 2}


_CLOCK_TEXT = {
    "pause": ("Ujian dijeda", "Exam paused"),
    "resume": ("Ujian dilanjutkan", "Exam resumed"),
    "connect": ("Tersambung", "Connected"),
    "disconnect": ("Sambungan terputus", "Disconnected"),
    "replaced": ("Diambil alih perangkat/tab lain", "Taken over by another device/tab"),
}


def _event_line(event: EventRow, previous_device: str | None) -> Line:
    d = event.detail
    if event.kind == "extend":
        minutes = round(int(d.get("extra_ms", 0)) / 60000)
        return Line(
            event.at,
            "extend",
            f"Waktu ditambah {minutes} menit",
            f"Time extended by {minutes} minutes",
        )
    if event.kind == "close":
        reason = str(d.get("reason", ""))
        if reason == "deadline":
            return Line(
                event.at, "close", "Ditutup server: waktu habis", "Closed by the server: time over"
            )
        return Line(event.at, "close", f"Ditutup: {reason}", f"Closed: {reason}")
    id_text, en_text = _CLOCK_TEXT.get(event.kind, (event.kind, event.kind))
    if event.kind == "connect":
        where = " · ".join(str(d[k]) for k in ("ip", "ua") if d.get(k))
        id_text += f" dari perangkat {event.device or '?'}" + (f" ({where})" if where else "")
        en_text += f" from device {event.device or '?'}" + (f" ({where})" if where else "")
        if previous_device is not None and event.device != previous_device:
            id_text += f" — PERANGKAT BERGANTI dari {previous_device or '?'}"
            en_text += f" — DEVICE CHANGED from {previous_device or '?'}"
    return Line(event.at, event.kind, id_text, en_text, event.device)


def _audit_line(row: AuditRow) -> Line | None:
    new = row.new if isinstance(row.new, Mapping) else {}
    old = row.old if isinstance(row.old, Mapping) else {}
    why_id = f" · alasan: {row.reason}" if row.reason else ""
    why_en = f" · reason: {row.reason}" if row.reason else ""
    if row.action == "result.regrade":
        return Line(
            row.at,
            "regrade",
            f"Dinilai ulang oleh {row.username}: total {old.get('total')} → {new.get('total')}",
            f"Re-graded by {row.username}: total {old.get('total')} → {new.get('total')}",
            who=row.username,
        )
    if row.action == "proctor.extend":
        return Line(
            row.at,
            "staff",
            f"Pengawas {row.username} menambah waktu {new.get('minutes')} menit{why_id}",
            f"Proctor {row.username} added {new.get('minutes')} minutes{why_en}",
            who=row.username,
        )
    if row.action in ("proctor.pause", "proctor.resume"):
        verb_id = "menjeda" if row.action == "proctor.pause" else "melanjutkan"
        verb_en = "paused" if row.action == "proctor.pause" else "resumed"
        return Line(
            row.at,
            "staff",
            f"Pengawas {row.username} {verb_id} sesi{why_id}",
            f"Proctor {row.username} {verb_en} the session{why_en}",
            who=row.username,
        )
    return None


@dataclass(frozen=True, slots=True)
class AttemptFacts:
    created_at: dt.datetime
    starts_at: dt.datetime
    deadline_at: dt.datetime
    submitted_at: dt.datetime | None
    submit_reason: str | None
    option_orders: Sequence[Sequence[str]]
    sections: Sequence[Mapping[str, Any]]
    graded_at: dt.datetime | None = None
    total: float | None = None
    passed: bool | None = None
    stale_reason: str | None = None
    # Minutes the server recorded as lost to its own failure (docs/operations.md).
    outages: Sequence[OutageRow] = ()


@dataclass(frozen=True, slots=True)
class OutageRow:
    started_at: dt.datetime
    ended_at: dt.datetime
    cause: str  # "redis" | "postgres" | "worker"
    lost_ms: int
    given_back_at: dt.datetime | None
    given_back_by: str | None


def _section_of(sections: Sequence[Mapping[str, Any]], q: int | None) -> str:
    if q is None:
        return ""
    return next((str(s["code"]) for s in sections if s["start"] <= q < s["start"] + s["count"]), "")


def timeline(
    facts: AttemptFacts,
    log: Sequence[LogRow],
    events: Sequence[EventRow],
    audit: Sequence[AuditRow] = (),
) -> list[Line]:
    """Every recorded event of the attempt, oldest first (stable for equal times)."""
    lines: list[Line] = [
        Line(
            facts.created_at,
            "start",
            "Lembar jawaban dibuat (login pertama)",
            "Paper created (first login)",
        ),
    ]
    device: str | None = None
    for event in sorted(events, key=lambda e: e.at):
        lines.append(_event_line(event, device))
        if event.kind == "connect":
            device = event.device
    for row in log:
        if row.kind == "submit":
            lines.append(
                Line(
                    row.saved_at,
                    "submit",
                    f"Dikumpulkan oleh peserta · seq {row.seq} · tersimpan permanen",
                    f"Submitted by the candidate · seq {row.seq} · durable",
                    row.device,
                    who="candidate",
                )
            )
        else:
            lines.append(_answer_line(row, facts.option_orders, _section_of(facts.sections, row.q)))
    has_submit = any(r.kind == "submit" for r in log)
    has_close = any(e.kind == "close" for e in events)
    if facts.submitted_at is not None and not has_submit and not has_close:
        if facts.submit_reason == "deadline":
            lines.append(
                Line(
                    facts.submitted_at,
                    "close",
                    "Ditutup server: waktu habis",
                    "Closed by the server: time over",
                )
            )
        else:
            who = facts.submit_reason or "?"
            lines.append(
                Line(facts.submitted_at, "submit", f"Dikumpulkan ({who})", f"Submitted ({who})")
            )
    for outage in facts.outages:
        minutes = round(outage.lost_ms / 60000, 1)
        given_id = given_en = ""
        if outage.given_back_at is not None:
            given_id = f"; dikembalikan oleh {outage.given_back_by or '?'}"
            given_en = f"; given back by {outage.given_back_by or '?'}"
        lines.append(
            Line(
                outage.started_at,
                "outage",
                f"Gangguan server ({outage.cause}) tercatat: {minutes} menit{given_id}",
                f"Server outage ({outage.cause}) recorded: {minutes} minutes{given_en}",
            )
        )
    for entry in audit:
        noted = _audit_line(entry)
        if noted is not None:
            lines.append(noted)
    if facts.graded_at is not None:
        verdict_id = {True: "lulus", False: "tidak lulus"}.get(facts.passed, "-")  # type: ignore[arg-type]
        verdict_en = {True: "passed", False: "not passed"}.get(facts.passed, "-")  # type: ignore[arg-type]
        lines.append(
            Line(
                facts.graded_at,
                "graded",
                f"Dinilai: total {facts.total}, {verdict_id}",
                f"Graded: total {facts.total}, {verdict_en}",
            )
        )
    if facts.stale_reason:
        lines.append(
            Line(
                facts.graded_at or facts.deadline_at,
                "stale",
                f"Aturan penilaian berubah, menunggu nilai ulang: {facts.stale_reason}",
                f"Scoring rules changed, awaiting re-grade: {facts.stale_reason}",
            )
        )
    return sorted(lines, key=lambda line: (line.at, _SAME_MOMENT.get(line.kind, 1)))
