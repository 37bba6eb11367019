from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_user
from sqlalchemy import select
from werkzeug.exceptions import NotFound

from portal.access import allow
from portal.admin import services
from portal.errors import InvalidInput
from portal.extensions import db
from portal.models import ADMIN_ROLES, ROLES, ApiToken, User, utcnow

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.get("/users")
@allow(*ADMIN_ROLES)
def users():
    rows = list(db.session.scalars(select(User).order_by(User.role, User.email)))
    return render_template("admin/users.html", users=rows, roles=ROLES, errors={}, values={})


@bp.post("/users")
@allow(*ADMIN_ROLES)
def create_user():
    form = request.form
    try:
        user, created = services.save_user(
            form.get("email", ""), role=form.get("role"), password=form.get("password") or None,
            name=form.get("name", ""), team=form.get("team", ""), region=form.get("region", ""),
        )
    except InvalidInput as error:
        db.session.rollback()
        rows = list(db.session.scalars(select(User).order_by(User.role, User.email)))
        return render_template("admin/users.html", users=rows, roles=ROLES, errors=error.fields, values=form), 422
    _stay_signed_in(user)
    flash(f"{'Created' if created else 'Updated'} {user.email}.", "success")
    return redirect(url_for("admin.users"))


@bp.post("/users/<int:user_id>")
@allow(*ADMIN_ROLES)
def update_user(user_id: int):
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound()
    form = request.form
    active = form.get("active") == "1"
    if user.id == current_user.id and (not active or form.get("role") not in ADMIN_ROLES):
        flash("You cannot deactivate yourself or remove your own admin role.", "error")
        return redirect(url_for("admin.users"))
    try:
        services.save_user(user.email, role=form.get("role"), name=form.get("name"), team=form.get("team"),
                           region=form.get("region"), active=active, password=form.get("password") or None)
    except InvalidInput as error:
        db.session.rollback()
        flash("; ".join(error.fields.values()) or error.message, "error")
        return redirect(url_for("admin.users"))
    _stay_signed_in(user)
    flash(f"Saved {user.email}.", "success")
    return redirect(url_for("admin.users"))


def _stay_signed_in(user: User) -> None:
    """An admin who changed their own password signed every session of theirs out;
    this one, where they just proved who they are, goes on with the new token."""
    if user.id == current_user.id:
        login_user(user)


@bp.get("/tokens")
@allow(*ADMIN_ROLES)
def tokens():
    rows = list(db.session.scalars(select(ApiToken).order_by(ApiToken.id.desc())))
    return render_template("admin/tokens.html", tokens=rows, now=utcnow())


@bp.post("/tokens/<int:token_id>/revoke")
@allow(*ADMIN_ROLES)
def revoke_token(token_id: int):
    token = db.session.get(ApiToken, token_id)
    if token is None:
        raise NotFound()
    token.revoked_at = token.revoked_at or utcnow()
    db.session.commit()
    flash("Token revoked.", "success")
    return redirect(url_for("admin.tokens"))


@bp.get("/health")
@allow(*ADMIN_ROLES)
def health():
    from portal.health import system_health

    return render_template("admin/health.html", health=system_health())


