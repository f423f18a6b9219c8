"""Ending a candidate's tokens and open sockets when their password is reissued.

A token names the password it was issued for (``credential_version``); hello compares it
with the candidate's current password, so an impersonator's token dies with the old
password (docs/security.md, "Impersonation").
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from exam_server.db.models import Attempt, Candidate
from exam_server.delivery.credentials import CandidateClaims, credential_version, hash_password
from exam_server.delivery.prepared import credentials_changed
from exam_server.delivery.services import Services

log = logging.getLogger(__name__)


class IssuedPassword(Protocol):
    """What a reissue hands back (the staff store's ``IssuedCredential``)."""

    @property
    def candidate_id(self) -> int: ...
    @property
    def participant_no(self) -> str: ...
    @property
    def password(self) -> str: ...


async def token_is_current(services: Services, claims: CandidateClaims) -> bool:
    """Whether the token's password is still the candidate's.

    Redis knows the current password's version for a prepared candidate (and for a
    reissue from the candidate's page or ``tkd candidates password``), so the 08:00 hello
    does not ask PostgreSQL (docs/operations.md, "Prepared
    sessions"). Otherwise PostgreSQL; while it does not answer, a signed token is taken as
    current: a reissue needs PostgreSQL too, and the phone must keep answering through an
    outage (docs/security.md, "Impersonation")."""
    known = await services.prepared.credential(claims.candidate_id)
    if known is not None and claims.version == known:
        return True
    # Not known, or another version: a batch of cards reissued after the preparation is
    # learnt by the next one; until then PostgreSQL decides.
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


async def passwords_reissued(
    services: Services, issued: Iterable[IssuedPassword], end_sockets: bool = True
) -> None:
    """After new passwords are committed: the 08:00 path learns them at once, and (unless
    told not to, as for a printed batch of cards) every worker closes these candidates'
    sockets; reconnecting needs the new password."""
    secret = services.settings.secret_key_value
    rows = list(issued)
    await credentials_changed(
        services.redis, [(c.participant_no, hash_password(secret, c.password)) for c in rows]
    )
    for c in rows if end_sockets else []:
        await end_open_sockets(services, c.candidate_id)


async def end_open_sockets(services: Services, candidate_id: int) -> None:
    """Every worker closes this candidate's sockets; reconnecting needs the new password."""
    async with services.sessions() as db:
        attempts = list(
            await db.scalars(select(Attempt.id).where(Attempt.candidate_id == candidate_id))
        )
    for attempt_id in attempts:
        await services.store.publish({"t": "replaced", "a": attempt_id, "c": ""})
