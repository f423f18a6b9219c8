"""The rest of the interventions, in-process on real PostgreSQL and Redis: disqualify (on
the result), reopen (admin), clear a lockout, end the session, and the two-device flag."""

from __future__ import annotations

import time

from sqlalchemy import select
from sqlalchemy.orm import Session

from exam_server.db.models import Attempt, Candidate, ExamSession, Result
from exam_server.db.staff_models import AuditEntry
from exam_server.delivery import presence
from exam_server.delivery.checkpoint import attempt_key
from exam_server.delivery.writebehind import WriteBehind
from exam_server.grading.grade import result_message

JSON = {"Accept": "application/json"}


async def login(client, cred) -> int:  # type: ignore[no-untyped-def]
    resp = await client.http.post(
        "/api/v1/candidate/login",
        json={"participant_no": cred.participant_no, "password": cred.password},
    )
    return resp.status_code  # type: ignore[no-any-return]


def ids(db_engine, room) -> tuple[dict[str, int], dict[str, int]]:  # type: ignore[no-untyped-def]
    numbers = [c.participant_no for c in room.creds]
    with Session(db_engine) as db:
        cands = dict(
            db.execute(
                select(Candidate.participant_no, Candidate.id).where(
                    Candidate.participant_no.in_(numbers)
                )
            ).all()
        )
        attempts = dict(
            db.execute(
                select(Candidate.participant_no, Attempt.id)
                .join(Attempt, Attempt.candidate_id == Candidate.id)
                .where(Attempt.session_id == room.session_id)
            ).all()
        )
    return cands, attempts  # type: ignore[return-value]


async def act(client, room, **form) -> dict:  # type: ignore[no-untyped-def]
    resp = await client.post(
        f"/panitia/pengawas/{room.session_id}/aksi",
        {**{k: str(v) for k, v in form.items()}, "confirm": "1"},
        headers=JSON,
    )
    assert resp.status_code == 200, resp.text
    return resp.json()  # type: ignore[no-any-return]


async def settle(services) -> None:  # type: ignore[no-untyped-def]
    """One write-behind pass and one grading pass, as a worker's background tasks would."""
    wb = WriteBehind(services)
    await wb.flush_once()
    await wb.grade_pending()


async def test_a_disqualification_is_recorded_submits_and_shows_on_the_result(
    admin, room, db_engine, services
) -> None:  # type: ignore[no-untyped-def]
    cred = room.creds[0]
    assert await login(admin, cred) == 200
    cands, attempts = ids(db_engine, room)
    await services.restore_checkpoint(attempts[cred.participant_no])
    await act(
        admin,
        room,
        action="disqualify",
        ids=cands[cred.participant_no],
        reason="Membawa catatan ke ruang ujian",
    )
    assert await services.redis.hget(attempt_key(attempts[cred.participant_no]), "submitted") == "1"
    await settle(services)
    with Session(db_engine) as db:
        attempt = db.get(Attempt, attempts[cred.participant_no])
        assert attempt.disqualified_reason == "Membawa catatan ke ruang ujian"
        assert attempt.status == "submitted" and attempt.submit_reason == "disqualified"
        result = db.get(Result, attempt.id)
        assert result is not None and result.passed is False
        assert "Membawa catatan" in result.failed_rules[0]["id"]
        shown = result_message(result)  # what the candidate's result page and slip read
        assert shown["passed"] is False
        assert (
            shown["reasons_id"][0]
            == "Didiskualifikasi oleh pengawas: Membawa catatan ke ruang ujian"
        )
    data = (await admin.get(f"/panitia/pengawas/{room.session_id}/data")).json()
    row = next(r for r in data["rows"] if r["no"] == cred.participant_no)
    assert row["st"] == "submitted" and "disqualified" in row["flags"]


