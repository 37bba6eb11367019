from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_user, logout_user

from portal.access import EVERYONE, PUBLIC, allow
from portal.auth import signin
from portal.extensions import db

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str:
    # Only same-site paths: never redirect to another host after sign-in.
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("library.home")


@bp.route("/login", methods=["GET", "POST"])
@allow(PUBLIC)
def login():
    if current_user.is_authenticated:
        return redirect(_safe_next(request.args.get("next")))
    error = None
    if request.method == "POST":
        throttle = signin.Throttle.from_settings(current_app.config["SETTINGS"])
        try:
            user = signin.sign_in(request.form.get("email", ""), request.form.get("password", ""),
                                  request.remote_addr, throttle)
        except signin.TooManyAttempts as refused:
            return (render_template("auth/login.html", error=refused.message, email=request.form.get("email", "")),
                    429, {"Retry-After": str(refused.retry_after)})
        if user is None:
            error = "Wrong email or password, or the account is deactivated."
        else:
            login_user(user, remember=bool(request.form.get("remember")))
            return redirect(_safe_next(request.args.get("next")))
    return render_template("auth/login.html", error=error, email=request.form.get("email", ""))


@bp.post("/logout")
@allow(*EVERYONE)
def logout():
    # A new session token makes this session's cookie, and any copy of it or of the
    # remember-me cookie, worthless: signing out signs out every browser of this user.
    current_user.revoke_sessions()
    db.session.commit()
    logout_user()
    flash("Signed out.", "info")
    return redirect(url_for("auth.login"))
