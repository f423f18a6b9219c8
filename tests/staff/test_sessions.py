"""Sessions: scheduling, assignment by hand, by unit and spread by capacity, moves with a
reason, proctors who see only their sessions, and the rotating token."""

from __future__ import annotations

import secrets

import pytest
from sqlalchemy import func, select
from staff.support import (
    StaffClient,
    import_candidates,
    log_in,
    make_exam,
    make_session,
    make_staff,
    new_nik,
)

from exam_server.db.models import Candidate, ExamSession, SessionCandidate
from exam_server.db.staff_models import AuditEntry, StaffUser
from exam_server.delivery.credentials import session_token
from exam_server.staff.scheduling import Room, SchedulingError, plan_spread


def test_spreading_balances_sessions_and_respects_capacity() -> None:
    plan = plan_spread(list(range(10)), [Room(1, 3), Room(2, 10), Room(3, None)])
    assert [len(plan[i]) for i in (1, 2, 3)] == [3, 4, 3]
    assert sorted(c for ids in plan.values() for c in ids) == list(range(10))
    assert plan[1] == [0, 1, 2]  # order kept: a unit sits together


def test_spreading_more_candidates_than_places_is_refused() -> None:
    with pytest.raises(SchedulingError, match="kurang 2 tempat"):
        plan_spread(list(range(7)), [Room(1, 3), Room(2, 2)])
    with pytest.raises(SchedulingError):
        plan_spread([1], [])


async def _unit_of(panitia: StaffClient, count: int) -> tuple[str, list[str]]:
    unit = f"Dinas Sesi {secrets.token_hex(3)}"
    niks = [new_nik() for _ in range(count)]
    resp = await import_candidates(panitia, [(n, f"Peserta {i}", unit) for i, n in enumerate(niks)])
    assert resp.status_code == 200, resp.text
    return unit, niks


async def test_spreading_a_unit_over_two_sessions(panitia: StaffClient, services) -> None:  # type: ignore[no-untyped-def]
    exam_id = await make_exam(panitia)
    first = await make_session(panitia, exam_id, "Sesi 1", capacity="5")
    second = await make_session(panitia, exam_id, "Sesi 2", capacity="20")
    unit, _ = await _unit_of(panitia, 12)
    resp = await panitia.post(f"/panitia/ujian/{exam_id}/sebar", {"unit": unit})
    assert resp.status_code == 303
    async with services.sessions() as db:
        counts = dict(
            (sid, n)
            for sid, n in await db.execute(
                select(SessionCandidate.session_id, func.count())
                .where(SessionCandidate.session_id.in_([first, second]))
                .group_by(SessionCandidate.session_id)
            )
        )
    assert counts == {first: 5, second: 7}
    # Spreading again finds nobody left to place.
    await panitia.post(f"/panitia/ujian/{exam_id}/sebar", {"unit": unit})
    listing = await panitia.get(f"/panitia/sesi?exam={exam_id}")
    assert "0 peserta disebar" in listing.text


async def test_adding_by_hand_and_by_unit_never_doubles_a_candidate(
    panitia: StaffClient, services
) -> None:  # type: ignore[no-untyped-def]
    exam_id = await make_exam(panitia)
    one = await make_session(panitia, exam_id, "Pagi")
    two = await make_session(panitia, exam_id, "Siang")
    unit, niks = await _unit_of(panitia, 3)
    resp = await panitia.post(f"/panitia/sesi/{one}/tambah", {"numbers": niks[0] + "\n" + niks[1]})
    assert resp.status_code == 303
    resp = await panitia.post(f"/panitia/sesi/{two}/tambah", {"unit": unit})
    assert resp.status_code == 303
    page = await panitia.get(f"/panitia/sesi/{two}")
    assert "Peserta 2" in page.text and "Peserta 0" not in page.text
    unknown = await panitia.post(f"/panitia/sesi/{one}/tambah", {"numbers": "TIDAKADA"})
    assert unknown.status_code == 400 and "TIDAKADA" in unknown.text


