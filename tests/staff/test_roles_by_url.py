"""Nobody reaches another role's page by URL: every committee route, every method, every role."""

from __future__ import annotations

import re

from starlette.routing import Route

from exam_server.proctor.pages import routes as proctor_routes
from exam_server.results.routes import staff_routes as results_routes
from exam_server.staff.routes import routes as staff_routes
from exam_server.web.identity import CAPABILITIES

ROUTES = [r for r in [*staff_routes, *proctor_routes, *results_routes] if isinstance(r, Route)]


def _guarded() -> list[tuple[str, str, str]]:
    """(method, concrete path, capability) for every route behind a capability."""
    out = []
    for route in ROUTES:
        capability = getattr(route.endpoint, "capability", None)
        if capability is None:
            continue
        path = "/panitia" + re.sub(
            r"\{(\w+)(:\w+)?\}", lambda m: "csv" if m.group(1) == "fmt" else "999999", route.path
        )
        for method in sorted((route.methods or set()) - {"HEAD"}):
            out.append((method, path, capability))
    return out


def test_every_committee_route_declares_its_capability() -> None:
    public = {"/masuk", "/keluar", "/"}  # log-in, log-out, the home page (any role)
    undeclared = [
        r.path
        for r in ROUTES
        if getattr(r.endpoint, "capability", None) is None and r.path not in public
    ]
    assert undeclared == [], undeclared
    assert len(_guarded()) > 40


async def test_a_role_without_the_capability_gets_403_on_every_route(proctor, viewer) -> None:  # type: ignore[no-untyped-def]
    checked = 0
    for client, role in ((proctor, "proctor"), (viewer, "viewer")):
        for method, path, capability in _guarded():
            if role in CAPABILITIES[capability]:
                continue
            if method == "GET":
                resp = await client.get(path)
            else:
                resp = await client.post(path, {})
            assert resp.status_code == 403, (role, method, path, resp.status_code)
            checked += 1
    assert checked > 40
