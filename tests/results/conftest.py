"""Fixtures for the results tests: the real app with the results routes, on the run's
real PostgreSQL and Redis, and logged-in staff personas."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from staff.support import StaffClient, log_in, make_staff, staff_app
from starlette.applications import Starlette
from starlette.routing import Mount

from exam_server.results.routes import public_routes, staff_routes
from exam_server.services import Services, open_services
from exam_server.settings import Settings


def results_app(settings: Settings) -> Starlette:
    """The real app; the results routes are added here until app.py mounts them."""
    app = staff_app(settings)
    paths = {getattr(r, "path", None) for r in app.router.routes}
    if "/verify" not in paths:
        app.router.routes[0:0] = public_routes
    panitia = next(r for r in app.router.routes if isinstance(r, Mount) and r.path == "/panitia")
    if not any(getattr(r, "path", None) == "/hasil" for r in panitia.routes):
        panitia.routes.extend(staff_routes)
    return app


@pytest.fixture(scope="session")
async def services(settings: Settings) -> AsyncIterator[Services]:
    async with open_services(settings, background=False) as svc:
        yield svc


@pytest.fixture(scope="session")
def app(settings: Settings, services: Services) -> Starlette:
    application = results_app(settings)
    application.state.services = services  # ASGITransport does not run the lifespan
    return application


async def _persona(app: Starlette, services: Services, role: str) -> StaffClient:
    return await log_in(app, await make_staff(services, role))


@pytest.fixture()
async def admin(app: Starlette, services: Services) -> AsyncIterator[StaffClient]:
    client = await _persona(app, services, "admin")
    yield client
    await client.http.aclose()


@pytest.fixture()
async def panitia(app: Starlette, services: Services) -> AsyncIterator[StaffClient]:
    client = await _persona(app, services, "panitia")
    yield client
    await client.http.aclose()


@pytest.fixture()
async def proctor(app: Starlette, services: Services) -> AsyncIterator[StaffClient]:
    client = await _persona(app, services, "proctor")
    yield client
    await client.http.aclose()


@pytest.fixture()
async def viewer(app: Starlette, services: Services) -> AsyncIterator[StaffClient]:
    client = await _persona(app, services, "viewer")
    yield client
    await client.http.aclose()


@pytest.fixture()
async def anonymous(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")
    yield http
    await http.aclose()
