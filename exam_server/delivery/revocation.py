"""Ending a candidate's tokens and open sockets when their password is reissued.

A token names the password it was issued for (``credential_version``); hello compares it
with the candidate's current password, so an impersonator's token dies with the old
password (docs/security.md, "Impersonation").
"""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from exam_server.db.models import Attempt, Candidate
from exam_server.delivery.credentials import CandidateClaims, credential_version
from exam_server.delivery.services import Services

log = logging.getLogger(__name__)


async def token_is_current(services: Services, claims: CandidateClaims) -> bool:
    """Whether the token's password is still the candidate's. While PostgreSQL does not
    answer, a signed token is taken as current: a reissue needs PostgreSQL too, and the
    phone must keep answering through an outage (docs/security.md, "Impersonation")."""
    try:
        async with services.sessions() as db:
            stored = await db.scalar(
                select(Candidate.password_hash).where(Candidate.id == claims.candidate_id)
            )
    except (SQLAlchemyError, OSError) as exc:
        log.warning("hello for attempt %s: password not checked (%s)", claims.attempt_id, exc)
        return bool(claims.version)
    return (
        stored is not None and bool(claims.version) and claims.version == credential_version(stored)
    )


async def end_open_sockets(services: Services, candidate_id: int) -> None:
    """Every worker closes this candidate's sockets; reconnecting needs the new password."""
    async with services.sessions() as db:
        attempts = list(
            await db.scalars(select(Attempt.id).where(Attempt.candidate_id == candidate_id))
        )
    for attempt_id in attempts:
        await services.store.publish({"t": "replaced", "a": attempt_id, "c": ""})
