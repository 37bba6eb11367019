"""User management, shared by the admin pages, the API and the CLI."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from portal.auth.passwords import password_problem
from portal.errors import InvalidInput
from portal.extensions import db
from portal.models import ROLES, User

EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def find_user(email: str) -> User | None:
    return db.session.execute(
        select(User).where(func.lower(User.email) == email.strip().lower())
    ).scalar_one_or_none()


def save_user(email: str, *, role: str | None = None, password: str | None = None, name: str | None = None,
              team: str | None = None, region: str | None = None, active: bool | None = None) -> tuple[User, bool]:
    """Create the user or update the given fields; returns (user, created)."""
    email = email.strip().lower()
    errors = {}
    if not EMAIL_PATTERN.match(email):
        errors["email"] = "Enter a valid email address."
    if role is not None and role not in ROLES:
        errors["role"] = f"Role must be one of: {', '.join(ROLES)}."
    if password is not None and (problem := password_problem(password, email)):
        errors["password"] = problem
    user = find_user(email) if not errors.get("email") else None
    if user is None and password is None:
        errors["password"] = "A new user needs a password."
    if errors:
        raise InvalidInput("Some fields need attention.", errors)
    created = user is None
    if created:
        user = User(email=email, role=role or "rep", name=name or "", team=team or None, region=region or None)
        db.session.add(user)
    else:
        if role is not None:
            user.role = role
        if name is not None:
            user.name = name
        if team is not None:
            user.team = team or None
        if region is not None:
            user.region = region or None
    if active is not None:
        user.active = active
    if password is not None:
        user.set_password(password)  # also signs the user out everywhere (User.revoke_sessions)
    db.session.commit()
    return user, created
