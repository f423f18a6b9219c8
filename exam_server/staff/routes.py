"""Every committee page, to be mounted at ``/panitia``."""

from __future__ import annotations

from starlette.routing import BaseRoute

from exam_server.staff import (
    exam_preview,
    pages_auth,
    pages_bank,
    pages_candidates,
    pages_cards,
    pages_dashboard,
    pages_exams,
    pages_sessions,
)
from exam_server.staff import pages_bank_text as bank_editing

routes: list[BaseRoute] = [
    *pages_auth.routes,
    *pages_candidates.routes,
    *pages_bank.routes,
    *bank_editing.routes,
    *pages_exams.routes,
    *exam_preview.routes,
    *pages_sessions.routes,
    *pages_cards.routes,
    *pages_dashboard.routes,
]