async def test_a_full_session_refuses_more(panitia: StaffClient) -> None:
    exam_id = await make_exam(panitia)
    session_id = await make_session(panitia, exam_id, "Kecil", capacity="2")
    _, niks = await _unit_of(panitia, 3)
    resp = await panitia.post(f"/panitia/sesi/{session_id}/tambah", {"numbers": " ".join(niks)})
    assert resp.status_code == 400 and "hanya punya 2 tempat kosong" in resp.text


async def test_moving_a_candidate_needs_a_reason_and_is_logged(
    panitia: StaffClient, services
) -> None:  # type: ignore[no-untyped-def]
    exam_id = await make_exam(panitia)
    one = await make_session(panitia, exam_id, "Pagi")
    two = await make_session(panitia, exam_id, "Siang")
    _, niks = await _unit_of(panitia, 1)
    await panitia.post(f"/panitia/sesi/{one}/tambah", {"numbers": niks[0]})
    async with services.sessions() as db:
        candidate = await db.scalar(select(Candidate).where(Candidate.nik == niks[0]))
    form = {"participant_no": candidate.participant_no, "target": str(two)}
    refused = await panitia.post(f"/panitia/sesi/{one}/pindah", {**form, "reason": ""})
    assert refused.status_code == 400 and "Alasan pemindahan wajib" in refused.text
    moved = await panitia.post(
        f"/panitia/sesi/{one}/pindah", {**form, "reason": "bentrok jadwal dinas"}
    )
    assert moved.status_code == 303
    async with services.sessions() as db:
        where = await db.scalar(
            select(SessionCandidate.session_id).where(SessionCandidate.candidate_id == candidate.id)
        )
        entry = await db.scalar(
            select(AuditEntry).where(
                AuditEntry.action == "session.move", AuditEntry.entity_id == str(candidate.id)
            )
        )
    assert where == two
    assert entry.old["session_id"] == one and entry.new["session_id"] == two
    assert entry.reason == "bentrok jadwal dinas"


async def test_a_proctor_sees_only_the_sessions_given_to_them(
    panitia: StaffClient, app, services
) -> None:  # type: ignore[no-untyped-def]
    exam_id = await make_exam(panitia)
    mine = await make_session(panitia, exam_id, "Milik pengawas")
    other = await make_session(panitia, exam_id, "Bukan miliknya")
    username = await make_staff(services, "proctor")
    async with services.sessions() as db:
        proctor_id = await db.scalar(select(StaffUser.id).where(StaffUser.username == username))
    assert (
        await panitia.post(f"/panitia/sesi/{mine}/pengawas", {"staff_id": str(proctor_id)})
    ).status_code == 303
    proctor = await log_in(app, username)
    listing = await proctor.get("/panitia/sesi")
    assert "Milik pengawas" in listing.text and "Bukan miliknya" not in listing.text
    assert (await proctor.get(f"/panitia/sesi/{mine}")).status_code == 200
    assert (await proctor.get(f"/panitia/sesi/{mine}/token")).status_code == 200
    assert (await proctor.get(f"/panitia/sesi/{other}")).status_code == 403
    assert (await proctor.get(f"/panitia/sesi/{other}/token")).status_code == 403
    # Seeing a session is not changing it.
    assert (await proctor.post(f"/panitia/sesi/{mine}/tambah", {"numbers": "X"})).status_code == 403
    assert (await proctor.post("/panitia/sesi", {"name": "x"})).status_code == 403
    await proctor.http.aclose()


async def test_the_token_page_shows_the_token_that_login_accepts(
    panitia: StaffClient, services, settings
) -> None:  # type: ignore[no-untyped-def]
    exam_id = await make_exam(panitia)
    session_id = await make_session(panitia, exam_id, "Bertoken")
    page = await panitia.get(f"/panitia/sesi/{session_id}/token")
    async with services.sessions() as db:
        session = await db.get(ExamSession, session_id)
    expected = session_token(settings.secret_key_value, session_id, session.token_period_s)
    assert f'<p class="token" id="token">{expected}</p>' in page.text
    assert 'http-equiv="refresh"' in page.text


