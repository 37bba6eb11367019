"""Sharing pages. `bp`: the rep's pages (make a link, my links, one link's visits,
revoke, extend). `buyer`: what a buyer opens, under /s/TOKEN, with no sign-in, no
portal navigation and no portal cookie (see __init__.py), `X-Robots-Tag: noindex`,
`Referrer-Policy: no-referrer` and a Content-Security-Policy narrower than the
portal's. A link shows only what was shared: every buyer URL is under its token
and names pages by their number in what was shared, never by a library id."""

from __future__ import annotations

import json
from datetime import date, timedelta

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from werkzeug.exceptions import HTTPException, NotFound

from portal.access import EVERYONE, PUBLIC, allow
from portal.decks import building
from portal.decks.services import PPTX_MIME, download_name, list_decks
from portal.errors import InvalidInput, TooManyRequests
from portal.extensions import csrf
from portal.files import send_stored
from portal.hardening import _storage_origin
from portal.library.services import get_asset_for
from portal.models import BuildStatus, ShareKind, ShareLink, ShareVisit
from portal.pagination import page_number
from portal.ratelimit import RateLimit
from portal.sharing import gate, links, visits
from portal.sharing.api import share_url
from portal.sharing.content import WITHDRAWN_MESSAGES, beacon_target, content_of, prepare_deck
from portal.sharing.tokens import well_formed

bp = Blueprint("sharing", __name__)
buyer = Blueprint("buyer", __name__, url_prefix="/s")
csrf.exempt(buyer)  # no session, so no form token: the gate is throttled instead (gate.py)


def _settings():
    return current_app.config["SETTINGS"]


def _default_expiry() -> date:
    return date.today() + timedelta(days=_settings().share_days)


# --- the rep's pages -----------------------------------------------------------------------

@bp.get("/shares")
@allow(*EVERYONE)
def index():
    everyone = request.args.get("all") == "1" and current_user.is_staff
    result = links.list_links(current_user, page_number(request.args), everyone=everyone)
    return render_template("sharing/index.html", result=result, everyone=everyone, state=links.state,
                           labels=links.STATE_LABELS)


@bp.get("/shares/new")
@allow(*EVERYONE)
def new():
    asset = None
    if request.args.get("asset_id", "").isdigit():
        asset = get_asset_for(current_user, int(request.args["asset_id"]))
    decks, _ = list_decks(current_user, include_tray=False)
    chosen_deck = request.args.get("deck_id", type=int)
    return render_template("sharing/new.html", asset=asset, decks=[d for d in decks if d.slides],
                           chosen_deck=chosen_deck, default_expiry=_default_expiry(), values={}, errors={})


@bp.post("/shares")
@allow(*EVERYONE)
def create():
    form = request.form.to_dict()
    if form.get("target", "").startswith("deck:"):
        form["deck_id"] = form["target"].removeprefix("deck:")
    elif form.get("target", "").startswith("asset:"):
        form["asset_id"] = form["target"].removeprefix("asset:")
    for name in ("require_email", "allow_download", "notify"):
        form[name] = "1" if form.get(name) else "0"
    try:
        options = links.parse_options(form, default_days=_settings().share_days)
        link, token = links.create_link(current_user, options)
    except InvalidInput as error:
        asset_id = form.get("asset_id", "")
        asset = get_asset_for(current_user, int(asset_id)) if asset_id.isdigit() else None
        decks, _ = list_decks(current_user, include_tray=False)
        return render_template("sharing/new.html", asset=asset, decks=[d for d in decks if d.slides],
                               chosen_deck=None, default_expiry=_default_expiry(), values=form,
                               errors=error.fields or {"form": error.message}), 422
    flash(share_url(token), "share_url")
    return redirect(url_for("sharing.detail", link_id=link.id))


@bp.get("/shares/<int:link_id>")
@allow(*EVERYONE)
def detail(link_id: int):
    link = links.get_link_for(current_user, link_id)
    rows = visits.visits_of(link)
    return render_template("sharing/detail.html", shared=link, visits=rows,
                           pages=visits.visit_pages([v.id for v in rows]), state=links.state(link),
                           labels=links.STATE_LABELS)


@bp.post("/shares/<int:link_id>/revoke")
@allow(*EVERYONE)
def revoke(link_id: int):
    links.revoke(links.get_link_for(current_user, link_id))
    flash("Link revoked: buyers who open it are told so.", "success")
    return redirect(url_for("sharing.detail", link_id=link_id))


