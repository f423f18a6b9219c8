"""Fixtures for the committee pages: an in-process app on the run's real services and
logged-in personas (admin, panitia, proctor, viewer)."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from staff.support import StaffClient, log_in, make_staff, staff_app
from starlette.applications import Starlette

import exam_server.cli.main as tkd
from exam_server.delivery.services import Services, open_services
from exam_server.settings import Settings


@pytest.fixture(scope="session")
async def services(settings: Settings) -> AsyncIterator[Services]:
    async with open_services(settings) as svc:
        yield svc


@pytest.fixture(scope="session")
def app(settings: Settings, services: Services) -> Starlette:
    application = staff_app(settings)
    application.state.services = services  # ASGITransport does not run the lifespan
    return application


@pytest.fixture()
async def admin(app: Starlette, services: Services) -> AsyncIterator[StaffClient]:
    client = await log_in(app, await make_staff(services, "admin"))
    yield client
    await client.http.aclose()


@pytest.fixture()
async def panitia(app: Starlette, services: Services) -> AsyncIterator[StaffClient]:
    client = await log_in(app, await make_staff(services, "panitia"))
    yield client
    await client.http.aclose()


@pytest.fixture()
async def proctor(app: Starlette, services: Services) -> AsyncIterator[StaffClient]:
    client = await log_in(app, await make_staff(services, "proctor"))
    yield client
    await client.http.aclose()


@pytest.fixture()
async def viewer(app: Starlette, services: Services) -> AsyncIterator[StaffClient]:
    client = await log_in(app, await make_staff(services, "viewer"))
    yield client
    await client.http.aclose()


@pytest.fixture()
async def anonymous(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")
    yield http
    await http.aclose()


@pytest.fixture()
def cli(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Callable[..., int]:
    """``tkd ARGS`` in this process, on the run's services; returns the exit status."""
    monkeypatch.setenv("DATABASE_URL", str(settings.database_url))
    monkeypatch.setenv("REDIS_URL", str(settings.redis_url))
    monkeypatch.setenv("TKD_SECRET_KEY", settings.secret_key_value)
    monkeypatch.setenv("TKD_DATA_DIR", str(settings.data_dir))

    def run(*argv: str, stdin: str = "") -> int:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        return tkd.main(list(argv))

    return run
