"""The paper and its images only while the attempt runs (docs/security.md, findings 1 and 5)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests_support import ExamClient, move_to_own_session

from exam_server.db.models import Attempt, Candidate, QuestionImage
from exam_server.delivery.services import Services, open_services

pytestmark = pytest.mark.slow

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00"
    b"\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N"
    b"\x00\x00\x00\x00IEND\xaeB`\x82"
)


def with_services(settings, fn: Callable[[Services], Awaitable[Any]]) -> Any:  # type: ignore[no-untyped-def]
    async def go() -> Any:
        async with open_services(settings) as services:
            return await fn(services)

    return asyncio.run(go())


def test_the_waiting_room_cannot_read_the_paper(live_server, candidate, db_engine) -> None:  # type: ignore[no-untyped-def]
    move_to_own_session(db_engine, candidate, starts_in_s=30 * 60, ends_in_s=120 * 60)
    client = ExamClient(live_server.url, candidate.participant_no, candidate.password)
    assert client.login().status_code == 200
    assert client.connect()["status"] == "waiting"
    for q in range(3):
        client.send({"type": "get", "q": q})
        refused = client.wait_for("error")
        assert refused["code"] == "not_running" and refused["status"] == "waiting"
    assert not [m for m in client.received if m.get("type") == "question"]
    client.close()


def test_a_paused_or_submitted_attempt_cannot_read_the_paper(
    live_server, candidate, db_engine, settings
) -> None:  # type: ignore[no-untyped-def]
    from exam_server.proctor.interventions import pause_session, resume_session

    session_id = move_to_own_session(db_engine, candidate)
    client = ExamClient(live_server.url, candidate.participant_no, candidate.password)
    assert client.login().status_code == 200
    client.connect()
    assert client.question(0)["q"] == 0  # running: readable
    with_services(settings, lambda s: pause_session(s, session_id))
    client.wait_for("time", status="paused")
    client.send({"type": "get", "q": 1})
    assert client.wait_for("error")["code"] == "not_running"
    with_services(settings, lambda s: resume_session(s, session_id))
    client.wait_for("time", status="running")
    assert client.question(1)["q"] == 1
    client.change({"type": "submit"})
    client.send({"type": "get", "q": 2})
    refused = client.wait_for("error")
    assert refused["code"] == "not_running" and refused["status"] == "submitted"
    client.close()


def _image_for_first_question(db_engine, candidate) -> int:  # type: ignore[no-untyped-def]
    with Session(db_engine) as db, db.begin():
        attempt = db.scalar(
            select(Attempt)
            .join(Candidate, Candidate.id == Attempt.candidate_id)
            .where(Candidate.participant_no == candidate.participant_no)
        )
        qid = int(attempt.question_ids[0])
        if not db.scalar(select(QuestionImage.id).where(QuestionImage.question_id == qid)):
            db.add(
                QuestionImage(question_id=qid, name="gambar.png", media_type="image/png", data=PNG)
            )
        return qid


def test_question_images_go_only_to_a_running_attempt_holding_the_question(
    live_server, candidate, other_candidate, db_engine
) -> None:  # type: ignore[no-untyped-def]
    client = ExamClient(live_server.url, candidate.participant_no, candidate.password)
    assert client.login().status_code == 200
    qid = _image_for_first_question(db_engine, candidate)
    # The old public address and a guessed one give nothing.
    assert httpx.get(f"{live_server.url}/media/{qid}/gambar.png").status_code == 404
    assert httpx.get(f"{live_server.url}/media/{qid}/forged/gambar.png").status_code == 404
    client.connect()
    base = client.question(0)["images_base"]
    assert base.startswith(f"/media/{qid}/") and len(base) > len(f"/media/{qid}/") + 10
    image = httpx.get(live_server.url + base + "gambar.png")
    assert image.status_code == 200 and image.content == PNG
    # A grant names one question: pointing it at another question is refused.
    other_qid = qid + 1
    grant = base.split("/")[3]
    assert httpx.get(f"{live_server.url}/media/{other_qid}/{grant}/gambar.png").status_code == 404
    # After submitting, the grant no longer opens anything.
    client.change({"type": "submit"})
    assert httpx.get(live_server.url + base + "gambar.png").status_code == 404
    client.close()