async def test_changing_a_session_is_logged_with_old_and_new(
    panitia: StaffClient, services
) -> None:  # type: ignore[no-untyped-def]
    exam_id = await make_exam(panitia)
    session_id = await make_session(panitia, exam_id, "Lama")
    async with services.sessions() as db:
        s = await db.get(ExamSession, session_id)
    from exam_server.web.rendering import local

    form = {
        "exam_id": str(exam_id),
        "name": "Baru",
        "room": "Lab 2",
        "date": local(s.starts_at, "%Y-%m-%d"),
        "start": "00:00",
        "end": "23:59",
        "token_minutes": "10",
        "token_required": "1",
    }
    assert (await panitia.post(f"/panitia/sesi/{session_id}", form)).status_code == 303
    async with services.sessions() as db:
        entry = await db.scalar(
            select(AuditEntry).where(
                AuditEntry.action == "session.update", AuditEntry.entity_id == str(session_id)
            )
        )
    assert entry.old == {"name": "Lama", "room": "Aula", "token_period_s": 900}
    assert entry.new == {"name": "Baru", "room": "Lab 2", "token_period_s": 600}


async def test_a_viewer_cannot_open_or_change_sessions(
    viewer: StaffClient, panitia: StaffClient
) -> None:
    exam_id = await make_exam(panitia)
    session_id = await make_session(panitia, exam_id, "Rahasia")
    assert (await viewer.get("/panitia/sesi")).status_code == 403
    assert (await viewer.get(f"/panitia/sesi/{session_id}/token")).status_code == 403
    assert (await viewer.post(f"/panitia/ujian/{exam_id}/sebar", {})).status_code == 403


async def test_capacity_cannot_drop_below_the_candidates_already_scheduled(
    panitia: StaffClient, services
) -> None:  # type: ignore[no-untyped-def]
    from exam_server.web.rendering import local

    exam_id = await make_exam(panitia)
    session_id = await make_session(panitia, exam_id, "Penuh", capacity="5")
    _, niks = await _unit_of(panitia, 3)
    assert (
        await panitia.post(f"/panitia/sesi/{session_id}/tambah", {"numbers": " ".join(niks)})
    ).status_code == 303
    async with services.sessions() as db:
        s = await db.get(ExamSession, session_id)
    form = {
        "exam_id": str(exam_id),
        "name": "Penuh",
        "room": "Aula",
        "date": local(s.starts_at, "%Y-%m-%d"),
        "start": "00:00",
        "end": "23:59",
        "token_minutes": "15",
        "capacity": "2",
    }
    resp = await panitia.post(f"/panitia/sesi/{session_id}", form)
    assert resp.status_code == 400 and "lebih kecil dari 3 peserta" in resp.text
    async with services.sessions() as db:
        assert (await db.get(ExamSession, session_id)).capacity == 5  # type: ignore[union-attr]
    assert (
        await panitia.post(f"/panitia/sesi/{session_id}", {**form, "capacity": "3"})
    ).status_code == 303


async def test_removing_a_candidate_needs_a_reason_and_leaves_them_unscheduled(
    panitia: StaffClient, services
) -> None:  # type: ignore[no-untyped-def]
    exam_id = await make_exam(panitia)
    session_id = await make_session(panitia, exam_id, "Salah Jadwal")
    _, niks = await _unit_of(panitia, 2)
    await panitia.post(f"/panitia/sesi/{session_id}/tambah", {"numbers": " ".join(niks)})
    async with services.sessions() as db:
        gone, stays = [await db.scalar(select(Candidate).where(Candidate.nik == n)) for n in niks]
    url = f"/panitia/sesi/{session_id}/keluarkan"
    refused = await panitia.post(url, {"participant_no": gone.participant_no, "reason": " "})
    assert refused.status_code == 400 and "Alasan wajib diisi" in refused.text
    unknown = await panitia.post(url, {"participant_no": "0000000", "reason": "uji"})
    assert unknown.status_code == 400 and "tidak terjadwal di sesi ini" in unknown.text
    done = await panitia.post(
        url, {"participant_no": gone.participant_no, "reason": "mengundurkan diri"}
    )
    assert done.status_code == 303
    async with services.sessions() as db:
        seated = set(
            await db.scalars(
                select(SessionCandidate.candidate_id).where(
                    SessionCandidate.session_id == session_id
                )
            )
        )
        entry = await db.scalar(
            select(AuditEntry).where(
                AuditEntry.action == "session.unassign", AuditEntry.entity_id == str(gone.id)
            )
        )
    assert seated == {stays.id}
    assert entry.old == {"session_id": session_id, "session": "Salah Jadwal"}
    assert entry.reason == "mengundurkan diri"


