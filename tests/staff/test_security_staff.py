"""Staff log-in throttling, sessions that end, clearing a candidate's lockout, private
images and browser headers on every page (docs/security.md, findings 5, 8, 12, 15, 16)."""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import select
from staff.support import (
    PASSWORD,
    exam_with_questions,
    import_candidates,
    log_in,
    make_session,
    make_staff,
    new_nik,
)

from exam_server.db.models import Candidate, QuestionImage
from exam_server.db.staff_models import AuditEntry, StaffUser

LOGIN_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def an_address() -> str:
    return "10." + ".".join(str(secrets.randbelow(250) + 1) for _ in range(3))


class Door:
    """The committee log-in form, as seen from one address."""

    def __init__(self, app, address: str) -> None:  # type: ignore[no-untyped-def]
        self.http = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://t",
            headers={"X-Forwarded-For": address},
        )
        self.token = ""

    async def try_(self, username: str, password: str) -> httpx.Response:
        if not self.token:
            page = await self.http.get("/panitia/masuk")
            self.token = LOGIN_CSRF.search(page.text).group(1)  # type: ignore[union-attr]
        return await self.http.post(
            "/panitia/masuk", data={"username": username, "password": password, "csrf": self.token}
        )


@pytest.fixture()
async def door_factory(app) -> AsyncIterator:  # type: ignore[no-untyped-def,type-arg]
    doors: list[Door] = []

    def make(address: str | None = None) -> Door:
        door = Door(app, address or an_address())
        doors.append(door)
        return door

    yield make
    for door in doors:
        await door.http.aclose()


# -- findings 8 and 16 ----------------------------------------------------------------------


async def test_spraying_staff_names_from_one_address_is_stopped(
    services, settings, door_factory
) -> None:  # type: ignore[no-untyped-def]
    real = await make_staff(services, "admin")
    sprayer = door_factory()
    for i in range(settings.staff_address_failures):
        await sprayer.try_(f"tebakan-{i}", "Rahasia-2024!")
    resp = await sprayer.try_(real, PASSWORD)
    assert resp.status_code == 401 and "dikunci" in resp.text
    # The account itself is not locked: its owner logs in from their own desk.
    assert (await door_factory().try_(real, PASSWORD)).status_code == 303


async def test_a_locked_name_says_the_same_whether_or_not_the_account_exists(
    services, settings, door_factory
) -> None:  # type: ignore[no-untyped-def]
    existing = await make_staff(services, "panitia")
    unknown = f"tidak-ada-{secrets.token_hex(3)}"
    answers = {}
    for name in (existing, unknown):
        door = door_factory()
        replies = [
            await door.try_(name, "salah-salah") for _ in range(settings.staff_pair_failures + 1)
        ]
        answers[name] = [(r.status_code, "dikunci" in r.text, "salah" in r.text) for r in replies]
    assert answers[existing] == answers[unknown]
    assert answers[existing][-1] == (401, True, False)


async def test_a_colleague_elsewhere_cannot_lock_an_account(
    services, settings, door_factory
) -> None:  # type: ignore[no-untyped-def]
    victim = await make_staff(services, "admin")
    attacker = door_factory()
    for _ in range(settings.staff_pair_failures + 2):
        await attacker.try_(victim, "salah-salah")
    assert (await door_factory().try_(victim, PASSWORD)).status_code == 303


# -- finding 12 -------------------------------------------------------------------------------


async def test_a_new_password_ends_the_other_sessions_of_the_account(app, services, admin) -> None:  # type: ignore[no-untyped-def]
    username = await make_staff(services, "panitia")
    laptop = await log_in(app, username)
    assert (await laptop.get("/panitia/")).status_code == 200
    async with services.sessions() as db:
        user_id = await db.scalar(select(StaffUser.id).where(StaffUser.username == username))
    resp = await admin.post(
        f"/panitia/staf/{user_id}",
        {"role": "panitia", "active": "1", "password": "kata-sandi-baru-456"},
    )
    assert resp.status_code == 303
    gone = await laptop.get("/panitia/")
    assert gone.status_code == 303 and gone.headers["location"].startswith("/panitia/masuk")
    await laptop.http.aclose()
    # The new password works.
    fresh = await log_in(app, username, "kata-sandi-baru-456")
    assert (await fresh.get("/panitia/")).status_code == 200
    await fresh.http.aclose()


async def test_changing_ones_own_password_keeps_this_session(admin, services) -> None:  # type: ignore[no-untyped-def]
    async with services.sessions() as db:
        user_id = await db.scalar(select(StaffUser.id).where(StaffUser.username == admin.username))
    resp = await admin.post(
        f"/panitia/staf/{user_id}",
        {"role": "admin", "active": "1", "password": "kata-sandi-baru-789"},
    )
    assert resp.status_code == 303
    assert (await admin.get("/panitia/")).status_code == 200


