"""One proctor action from a form: checked (confirmation, reason, targets), done, audited.

``read_action`` is pure: form in, ``Action`` or ``ActionError`` (both languages) out.
``perform`` does it through ``exam_server.proctor.interventions`` and writes one audit
entry naming the session, the candidates, the reason and what changed (the berita acara
reads these entries back as the room's incident log).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from exam_server.db.audit import Actor, record
from exam_server.db.models import ExamSession
from exam_server.delivery.services import Services
from exam_server.proctor import interventions as iv
from exam_server.proctor import lockouts
from exam_server.proctor.room import Seat

# action -> (Bahasa Indonesia, English): what the proctor chose, as the log and papers say it.
ACTIONS: dict[str, tuple[str, str]] = {
    "pause": ("Jeda", "Pause"),
    "resume": ("Lanjutkan", "Resume"),
    "extend": ("Tambah waktu", "Add time"),
    "outage": ("Kembalikan waktu gangguan", "Give back outage time"),
    "device": ("Reset perangkat", "Reset device"),
    "unlock": ("Buka kunci login", "Clear login lockout"),
    "submit": ("Kumpulkan paksa", "Force submit"),
    "reopen": ("Buka kembali", "Reopen"),
    "disqualify": ("Diskualifikasi", "Disqualify"),
    "notice": ("Pengumuman", "Notice"),
    "end": ("Akhiri sesi", "End the session"),
}
# Actions that need a started attempt; the rest work on anyone seated.
NEEDS_ATTEMPT = {
    "pause",
    "resume",
    "extend",
    "outage",
    "device",
    "submit",
    "reopen",
    "disqualify",
    "notice",
}
ONE_ONLY = {"reopen", "disqualify"}
ADMIN_ONLY = {"reopen"}


class ActionError(Exception):
    def __init__(self, id_text: str, en_text: str, status: int = 400) -> None:
        super().__init__(en_text)
        self.id_text, self.en_text, self.status = id_text, en_text, status


@dataclass(frozen=True)
class Action:
    kind: str
    everyone: bool
    candidate_ids: tuple[int, ...]
    reason: str
    minutes: int = 0
    message: str = ""


def _ids(values: Sequence[str]) -> tuple[int, ...]:
    out: list[int] = []
    for value in values:
        for part in str(value).replace(",", " ").split():
            if not part.isdigit():
                raise ActionError("Pilihan peserta tidak sah.", "Invalid candidate selection.")
            out.append(int(part))
    return tuple(dict.fromkeys(out))


def read_action(form: Mapping[str, Any], ids: Sequence[str], role: str) -> Action:
    kind = str(form.get("action", "")).strip()
    if kind not in ACTIONS:
        raise ActionError("Pilih tindakannya.", "Choose an action.")
    if kind in ADMIN_ONLY and role != "admin":
        raise ActionError(
            "Hanya admin yang boleh membuka kembali ujian yang sudah dikumpulkan.",
            "Only an admin may reopen a submitted test.",
            403,
        )
    message = str(form.get("message", "")).strip()[:500]
    reason = str(form.get("reason", "")).strip()[:500] or (message if kind == "notice" else "")
    if not reason:
        raise ActionError(
            "Tulis alasannya; alasan masuk log audit dan berita acara.",
            "Give a reason; it goes into the audit log and the report.",
        )
    if form.get("confirm") != "1":
        raise ActionError(
            "Centang konfirmasi dulu, lalu kirim lagi.",
            "Tick the confirmation first, then send again.",
        )
    minutes = 0
    if kind in ("extend", "reopen"):
        raw = str(form.get("minutes", "")).strip()
        minutes = int(raw) if raw.isdigit() else 0
        if not 1 <= minutes <= iv.MAX_MINUTES:
            raise ActionError(
                f"Isi menit antara 1 dan {iv.MAX_MINUTES}.",
                f"Give minutes between 1 and {iv.MAX_MINUTES}.",
            )
    if kind == "notice" and not message:
        raise ActionError("Tulis pengumumannya.", "Write the notice.")
    everyone = kind == "end" or (form.get("scope") == "all" and kind not in ONE_ONLY)
    chosen = () if everyone else _ids(ids)
    if not everyone and not chosen:
        raise ActionError(
            "Pilih peserta dulu (centang barisnya), atau pilih 'semua'.",
            "Select candidates first (tick their rows), or choose 'everyone'.",
        )
    if kind in ONE_ONLY and len(chosen) != 1:
        raise ActionError(
            "Tindakan ini untuk satu peserta saja.", "This action is for one candidate at a time."
        )
    return Action(kind, everyone, chosen, reason, minutes, message)


@dataclass
class Done:
    id_text: str
    en_text: str
    audit: dict[str, Any] = field(default_factory=dict)


def targets(action: Action, seats: Sequence[Seat]) -> tuple[list[Seat], list[Seat]]:
    """(who it applies to, who was chosen but has not started), or a refusal."""
    by_id = {s.candidate_id: s for s in seats}
    unknown = [i for i in action.candidate_ids if i not in by_id]
    if unknown:
        raise ActionError(
            "Peserta yang dipilih tidak terjadwal di sesi ini.",
            "A selected candidate is not seated in this session.",
            404,
        )
    chosen = list(seats) if action.everyone else [by_id[i] for i in action.candidate_ids]
    if action.kind not in NEEDS_ATTEMPT:
        return chosen, []
    started = [s for s in chosen if s.attempt_id is not None]
    absent = [s for s in chosen if s.attempt_id is None]
    if not started:
        names = ", ".join(s.participant_no for s in absent[:5])
        raise ActionError(
            f"{names} belum masuk ujian, jadi belum ada waktu yang berjalan untuk diubah. "
            "Tindakan ini berlaku setelah peserta masuk; tidak ada yang diubah.",
            f"{names} has not started the test yet, so there is no clock to change. "
            "This action applies once the candidate is in; nothing was changed.",
            409,
        )
    return started, absent


async def perform(
    services: Services, actor: Actor, session: ExamSession, action: Action, seats: Sequence[Seat]
) -> Done:
    chosen, absent = targets(action, seats)
    ids = [s.attempt_id for s in chosen if s.attempt_id is not None]
    number_of = {s.attempt_id: s.participant_no for s in chosen}
    kind = action.kind
    audit: dict[str, Any] = {}
    if kind == "pause":
        changed = await iv.pause(services, ids)
    elif kind == "resume":
        changed = await iv.resume(services, ids)
    elif kind == "extend":
        changed = await iv.extend_attempts(services, ids, action.minutes)
        audit["minutes"] = action.minutes
    elif kind == "outage":
        given = await iv.give_back_outages(services, ids, actor.username)
        changed = list(given)
        audit["given_back_ms"] = {number_of[a]: ms for a, ms in given.items()}
    elif kind == "device":
        changed = await iv.reset_device(services, ids)
    elif kind == "unlock":
        cleared = {
            s.participant_no: await lockouts.clear_lockout(services, s.participant_no)
            for s in chosen
        }
        audit["failures_cleared"] = cleared
        changed = [s.candidate_id for s in chosen]
        number_of = {s.candidate_id: s.participant_no for s in chosen}
    elif kind == "submit":
        changed = await iv.force_submit(services, ids)
    elif kind == "reopen":
        changed = ids if await iv.reopen(services, ids[0], action.minutes) else []
        audit["minutes"] = action.minutes
    elif kind == "disqualify":
        changed = (
            ids if await iv.disqualify(services, ids[0], action.reason, actor.username) else []
        )
    elif kind == "notice":
        await iv.notify(services, ids, action.message)
        changed = ids
        audit["message"] = action.message
    else:  # end
        changed = await iv.end_session(services, session.id)
    numbers = sorted(number_of.get(a, str(a)) for a in changed)
    audit.update(
        participant_nos=numbers,
        everyone=action.everyone,
        not_started=[s.participant_no for s in absent],
    )
    async with services.sessions() as db, db.begin():
        record(db, actor, f"proctor.{kind}", "session", session.id, new=audit, reason=action.reason)
    id_name, en_name = ACTIONS[kind]
    id_text = f"{id_name}: {len(changed)} peserta."
    en_text = f"{en_name}: {len(changed)} candidates."
    if absent:
        skipped = ", ".join(s.participant_no for s in absent[:10])
        id_text += f" {len(absent)} belum masuk, dilewati ({skipped})."
        en_text += f" {len(absent)} not started yet, skipped ({skipped})."
    if not changed and kind not in ("notice", "end"):
        id_text += " Tidak ada yang berubah (sudah dalam keadaan itu, atau sudah selesai)."
        en_text += " Nothing changed (already so, or already finished)."
    return Done(id_text, en_text, audit)
