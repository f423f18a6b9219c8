"""Past capacity, a queue: bounded work in flight and `busy` instead of an error.

Each worker admits at most ``max_inflight_logins`` logins and ``max_inflight_hellos``
hellos at once; beyond that, and whenever a pool (PostgreSQL or Redis) has no connection
to lend in time, the candidate hears ``busy`` with a time to retry (docs/protocol.md).
The page waits and tries again; nothing is lost and nobody sees a 500.
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import Iterator

import redis.exceptions
import sqlalchemy.exc
from starlette.requests import Request
from starlette.responses import JSONResponse

from exam_server.delivery.messages import error_body


class Busy(Exception):
    """This worker cannot take the request now; the client should retry later."""


class Gate:
    """A non-blocking bound on work in flight: enter, or be told ``Busy`` at once."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.in_flight = 0

    @contextlib.contextmanager
    def enter(self) -> Iterator[None]:
        if self.in_flight >= self.limit:
            raise Busy()
        self.in_flight += 1
        try:
            yield
        finally:
            self.in_flight -= 1


def is_exhaustion(exc: BaseException) -> bool:
    """A pool or server that cannot serve now (as opposed to a bug): answer ``busy``.

    SQLAlchemy's pool timeout, a database that refuses or drops connections, and Redis's
    "No connection available" (its blocking pool timed out) or a lost connection.
    """
    if isinstance(exc, Busy | sqlalchemy.exc.TimeoutError | sqlalchemy.exc.OperationalError):
        return True
    if isinstance(exc, sqlalchemy.exc.DBAPIError) and exc.connection_invalidated:
        return True
    if isinstance(exc, redis.exceptions.ConnectionError | redis.exceptions.TimeoutError):
        return True
    return isinstance(exc, ConnectionError | TimeoutError | OSError)


# What the app answers as `busy` on any route (the candidate paths check is_exhaustion).
BUSY_ERRORS: tuple[type[Exception], ...] = (
    Busy,
    sqlalchemy.exc.TimeoutError,
    redis.exceptions.ConnectionError,
)


def pool_exhausted(exc: BaseException) -> bool:
    """This worker's own pool had no connection free in time: the server is busy, not down.

    Only an unreachable service costs candidates time that is given back (outage minutes,
    docs/operations.md); a full pool under a burst must not be recorded as one.
    """
    if isinstance(exc, sqlalchemy.exc.TimeoutError):  # "QueuePool limit ... reached"
        return True
    return isinstance(exc, redis.exceptions.ConnectionError) and str(exc).startswith(
        "No connection available"
    )


def retry_after_s(base_s: int) -> int:
    """The base wait plus jitter, so a queue of phones does not come back in one wave."""
    return base_s + random.randint(0, max(1, base_s))


def busy_response(lang: str, base_s: int) -> JSONResponse:
    wait = retry_after_s(base_s)
    body = error_body("busy", lang)
    body["error"]["retry_after_ms"] = wait * 1000  # type: ignore[assignment]
    return JSONResponse(body, status_code=503, headers={"Retry-After": str(wait)})


async def busy_handler(request: Request, exc: Exception) -> JSONResponse:
    """Any route: a pool timeout or lost database is a 503 ``busy``, never a 500."""
    settings = request.app.state.settings
    return busy_response(settings.default_lang, settings.busy_retry_after_s)
