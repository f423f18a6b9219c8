"""Dashboards: scheduled, logged in, in progress, submitted and absent, and the CSV export."""

from __future__ import annotations

import csv
import datetime as dt
import io

from sqlalchemy import select, update
from staff.support import (
    StaffClient,
    exam_with_questions,
    import_candidates,
    make_session,
    new_nik,
    reissue,
)

from exam_server.db.models import Attempt, Candidate, ExamSession
from exam_server.db.staff_models import AuditEntry
from exam_server.delivery.credentials import session_token
from exam_server.staff.dashboard import state_of

NOW = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)


def test_a_candidate_with_no_attempt_is_absent_only_after_the_session() -> None:
    assert state_of(None, NOW + dt.timedelta(hours=1), NOW) == "waiting"
    assert state_of(None, NOW, NOW) == "absent"
    assert state_of("running", NOW, NOW) == "in_progress"
    assert state_of("paused", NOW, NOW) == "in_progress"
    assert state_of("submitted", NOW, NOW) == "submitted"


async def test_the_session_dashboard_counts_each_state_and_exports_csv(
    panitia: StaffClient, viewer: StaffClient, services, settings
) -> None:  # type: ignore[no-untyped-def]
    exam_id = await exam_with_questions(panitia, services)
    session_id = await make_session(panitia, exam_id, "Sesi Dasbor")
    past_id = await make_session(panitia, exam_id, "Sesi Kemarin", token=False)
    niks = [new_nik() for _ in range(4)]
    await import_candidates(
        panitia, [(n, f"Dasbor {i}", "Dinas Dasbor") for i, n in enumerate(niks)]
    )
    await panitia.post(f"/panitia/sesi/{session_id}/tambah", {"numbers": " ".join(niks[:3])})
    await panitia.post(f"/panitia/sesi/{past_id}/tambah", {"numbers": niks[3]})
    async with services.sessions() as db, db.begin():
        await db.execute(
            update(ExamSession)
            .where(ExamSession.id == past_id)
            .values(
                starts_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=1, hours=2),
                ends_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=1),
            )
        )
        people = {
            c.nik: c for c in await db.scalars(select(Candidate).where(Candidate.nik.in_(niks)))
        }
    token = session_token(settings.secret_key_value, session_id, 900)
    for nik in niks[:2]:
        password = await reissue(panitia, people[nik].id)
        resp = await panitia.http.post(
            "/api/v1/candidate/login",
            json={
                "participant_no": people[nik].participant_no,
                "password": password,
                "session_token": token,
            },
        )
        assert resp.status_code == 200, resp.text
    async with services.sessions() as db, db.begin():
        await db.execute(
            update(Attempt)
            .where(Attempt.candidate_id == people[niks[1]].id)
            .values(status="submitted")
        )
    page = await panitia.get(f"/panitia/dasbor/sesi/{session_id}")
    assert '<b id="n-scheduled">3</b>' in page.text
    assert '<b id="n-logged_in">2</b>' in page.text
    assert '<b id="n-in_progress">1</b>' in page.text
    assert '<b id="n-submitted">1</b>' in page.text
    exam_page = await viewer.get(f"/panitia/dasbor/ujian/{exam_id}")
    assert exam_page.status_code == 200 and '<b id="n-absent">1</b>' in exam_page.text
    export = await viewer.get(f"/panitia/dasbor/ujian/{exam_id}.csv")
    assert export.status_code == 200
    # Opens in an Indonesian spreadsheet: semicolons, headings in Bahasa Indonesia.
    rows = list(csv.DictReader(io.StringIO(export.text.lstrip("\ufeff")), delimiter=";"))
    states = {r["NIK"]: r["Kode status"] for r in rows}
    assert states == {
        niks[0]: "in_progress",
        niks[1]: "submitted",
        niks[2]: "waiting",
        niks[3]: "absent",
    }
    async with services.sessions() as db:
        logged = await db.scalar(
            select(AuditEntry)
            .where(AuditEntry.action == "export.attendance")
            .order_by(AuditEntry.id.desc())
        )
    assert logged.username == viewer.username


async def test_a_proctor_cannot_see_exam_dashboards_or_export(
    proctor: StaffClient, panitia: StaffClient, services
) -> None:  # type: ignore[no-untyped-def]
    exam_id = await exam_with_questions(panitia, services)
    session_id = await make_session(panitia, exam_id, "Bukan Tugasnya")
    assert (await proctor.get(f"/panitia/dasbor/ujian/{exam_id}")).status_code == 403
    assert (await proctor.get(f"/panitia/dasbor/sesi/{session_id}")).status_code == 403
    assert (await proctor.get(f"/panitia/dasbor/ujian/{exam_id}.csv")).status_code == 403


async def test_two_sessions_with_the_same_name_are_counted_apart(
    panitia: StaffClient, services
) -> None:  # type: ignore[no-untyped-def]
    import re

    exam_id = await exam_with_questions(panitia, services)
    first = await make_session(panitia, exam_id, "Sesi 1")
    second = await make_session(panitia, exam_id, "Sesi 1")  # the same name, another room or day
    niks = [new_nik() for _ in range(3)]
    await import_candidates(
        panitia, [(n, f"Kembar Sesi {i}", "Dinas Sesi") for i, n in enumerate(niks)]
    )
    await panitia.post(f"/panitia/sesi/{first}/tambah", {"numbers": niks[0]})
    await panitia.post(f"/panitia/sesi/{second}/tambah", {"numbers": " ".join(niks[1:])})
    page = await panitia.get(f"/panitia/dasbor/ujian/{exam_id}")
    scheduled = {
        int(sid): int(n)
        for sid, n in re.findall(
            r'/dasbor/sesi/(\d+)">Sesi 1</a></td><td>[^<]*</td><td>(\d+)</td>', page.text
        )
    }
    assert scheduled == {first: 1, second: 2}
