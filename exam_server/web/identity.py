"""Who a staff member is and what each role may do: the part of the page kit that rendering
and the page decorator (:mod:`exam_server.web.auth`) both need.

Roles (docs/committee.md): ``admin`` does everything and manages staff; ``panitia`` runs the
bank, exams, candidates and sessions; ``proctor`` sees only the sessions given to them;
``viewer`` reads dashboards and exports. Each page names one capability.
"""

from __future__ import annotations

from dataclasses import dataclass

from exam_server.db.audit import Actor

CAPABILITIES: dict[str, frozenset[str]] = {
    "staff.manage": frozenset({"admin"}),
    "audit.view": frozenset({"admin"}),
    "bank.edit": frozenset({"admin", "panitia"}),
    "exams.edit": frozenset({"admin", "panitia"}),
    "candidates.edit": frozenset({"admin", "panitia"}),
    "sessions.edit": frozenset({"admin", "panitia"}),
    "cards.print": frozenset({"admin", "panitia"}),
    # Proctors pass these only for the sessions assigned to them (``may_see_session``).
    "sessions.view": frozenset({"admin", "panitia", "proctor"}),
    "dashboard.view": frozenset({"admin", "panitia", "proctor", "viewer"}),
    "export": frozenset({"admin", "panitia", "viewer"}),
}


def allowed(role: str, capability: str) -> bool:
    return role in CAPABILITIES[capability]


@dataclass(frozen=True)
class Staff:
    id: int
    username: str
    full_name: str
    role: str
    sid: str
    csrf: str

    @property
    def actor(self) -> Actor:
        return Actor(self.id, self.username)

    def can(self, capability: str) -> bool:
        return allowed(self.role, capability)