async def test_an_admin_reopens_a_submission_made_by_mistake_and_the_candidate_goes_on(
    admin, room, db_engine, services
) -> None:  # type: ignore[no-untyped-def]
    cred = room.creds[1]
    assert await login(admin, cred) == 200
    cands, attempts = ids(db_engine, room)
    attempt_id = attempts[cred.participant_no]
    await services.restore_checkpoint(attempt_id)
    await act(admin, room, action="submit", ids=cands[cred.participant_no], reason="Salah tekan")
    await settle(services)
    assert await login(admin, cred) == 409  # already_submitted
    await act(
        admin,
        room,
        action="reopen",
        ids=cands[cred.participant_no],
        minutes=15,
        reason="Peserta salah tekan Selesai",
    )
    h = await services.redis.hgetall(attempt_key(attempt_id))
    assert h["submitted"] == "0"
    assert abs(int(h["deadline_ms"]) - (time.time() * 1000 + 15 * 60_000)) < 10_000
    with Session(db_engine) as db:
        attempt = db.get(Attempt, attempt_id)
        assert attempt.status == "running" and db.get(Result, attempt_id) is None
    assert await login(admin, cred) == 200


async def test_a_lockout_shows_on_the_row_and_a_proctor_clears_it(
    admin, room, db_engine, services
) -> None:  # type: ignore[no-untyped-def]
    cred = room.creds[2]
    cands, _ = ids(db_engine, room)
    for _ in range(services.settings.login_pair_failures):
        resp = await admin.http.post(
            "/api/v1/candidate/login",
            json={"participant_no": cred.participant_no, "password": "salah"},
        )
        assert resp.status_code == 401
    assert await login(admin, cred) == 429
    data = (await admin.get(f"/panitia/pengawas/{room.session_id}/data")).json()
    row = next(r for r in data["rows"] if r["no"] == cred.participant_no)
    assert row["locked"] and "locked" in row["flags"]
    done = await act(
        admin,
        room,
        action="unlock",
        ids=cands[cred.participant_no],
        reason="Peserta lupa sandi, sudah dicek KTP",
    )
    assert "1 peserta" in done["message"]
    assert await login(admin, cred) == 200
    with Session(db_engine) as db:
        entry = db.scalars(
            select(AuditEntry).where(
                AuditEntry.action == "proctor.unlock", AuditEntry.entity_id == str(room.session_id)
            )
        ).one()
    assert entry.reason and entry.new["failures_cleared"] == {cred.participant_no: 10}


async def test_ending_the_session_submits_everyone_and_closes_the_door(
    admin, room, db_engine, services
) -> None:  # type: ignore[no-untyped-def]
    first, _second, late = room.creds
    assert await login(admin, first) == 200
    _, attempts = ids(db_engine, room)
    await services.restore_checkpoint(attempts[first.participant_no])
    done = await act(admin, room, action="end", reason="Waktu sesi habis")
    assert "1 peserta" in done["message"]
    assert (
        await services.redis.hget(attempt_key(attempts[first.participant_no]), "submitted") == "1"
    )
    assert await login(admin, late) == 403  # not_scheduled_now
    with Session(db_engine) as db:
        session = db.get(ExamSession, room.session_id)
        assert session.ends_at.timestamp() <= time.time()


async def test_a_second_phone_while_the_first_is_connected_is_flagged(
    admin, room, db_engine, services
) -> None:  # type: ignore[no-untyped-def]
    cred = room.creds[0]
    assert await login(admin, cred) == 200
    _, attempts = ids(db_engine, room)
    attempt_id = attempts[cred.participant_no]
    await services.restore_checkpoint(attempt_id)
    now = presence.now_ms()
    await presence.hello(services.redis, room.session_id, attempt_id, "c1", "hp-a", now)
    await presence.hello(services.redis, room.session_id, attempt_id, "c2", "hp-b", now + 500)
    data = (await admin.get(f"/panitia/pengawas/{room.session_id}/data")).json()
    row = next(r for r in data["rows"] if r["no"] == cred.participant_no)
    assert "two_devices" in row["flags"] and row["device"] == "hp-b" and row["devices"] == 1
    # A phone that died first and was replaced later is a device change, not two at once.
    await presence.bye(services.redis, room.session_id, attempt_id, "c2", now + 600)
    await presence.hello(services.redis, room.session_id, attempt_id, "c3", "hp-c", now + 20_000)
    h = await services.redis.hgetall(presence.live_key(attempt_id))
    assert h["takeovers"] == "1" and h["devices"] == "2"