async def test_a_staff_session_ends_after_its_absolute_lifetime_however_busy(
    app, services, settings
) -> None:  # type: ignore[no-untyped-def]
    username = await make_staff(services, "viewer")
    client = await log_in(app, username)
    assert (await client.get("/panitia/")).status_code == 200
    # Find this session's record and make it as old as the lifetime allows.
    async for key in services.redis.scan_iter("tkd:staff:session:*"):
        data = await services.redis.hgetall(key)
        async with services.sessions() as db:
            user = await db.get(StaffUser, int(data["uid"]))
        if user is not None and user.username == username:
            born = time.time() - settings.staff_session_max_s - 1
            await services.redis.hset(key, "born", f"{born:.3f}")
    resp = await client.get("/panitia/")
    assert resp.status_code == 303
    await client.http.aclose()


# -- the proctor clears a candidate's lockout -------------------------------------------------


async def test_a_proctor_clears_a_lockout_of_their_session_and_it_is_audited(
    panitia, app, services, settings
) -> None:  # type: ignore[no-untyped-def]
    from exam_server.delivery.throttle import candidate_throttle

    exam_id = await exam_with_questions(panitia, services)
    session_id = await make_session(panitia, exam_id, "Sesi Kunci", token=False)
    nik = new_nik()
    await import_candidates(panitia, [(nik, "Peserta Terkunci", "Dinas Kunci")])
    await panitia.post(f"/panitia/sesi/{session_id}/tambah", {"numbers": nik})
    async with services.sessions() as db:
        number = await db.scalar(select(Candidate.participant_no).where(Candidate.nik == nik))
    throttle = candidate_throttle(services.redis, settings)
    for _ in range(settings.login_pair_failures):
        await throttle.fail(number, "10.9.9.9")
    assert await throttle.locked(number, "10.9.9.9")

    username = await make_staff(services, "proctor")
    async with services.sessions() as db:
        proctor_id = await db.scalar(select(StaffUser.id).where(StaffUser.username == username))
    await panitia.post(f"/panitia/sesi/{session_id}/pengawas", {"staff_id": str(proctor_id)})
    proctor = await log_in(app, username)
    page = await proctor.get(f"/panitia/sesi/{session_id}")
    assert "buka-kunci" in page.text
    refused = await proctor.post(
        f"/panitia/sesi/{session_id}/buka-kunci", {"participant_no": number}
    )
    assert refused.status_code == 400 and "Alasan wajib" in refused.text
    assert await throttle.locked(number, "10.9.9.9")
    done = await proctor.post(
        f"/panitia/sesi/{session_id}/buka-kunci",
        {"participant_no": number, "reason": "KTP sudah dicek"},
    )
    assert done.status_code == 303
    assert not await throttle.locked(number, "10.9.9.9")
    async with services.sessions() as db:
        logged = await db.scalar(
            select(AuditEntry)
            .where(AuditEntry.action == "login.unlock")
            .order_by(AuditEntry.id.desc())
        )
    assert logged.username == username and logged.reason == "KTP sudah dicek"
    assert logged.old == {"failures": {"10.9.9.9": settings.login_pair_failures}}
    await proctor.http.aclose()


async def test_a_proctor_cannot_clear_a_lockout_in_a_session_not_theirs(
    panitia, proctor, services
) -> None:  # type: ignore[no-untyped-def]
    exam_id = await exam_with_questions(panitia, services)
    session_id = await make_session(panitia, exam_id, "Bukan sesinya", token=False)
    resp = await proctor.post(
        f"/panitia/sesi/{session_id}/buka-kunci", {"participant_no": "X", "reason": "coba"}
    )
    assert resp.status_code == 403


# -- finding 5: the staff side of images ----------------------------------------------------


async def test_question_images_need_the_bank_capability(panitia, viewer, services) -> None:  # type: ignore[no-untyped-def]
    await exam_with_questions(panitia, services)
    async with services.sessions() as db, db.begin():
        from exam_server.db.models import Question

        qid = await db.scalar(select(Question.id).limit(1))
        if not await db.scalar(
            select(QuestionImage.id).where(
                QuestionImage.question_id == qid, QuestionImage.name == "p.png"
            )
        ):
            db.add(
                QuestionImage(
                    question_id=qid, name="p.png", media_type="image/png", data=b"\x89PNG"
                )
            )
    assert (await panitia.get(f"/panitia/bank/media/{qid}/p.png")).status_code == 200
    assert (await viewer.get(f"/panitia/bank/media/{qid}/p.png")).status_code == 403
    anonymous = httpx.AsyncClient(transport=panitia.http._transport, base_url="http://testserver")
    assert (await anonymous.get(f"/panitia/bank/media/{qid}/p.png")).status_code == 303
    assert (await anonymous.get(f"/media/{qid}/p.png")).status_code == 404
    await anonymous.aclose()


