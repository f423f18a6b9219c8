"""Helpers for the committee tests: a client that carries the CSRF token, log-in, personas."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.routing import Mount

from exam_server.app import create_app
from exam_server.db.audit import Actor
from exam_server.delivery.services import Services
from exam_server.settings import Settings
from exam_server.staff.accounts import create_account
from exam_server.staff.routes import routes as staff_routes

PASSWORD = "kata-sandi-uji-123"
CSRF_META = re.compile(r'<meta name="csrf" content="([^"]+)">')
LOGIN_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def staff_app(settings: Settings) -> Starlette:
    """The real app; the committee pages are mounted here until app.py mounts them."""
    app = create_app(settings, background=False)
    if not any(getattr(r, "path", None) == "/panitia" for r in app.router.routes):
        app.router.routes.append(Mount("/panitia", routes=staff_routes))
    return app


@dataclass
class StaffClient:
    http: httpx.AsyncClient
    username: str
    csrf: str = ""

    async def get(self, path: str, **kw: Any) -> httpx.Response:
        return await self.http.get(path, **kw)

    async def post(
        self, path: str, data: dict[str, Any] | None = None, *, csrf: bool = True, **kw: Any
    ) -> httpx.Response:
        form = dict(data or {})
        if csrf:
            form.setdefault("csrf", self.csrf)
        return await self.http.post(path, data=form, **kw)


async def log_in(app: Starlette, username: str, password: str = PASSWORD) -> StaffClient:
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")
    page = await http.get("/panitia/masuk")
    token = LOGIN_CSRF.search(page.text)
    assert token, page.text
    resp = await http.post(
        "/panitia/masuk",
        data={"username": username, "password": password, "csrf": token.group(1)},
    )
    assert resp.status_code == 303, resp.text
    home = await http.get("/panitia/")
    found = CSRF_META.search(home.text)
    assert found, home.text
    return StaffClient(http, username, found.group(1))


async def make_staff(services: Services, role: str, username: str | None = None) -> str:
    username = username or f"{role}-{secrets.token_hex(3)}"
    async with services.sessions() as db, db.begin():
        await create_account(db, Actor(None, "test"), username, f"Uji {role}", role, PASSWORD)
    return username


async def seed_bank(services: Services) -> None:
    """The demo questions (TWK, TIU, TKP) in the bank; idempotent by content hash."""
    from exam_server.bank.store import save_items
    from exam_server.demo.items import DEMO_ITEMS

    async with services.sessions() as db, db.begin():
        await save_items(db, DEMO_ITEMS)


async def make_exam(client: StaffClient) -> int:
    """An exam with one shared 90-minute clock and a TWK section; returns its id."""
    code = f"SKD-{secrets.token_hex(3)}"
    resp = await client.post(
        "/panitia/ujian",
        {
            "code": code,
            "title": "Seleksi Uji",
            "shared_minutes": "90",
            "results_release": "immediate",
            "shuffle_questions": "1",
            "shuffle_options": "1",
        },
    )
    assert resp.status_code == 303, resp.text
    return int(resp.headers["location"].rsplit("/", 1)[1])


async def import_candidates(
    client: StaffClient, rows: list[tuple[str, str, str]]
) -> httpx.Response:
    text = "NIK,Nama,Tanggal Lahir,Unit Kerja/OPD\n" + "".join(
        f"{nik},{name},,{unit}\n" for nik, name, unit in rows
    )
    return await client.http.post(
        "/panitia/kandidat/impor",
        data={"csrf": client.csrf},
        files={"file": ("peserta.csv", text.encode(), "text/csv")},
    )


def new_nik() -> str:
    return "66" + "".join(secrets.choice("0123456789") for _ in range(14))


async def make_session(
    client: StaffClient, exam_id: int, name: str, *, capacity: str = "", token: bool = True
) -> int:
    """A session running all of today (WIB), so candidates can log in now."""
    import datetime as dt

    from exam_server.display import LOCAL_TZ

    today = dt.datetime.now(LOCAL_TZ).date().isoformat()
    form = {
        "exam_id": str(exam_id),
        "name": name,
        "room": "Aula",
        "date": today,
        "start": "00:00",
        "end": "23:59",
        "capacity": capacity,
        "token_minutes": "15",
    }
    if token:
        form["token_required"] = "1"
    resp = await client.post("/panitia/sesi", form)
    assert resp.status_code == 303, resp.text
    return int(resp.headers["location"].rsplit("/", 1)[1])


async def exam_with_questions(client: StaffClient, services: Services) -> int:
    """An exam whose TWK section holds three bank questions, ready for candidates."""
    await seed_bank(services)
    exam_id = await make_exam(client)
    section = {
        "code": "TWK",
        "name": "Wawasan Kebangsaan",
        "question_count": "3",
        "model": "right_wrong",
    }
    assert (await client.post(f"/panitia/ujian/{exam_id}/bagian", section)).status_code == 303
    page = await client.get(f"/panitia/ujian/{exam_id}")
    section_id = re.search(rf"/panitia/ujian/{exam_id}/bagian/(\d+)/soal", page.text).group(1)  # type: ignore[union-attr]
    resp = await client.post(
        f"/panitia/ujian/{exam_id}/bagian/{section_id}/soal", {"bank_section": "TWK", "count": "3"}
    )
    assert resp.status_code == 303
    return exam_id


async def reissue(client: StaffClient, candidate_id: int) -> str:
    resp = await client.post(f"/panitia/kandidat/{candidate_id}/sandi", {"reason": "uji"})
    assert resp.status_code == 200
    return resp.text.split('<code class="password">')[1].split("<")[0]
