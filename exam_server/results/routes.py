"""Routes of the results package: ``public_routes`` at the root, ``staff_routes`` under
``/panitia`` (next to the committee's other pages)."""

from __future__ import annotations

from starlette.routing import BaseRoute

from exam_server.results import pages_public, pages_staff, pages_story

public_routes: list[BaseRoute] = list(pages_public.routes)
staff_routes: list[BaseRoute] = [*pages_staff.routes, *pages_story.routes]