async def test_a_session_nobody_started_can_be_deleted_with_a_reason(
    panitia: StaffClient, viewer: StaffClient, services
) -> None:  # type: ignore[no-untyped-def]
    exam_id = await make_exam(panitia)
    session_id = await make_session(panitia, exam_id, "Sesi Batal")
    _, niks = await _unit_of(panitia, 2)
    await panitia.post(f"/panitia/sesi/{session_id}/tambah", {"numbers": " ".join(niks)})
    url = f"/panitia/sesi/{session_id}/hapus"
    assert (await viewer.post(url, {"reason": "x"})).status_code == 403
    refused = await panitia.post(url, {"reason": ""})
    assert refused.status_code == 400 and "Alasan wajib diisi" in refused.text
    done = await panitia.post(url, {"reason": "ruang tidak tersedia"})
    assert done.status_code == 303 and done.headers["location"] == f"/panitia/sesi?exam={exam_id}"
    async with services.sessions() as db:
        assert await db.get(ExamSession, session_id) is None
        unseated = await db.scalar(
            select(func.count())
            .select_from(SessionCandidate)
            .join(Candidate, Candidate.id == SessionCandidate.candidate_id)
            .where(Candidate.nik.in_(niks))
        )
        entry = await db.scalar(
            select(AuditEntry).where(
                AuditEntry.action == "session.delete", AuditEntry.entity_id == str(session_id)
            )
        )
    assert unseated == 0
    assert entry.old["name"] == "Sesi Batal" and len(entry.old["participant_nos"]) == 2
    assert entry.reason == "ruang tidak tersedia"


async def test_a_started_session_cannot_be_deleted_nor_its_candidate_removed(
    panitia: StaffClient, services, settings
) -> None:  # type: ignore[no-untyped-def]
    from staff.support import exam_with_questions, reissue

    exam_id = await exam_with_questions(panitia, services)
    session_id = await make_session(panitia, exam_id, "Sesi Berjalan")
    _, niks = await _unit_of(panitia, 1)
    await panitia.post(f"/panitia/sesi/{session_id}/tambah", {"numbers": niks[0]})
    async with services.sessions() as db:
        candidate = await db.scalar(select(Candidate).where(Candidate.nik == niks[0]))
    password = await reissue(panitia, candidate.id)
    login = await panitia.http.post(
        "/api/v1/candidate/login",
        json={
            "participant_no": candidate.participant_no,
            "password": password,
            "session_token": session_token(settings.secret_key_value, session_id, 900),
        },
    )
    assert login.status_code == 200, login.text
    removed = await panitia.post(
        f"/panitia/sesi/{session_id}/keluarkan",
        {"participant_no": candidate.participant_no, "reason": "uji"},
    )
    assert removed.status_code == 400 and "sudah mulai ujian" in removed.text
    deleted = await panitia.post(f"/panitia/sesi/{session_id}/hapus", {"reason": "uji"})
    assert deleted.status_code == 400 and "sesi tidak dapat dihapus" in deleted.text
    async with services.sessions() as db:
        assert await db.get(ExamSession, session_id) is not None
        assert (
            await db.scalar(
                select(SessionCandidate.session_id).where(
                    SessionCandidate.candidate_id == candidate.id
                )
            )
            == session_id
        )
