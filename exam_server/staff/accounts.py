"""Staff accounts: listing, finding, creating and changing them (the staff page and
``tkd staff`` share this)."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from exam_server.db.audit import Actor, changed, record
from exam_server.db.staff_models import ROLES, StaffUser
from exam_server.refusal import Refusal
from exam_server.web import passwords

USERNAME = re.compile(r"^[a-z0-9._-]{3,80}$")


class AccountError(Refusal):
    """A staff account change the account rules refuse."""


def check_new_account(username: str, role: str, password: str) -> str:
    username = username.strip().lower()
    if not USERNAME.match(username):
        raise AccountError(
            "Nama pengguna 3-80 karakter: huruf kecil, angka, titik, garis.",
            "A username is 3-80 characters: lower-case letters, digits, dot, dash, underscore.",
        )
    if role not in ROLES:
        raise AccountError(
            f"Peran tidak dikenal: {role}.",
            f"Unknown role: {role} ({', '.join(ROLES)}).",
        )
    try:
        passwords.check_strength(password, username)
    except passwords.WeakPasswordError as exc:
        raise AccountError(exc.id_text, exc.en_text) from None
    return username


async def staff_users(db: AsyncSession) -> list[StaffUser]:
    """Every account, by username."""
    return list(await db.scalars(select(StaffUser).order_by(StaffUser.username)))


async def active_proctors(db: AsyncSession) -> list[StaffUser]:
    """The accounts that may be assigned to a session as its proctor, by username."""
    return list(
        await db.scalars(
            select(StaffUser)
            .where(StaffUser.role == "proctor", StaffUser.active)
            .order_by(StaffUser.username)
        )
    )


async def get_account(db: AsyncSession, staff_id: int, lock: bool = False) -> StaffUser | None:
    """The account, or None; ``lock`` holds its row (FOR UPDATE) until the caller commits."""
    return await db.get(StaffUser, staff_id, with_for_update=lock)


async def account_named(db: AsyncSession, username: str, lock: bool = False) -> StaffUser | None:
    """The account with this username (as stored: lower case), or None."""
    query = select(StaffUser).where(StaffUser.username == username)
    return await db.scalar(query.with_for_update() if lock else query)


async def create_account(
    db: AsyncSession, actor: Actor, username: str, full_name: str, role: str, password: str
) -> StaffUser:
    username = check_new_account(username, role, password)
    if await db.scalar(select(StaffUser.id).where(StaffUser.username == username)):
        raise AccountError(
            f"Nama pengguna {username} sudah dipakai.", f"The username {username} is taken."
        )
    user = StaffUser(
        username=username,
        full_name=full_name.strip(),
        role=role,
        password_hash=await passwords.hash_password(password),
        active=True,
        failed_logins=0,
    )
    db.add(user)
    await db.flush()
    # Never the password or its hash in the log.
    record(
        db,
        actor,
        "staff.create",
        "staff",
        user.id,
        new={"username": username, "full_name": user.full_name, "role": role},
    )
    return user


async def update_account(
    db: AsyncSession,
    actor: Actor,
    user: StaffUser,
    role: str,
    active: bool,
    new_password: str = "",
) -> bool:
    """Change a role, enable or disable, or set a new password; whether anything changed.

    Nobody demotes or disables themself, and the last active admin stays one: otherwise
    nobody could manage accounts any more but from a database console.
    """
    if role not in ROLES:
        raise AccountError("Peran tidak dikenal.", "Unknown role.")
    if user.id == actor.staff_id and (role != "admin" or not active):
        raise AccountError(
            "Anda tidak dapat menurunkan atau menonaktifkan akun sendiri.",
            "You cannot demote or disable your own account.",
        )
    if user.role == "admin" and user.active and (role != "admin" or not active):
        admins = await db.scalars(
            select(StaffUser.id)
            .where(StaffUser.role == "admin", StaffUser.active, StaffUser.id != user.id)
            .with_for_update()
        )
        if not list(admins):
            raise AccountError(
                f"{user.username} adalah admin aktif terakhir.",
                f"{user.username} is the last active admin.",
            )
    old, new = changed({"role": user.role, "active": user.active}, {"role": role, "active": active})
    if new_password:
        try:
            passwords.check_strength(new_password, user.username)
        except passwords.WeakPasswordError as exc:
            raise AccountError(exc.id_text, exc.en_text) from None
        user.password_hash = await passwords.hash_password(new_password)
        user.failed_logins, user.locked_until = 0, None
        new["password"] = "(diganti / changed)"  # that it changed, never what to
    user.role, user.active = role, active
    if new:
        record(db, actor, "staff.update", "staff", user.id, old=old, new=new)
    return bool(new)
