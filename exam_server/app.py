"""The ASGI application: ``create_app(settings) -> Starlette``.

Run by ``tkd serve`` as ``uvicorn --factory exam_server.app:create_app``; every worker
process builds its own app from the same environment, so any worker can serve any
candidate.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import AsyncIterator
from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from exam_server.delivery.background import background_tasks, tune_collector
from exam_server.delivery.backpressure import BUSY_ERRORS, busy_handler
from exam_server.delivery.checkpoint import CHANGES
from exam_server.delivery.login import candidate_login
from exam_server.delivery.services import Services, open_services
from exam_server.delivery.socket import exam_socket
from exam_server.delivery.writebehind import CURSOR, stream_lag_ms
from exam_server.proctor.pages import routes as proctor_routes
from exam_server.results.routes import public_routes as results_public_routes
from exam_server.results.routes import staff_routes as results_staff_routes
from exam_server.settings import Settings
from exam_server.staff.routes import routes as staff_routes
from exam_server.web.candidate_pages import routes as candidate_routes
from exam_server.web.client_address import TrustedProxies
from exam_server.web.media import public_routes as media_routes
from exam_server.web.security_headers import SecurityHeaders

ROOT = Path(__file__).resolve().parent
TEMPLATES = ROOT / "templates"
STATIC = ROOT / "static"

log = logging.getLogger(__name__)


async def healthz(request: Request) -> JSONResponse:
    """Redis and PostgreSQL answer; how far the write-behind lags; whether news flows.

    ``writebehind_lag_ms`` is the age of the oldest change not yet in PostgreSQL,
    ``stream_length`` the changes waiting in Redis, ``pubsub`` this worker's subscription,
    ``loop_lag_ms`` the worst lateness of this worker's event loop in the last minute,
    ``busy_changes`` how many changes this worker has answered ``busy`` since it started.
    Over the alarm thresholds the answer is still 200 (the worker serves candidates) with
    ``alarms`` listing why, and the same ALARM goes to the log (docs/operations.md).
    """
    services: Services = request.app.state.services
    settings = services.settings
    await services.redis.ping()
    async with services.engine.connect() as conn:
        await conn.exec_driver_sql("SELECT 1")
    cursor = await services.redis.get(CURSOR) or "0-0"
    pending = await services.redis.xrange(CHANGES, min=f"({cursor}", count=1)
    lag = stream_lag_ms(pending[0][0] if pending else None, int(time.time() * 1000))
    length = int(await services.redis.xlen(CHANGES))
    hub = services.hub
    alarms = []
    if lag > settings.writebehind_alarm_s * 1000:
        alarms.append("writebehind_lag")
    if length > settings.stream_alarm_len:
        alarms.append("stream_length")
    if not hub.subscribed:
        alarms.append("pubsub")
    if alarms:
        log.error("ALARM: %s (lag %d ms, stream %d)", ", ".join(alarms), lag, length)
    return JSONResponse(
        {
            "ok": True,
            "worker": services.worker_id,
            "writebehind_lag_ms": lag,
            "stream_length": length,
            "pubsub": {
                "subscribed": hub.subscribed,
                "resubscribes": hub.resubscribes,
                "last_event_ms": hub.last_event_ms,
            },
            "connections": len(hub.connections()),
            "loop_lag_ms": services.loop_lag.worst_ms(),
            "busy_changes": services.busy_changes,
            "gc": {
                "full_collections": services.loop_lag.full_collections,
                "worst_ms": round(services.loop_lag.worst_collection_ms),
            },
            "alarms": alarms,
        }
    )


def create_app(settings: Settings | None = None, *, background: bool = True) -> Starlette:
    settings = settings or Settings.from_env()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with open_services(settings) as services:
            app.state.services = services
            if not background:
                yield
                return
            async with background_tasks(services):
                tune_collector()
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
    # Any route: a pool timeout or lost connection answers 503 `busy`, never a 500 (issue 11).
    busy = dict.fromkeys(BUSY_ERRORS, busy_handler)
    app = Starlette(
        routes=routes, lifespan=lifespan, middleware=middleware, exception_handlers=busy
    )
    app.state.settings = settings
    app.state.templates = Jinja2Templates(directory=str(TEMPLATES))
    return app