@bp.post("/shares/<int:link_id>/extend")
@allow(*EVERYONE)
def extend(link_id: int):
    link = links.get_link_for(current_user, link_id)
    try:
        links.extend(link, request.form.get("expires_on"), _settings().share_days)
        flash(f"The link now expires after {link.expires_on.isoformat()}.", "success")
    except InvalidInput as error:
        flash(error.message, "error")
    return redirect(url_for("sharing.detail", link_id=link_id))


# --- the buyer's pages -----------------------------------------------------------------------

VISIT_COOKIE = "share_visit"
# New visits one client address may start at one link (per web process).
visit_starts = RateLimit("visits", 30, 600)


def buyer_csp() -> str:
    origin = _storage_origin(current_app)
    extra = f" {origin}" if origin else ""
    return "; ".join(("default-src 'none'", "script-src 'self'", "style-src 'self'",
                      f"img-src 'self' data: blob:{extra}", f"connect-src 'self'{extra}", "worker-src 'self' blob:",
                      "font-src 'self' data:", "form-action 'self'", "base-uri 'none'", "frame-ancestors 'none'",
                      "object-src 'none'"))


@buyer.after_request
def buyer_headers(response: Response) -> Response:
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Content-Security-Policy"] = buyer_csp()
    response.headers["Cache-Control"] = "no-store"
    return response


def _plain(status: int, heading: str, message: str) -> tuple[str, int]:
    return render_template("sharing/plain.html", heading=heading, message=message), status


@buyer.errorhandler(HTTPException)
def buyer_http_error(error: HTTPException):
    if error.code == 404:
        return _plain(404, "Link not found", "This link does not exist. Check that you copied all of it.")
    return _plain(error.code or 400, "Not available", error.description or "This request cannot be answered.")


@buyer.errorhandler(InvalidInput)
def buyer_invalid(error: InvalidInput):
    response = make_response(_plain(error.status, "Not available", error.message))
    if isinstance(error, TooManyRequests):
        response.headers["Retry-After"] = str(error.retry_after)
    return response


def _live_link(token: str, *, check_content: bool = True, lean: bool = False) -> ShareLink:
    """The link of a token: unknown → 404; revoked or expired → 410 (raised as a page).
    `lean`: only the columns a beacon needs, and the content is not checked."""
    find = links.find_row_by_token if lean else links.find_by_token
    link = find(token) if well_formed(token) else None
    if link is None:
        raise NotFound()
    state = links.state(link, check_content=check_content and not lean)
    if state == "revoked":
        raise Gone("Link revoked", "The sender has revoked this link; ask them for a new one.")
    if state == "expired":
        raise Gone("Link expired", f"This link expired on {link.expires_on.isoformat()}; ask the sender for a "
                   "new one.")
    return link


class Gone(HTTPException):
    code = 410

    def __init__(self, heading: str, message: str):
        super().__init__(message)
        self.heading = heading


@buyer.errorhandler(Gone)
def buyer_gone(error: Gone):
    return _plain(410, error.heading, error.description)


def _visit(link: ShareLink) -> ShareVisit | None:
    return visits.visit_for_key(link, request.cookies.get(VISIT_COOKIE))


def _content_or_gone(link: ShareLink):
    content = content_of(link)
    if content.withdrawn:
        visits.note_withdrawn(link, content.withdrawn)
        raise Gone("Content withdrawn", WITHDRAWN_MESSAGES[content.withdrawn])
    return content


def _start(link: ShareLink, email: str | None, token: str) -> Response:
    visit_starts.check((link.id, request.remote_addr))
    visit, key = visits.start_visit(link, email=email, user_agent=request.headers.get("User-Agent"),
                                    revisit_days=_settings().share_revisit_days)
    response = redirect(url_for("buyer.open_link", token=token, opened=1), code=303)
    response.set_cookie(VISIT_COOKIE, key, max_age=visits.VISIT_HOURS * 3600, path=f"/s/{token}",
                        secure=_settings().cookie_secure, httponly=True, samesite="Strict")
    return response


