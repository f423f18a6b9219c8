"""Proctor interventions reach the candidate's socket and the server's clock."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select
from staff.support import log_in, make_staff, staff_app
from tests_support import ExamClient

from exam_server.db.models import Attempt, Candidate
from exam_server.delivery.services import open_services
from exam_server.proctor.interventions import (
    extend_attempts,
    pause_session,
    resume_session,
    send_notice,
)

pytestmark = pytest.mark.slow


async def attempt_of(services, participant_no: str) -> Attempt:  # type: ignore[no-untyped-def]
    async with services.sessions() as db:
        return await db.scalar(
            select(Attempt)
            .join(Candidate, Candidate.id == Attempt.candidate_id)
            .where(Candidate.participant_no == participant_no)
        )


async def test_a_paused_session_stops_the_clock_and_refuses_changes_until_resumed(
    live_server, candidate, settings
) -> None:  # type: ignore[no-untyped-def]
    client = ExamClient(live_server.url, candidate.participant_no, candidate.password)
    assert client.login().status_code == 200
    await asyncio.to_thread(client.connect)
    options = (await asyncio.to_thread(client.question, 0))["options"]
    async with open_services(settings) as services:
        attempt = await attempt_of(services, candidate.participant_no)
        assert attempt.id in await pause_session(services, attempt.session_id)
        paused = await asyncio.to_thread(client.wait_for, "time", 10, status="paused")
        await asyncio.sleep(1.2)
        client.change({"type": "answer", "q": 0, "choice": options[0]["id"]}, wait_ack=False)
        error = await asyncio.to_thread(client.wait_for, "error")
        assert error["code"] == "paused"
        client.seq -= 1  # the refused change was not applied: the next one reuses its seq
        assert attempt.id in await resume_session(services, attempt.session_id)
        resumed = await asyncio.to_thread(client.wait_for, "time", 10, status="running")
        assert paused["remaining_ms"] - resumed["remaining_ms"] < 1000  # the pause cost no time
        await asyncio.to_thread(client.answer, 0)

        await extend_attempts(services, [attempt.id], 10)
        extended = await asyncio.to_thread(client.wait_for, "time", 10, status="running")
        assert extended["remaining_ms"] > resumed["remaining_ms"] + 9 * 60_000

        assert await send_notice(services, attempt.session_id, "Sisa waktu 10 menit.") >= 1
        assert (await asyncio.to_thread(client.wait_for, "notice"))[
            "message"
        ] == "Sisa waktu 10 menit."
    client.close()


async def test_only_the_assigned_proctor_may_intervene_and_it_is_audited(
    settings, candidate
) -> None:  # type: ignore[no-untyped-def]
    app = staff_app(settings)
    async with app.router.lifespan_context(app):
        services = app.state.services
        async with services.sessions() as db:
            cand = await db.scalar(
                select(Candidate).where(Candidate.participant_no == candidate.participant_no)
            )
            from exam_server.db.models import SessionCandidate

            session_id = await db.scalar(
                select(SessionCandidate.session_id).where(SessionCandidate.candidate_id == cand.id)
            )
        proctor = await log_in(app, await make_staff(services, "proctor"))
        refused = await proctor.post(f"/panitia/pengawas/{session_id}/jeda")
        assert refused.status_code == 403
        viewer = await log_in(app, await make_staff(services, "viewer"))
        assert (await viewer.post(f"/panitia/pengawas/{session_id}/jeda")).status_code == 403
        admin = await log_in(app, await make_staff(services, "admin"))
        no_csrf = await admin.post(f"/panitia/pengawas/{session_id}/lanjut", csrf=False)
        assert no_csrf.status_code == 403
        page = await admin.get(f"/panitia/pengawas/{session_id}")
        assert page.status_code == 200 and "/static/proctor.js" in page.text
        data = await admin.get(f"/panitia/pengawas/{session_id}/data")  # the rows come as JSON
        assert candidate.participant_no in [r["no"] for r in data.json()["rows"]]
        unconfirmed = await admin.post(f"/panitia/pengawas/{session_id}/lanjut")
        assert unconfirmed.status_code == 400  # a reason and a confirmation are required
        done = await admin.post(
            f"/panitia/pengawas/{session_id}/lanjut", {"reason": "uji", "confirm": "1"}
        )
        assert done.status_code == 303
        audit = await admin.get("/panitia/audit")
        assert "proctor.resume" in audit.text
        for client in (proctor, viewer, admin):
            await client.http.aclose()
