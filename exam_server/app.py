"""The ASGI application: ``create_app(settings) -> Starlette``.

Run by ``tkd serve`` as ``uvicorn --factory exam_server.app:create_app``; every worker
process builds its own app from the same environment, so any worker can serve any
candidate.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from exam_server.delivery.login import candidate_login
from exam_server.delivery.socket import exam_socket
from exam_server.proctor.pages import routes as proctor_routes
from exam_server.results.routes import public_routes as results_public_routes
from exam_server.results.routes import staff_routes as results_staff_routes
from exam_server.services import Services, open_services
from exam_server.settings import Settings
from exam_server.staff.routes import routes as staff_routes
from exam_server.web.candidate_pages import routes as candidate_routes
from exam_server.web.client_address import TrustedProxies
from exam_server.web.media import public_routes as media_routes
from exam_server.web.security_headers import SecurityHeaders

ROOT = Path(__file__).resolve().parent
TEMPLATES = ROOT / "templates"
STATIC = ROOT / "static"


async def healthz(request: Request) -> JSONResponse:
    services: Services = request.app.state.services
    await services.redis.ping()
    async with services.engine.connect() as conn:
        await conn.exec_driver_sql("SELECT 1")
    return JSONResponse({"ok": True, "worker": services.worker_id})


def create_app(settings: Settings | None = None, *, background: bool = True) -> Starlette:
    settings = settings or Settings.from_env()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with open_services(settings, background=background) as services:
            app.state.services = services
            yield

    routes: list[BaseRoute] = [
        Route("/api/v1/candidate/login", candidate_login, methods=["POST"]),
        WebSocketRoute("/ws/v1/exam", exam_socket),
        Route("/healthz", healthz),
        *media_routes,
        *results_public_routes,
        *candidate_routes,
        Mount("/panitia", routes=[*staff_routes, *proctor_routes, *results_staff_routes]),
        Mount("/static", StaticFiles(directory=STATIC, check_dir=False), name="static"),
    ]
    middleware = [
        # Outermost first: the client's address is settled before anything reads it.
        Middleware(TrustedProxies, trusted=settings.trusted_proxies),
        Middleware(SecurityHeaders),
    ]
    app = Starlette(routes=routes, lifespan=lifespan, middleware=middleware)
    app.state.settings = settings
    app.state.templates = Jinja2Templates(directory=str(TEMPLATES))
    return app