# -- finding 15: headers and no inline script on every page ------------------------------------

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", re.I)
EVENT_ATTRIBUTE = re.compile(r"<[^>]+\son[a-z]+\s*=", re.I)
INLINE_STYLE = re.compile(r"<style\b|\sstyle\s*=", re.I)


def assert_protected(resp: httpx.Response, where: str) -> None:
    from exam_server.web.security_headers import HEADERS

    for name, value in HEADERS.items():
        assert resp.headers.get(name) == value, (where, name, resp.headers.get(name))
    csp = resp.headers["content-security-policy"]
    assert "'unsafe-inline'" not in csp and "frame-ancestors 'none'" in csp
    if resp.headers.get("content-type", "").startswith("text/html"):
        assert not INLINE_SCRIPT.search(resp.text), (where, INLINE_SCRIPT.search(resp.text))
        assert not EVENT_ATTRIBUTE.search(resp.text), (where, EVENT_ATTRIBUTE.search(resp.text))
        assert not INLINE_STYLE.search(resp.text), (where, INLINE_STYLE.search(resp.text))


async def test_every_get_page_sends_the_security_headers_and_no_inline_script(
    app, admin, panitia, services
) -> None:  # type: ignore[no-untyped-def]
    """Every GET route of the app, filled in with real ids, as an admin and as nobody."""
    from starlette.routing import Mount, Route

    exam_id = await exam_with_questions(panitia, services)
    session_id = await make_session(panitia, exam_id, "Sesi Header")
    nik = new_nik()
    await import_candidates(panitia, [(nik, "Peserta Header", "Dinas Header")])
    async with services.sessions() as db:
        candidate_id = await db.scalar(select(Candidate.id).where(Candidate.nik == nik))
        from exam_server.db.models import Question

        question_id = await db.scalar(select(Question.id).limit(1))
        staff_id = await db.scalar(select(StaffUser.id).limit(1))
    ids = {
        "exam_id": exam_id,
        "session_id": session_id,
        "candidate_id": candidate_id,
        "question_id": question_id,
        "staff_id": staff_id,
    }

    def paths(routes, prefix: str = "") -> list[str]:  # type: ignore[no-untyped-def]
        found = []
        for route in routes:
            if isinstance(route, Mount):
                found += paths(route.routes, prefix + route.path)
            elif isinstance(route, Route) and "GET" in (route.methods or ()):
                path = prefix + route.path
                for name, value in ids.items():
                    path = re.sub(r"\{" + name + r"(:[a-z]+)?\}", str(value), path)
                path = re.sub(r"\{fmt(:str)?\}", "csv", path)
                path = re.sub(r"\{kind(:str)?\}", "csv", path)
                if "{" not in path:
                    found.append(path)
        return found

    # The proctor's live room (``.../live``) is a server-sent event stream that never ends, so
    # the in-process client would wait for ever; the same middleware answers it as every route.
    every = [p for p in paths(app.router.routes) if not p.endswith("/live")]
    assert "/" in every and "/panitia/masuk" in every and len(every) > 25
    anonymous = httpx.AsyncClient(transport=admin.http._transport, base_url="http://testserver")
    for path in [*every, "/static/exam.js", "/static/staff.css", "/does-not-exist"]:
        for who, client in (("admin", admin.http), ("anonymous", anonymous)):
            resp = await client.get(path)
            assert_protected(resp, f"{who} {path} {resp.status_code}")
    await anonymous.aclose()


# -- finding 6: the reissue page closes the impersonator's socket at once ----------------------


async def test_reissuing_a_password_closes_the_candidates_open_socket(
    panitia, live_server, candidate, services
) -> None:  # type: ignore[no-untyped-def]
    import asyncio

    from tests_support import ExamClient

    impostor = ExamClient(live_server.url, candidate.participant_no, candidate.password, "joki")
    assert impostor.login().status_code == 200
    await asyncio.to_thread(impostor.connect)
    async with services.sessions() as db:
        candidate_id = await db.scalar(
            select(Candidate.id).where(Candidate.participant_no == candidate.participant_no)
        )
    resp = await panitia.post(f"/panitia/kandidat/{candidate_id}/sandi", {"reason": "joki"})
    assert resp.status_code == 200
    closed = await asyncio.to_thread(impostor.wait_for, "error", 10, code="replaced")
    assert closed["code"] == "replaced"
    impostor.close()
    # Reconnecting with the old token is refused.
    from websockets.exceptions import ConnectionClosed

    with pytest.raises((TimeoutError, ConnectionClosed)):
        await asyncio.to_thread(impostor.connect)
    assert any(m.get("code") == "bad_token" for m in impostor.received)
    impostor.close()