@buyer.get("/<token>")
@allow(PUBLIC)
def open_link(token: str):
    link = _live_link(token)
    content = _content_or_gone(link)
    if link.kind == ShareKind.DECK and content.pdf_key is None:
        prepare_deck(link)  # while the buyer passes the gate or reads the pictures
        content = content_of(link)
    visit = _visit(link)
    if not visits.reusable(visit):
        if request.args.get("opened"):  # just sent the visit's cookie, and it did not come back
            return _plain(400, "Cookies needed", "Your browser did not keep this link's cookie. Allow cookies for "
                          "this site, then open the link again.")
        if gate.needs_gate(link):
            return render_template("sharing/gate.html", link=link, errors={}, values={})
        return _start(link, None, token)
    return render_template("sharing/buyer.html", link=link, content=content, visit=visit, token=token,
                           owner=link.owner)


@buyer.post("/<token>")
@allow(PUBLIC)
def pass_gate(token: str):
    link = _live_link(token)
    _content_or_gone(link)
    if not gate.needs_gate(link):
        return _start(link, None, token)
    try:
        email = gate.check(link, request.form, request.remote_addr, gate.GateLimits.from_settings(_settings()))
    except TooManyRequests:
        raise
    except InvalidInput as error:
        return render_template("sharing/gate.html", link=link, errors=error.fields,
                               values={"email": request.form.get("email", "")[:254]}), 422
    return _start(link, email, token)


def _viewing(token: str):
    """(link, content, visit) for a request of an open visit; anything else is 404."""
    link = _live_link(token)
    content = _content_or_gone(link)
    visit = _visit(link)
    if visit is None:
        raise NotFound()
    return link, content, visit


@buyer.get("/<token>/pages/<int:number>.png")
@allow(PUBLIC)
def page_image(token: str, number: int):
    _, content, _ = _viewing(token)
    shared = content.page(number)
    if shared is None or not shared.page.thumbnail_key:
        raise NotFound()
    return send_stored(shared.page.thumbnail_key, filename=f"page-{number}.png", mime="image/png",
                       as_attachment=False)


def _json_or_none(raw: str | None):
    try:
        return json.loads(raw) if raw else None
    except (ValueError, RecursionError):
        return None


def _being_prepared(message: str) -> Response:
    response = make_response(_plain(202, "Being prepared", message))
    response.headers["Retry-After"] = "5"
    return response


@buyer.get("/<token>/document.pdf")
@allow(PUBLIC)
def document(token: str):
    """The shared item as PDF, for the viewer (shown in the page, never as a download)."""
    _, content, _ = _viewing(token)
    if content.pdf_key is None and content.preparing and content.pages:  # a deck's PDF being made
        return _being_prepared("This is being prepared; try again in a moment.")
    if content.pdf_key is None:
        raise NotFound()
    return send_stored(content.pdf_key, filename="document.pdf", mime="application/pdf", as_attachment=False)


@buyer.get("/<token>/download")
@allow(PUBLIC)
def download(token: str):
    link, content, visit = _viewing(token)
    if not link.allow_download or not content.pages:
        raise NotFound()
    if link.kind == ShareKind.ASSET:
        version = link.asset.current_version
        response = send_stored(version.storage_key, filename=version.filename, mime=version.mime)
    else:
        build = building.wait_for(building.request_build(link.owner, link.deck), _settings().deck_wait_seconds)
        if build.status == BuildStatus.FAILED:
            return _plain(503, "Not available", "The file cannot be prepared right now; read it here instead.")
        if build.status != BuildStatus.READY:
            return _being_prepared("The file is being prepared; try the download again in a moment.")
        response = send_stored(build.storage_key, filename=download_name(link.deck), mime=PPTX_MIME)
    visits.note_download(visit)
    return response


@buyer.post("/<token>/beacon")
@allow(PUBLIC)
def beacon(token: str):
    """Time per page from the viewer (navigator.sendBeacon): 204 whether kept or
    ignored (an unknown visit); 400/413 for malformed ones; 410/404 as the page."""
    link = _live_link(token, lean=True)
    target = beacon_target(link)
    if target.withdrawn:
        return "", 204
    if (request.content_length or 0) > visits.MAX_BEACON_BYTES:
        raise InvalidInput("The beacon is too large.", status=413)
    if request.mimetype in ("multipart/form-data", "application/x-www-form-urlencoded"):  # the viewer's fallback
        body = json.dumps({"pages": _json_or_none(request.form.get("pages"))}).encode()
    else:
        body = request.stream.read(visits.MAX_BEACON_BYTES + 1)
    parsed = visits.parse_beacon(body)
    visits.record_beacon(link, target, parsed, request.cookies.get(VISIT_COOKIE))
    return "", 204
