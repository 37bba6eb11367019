"""Share links API (docs/api.md, "Share links"): everyone makes and reads their own
links; staff read everyone's; the owner (or an admin) changes one."""

from __future__ import annotations

from flask import Blueprint, current_app, request, url_for
from flask_login import current_user

from portal.access import EVERYONE, allow
from portal.api import json_body, listing, pagination
from portal.api.spec import (
    BOOLEAN,
    DATE,
    DATETIME,
    ID,
    INTEGER,
    PAGING,
    STRING,
    api_doc,
    array,
    enum,
    listing_of,
    nullable,
    obj,
)
from portal.library.serializers import iso
from portal.models import ShareKind, ShareLink
from portal.sharing import links, visits

bp = Blueprint("sharing", __name__)  # mounted under /api/v1 by create_app

KINDS = ("asset", "deck", "collection")
ROOM_ITEM = obj({"position": INTEGER, "asset_id": INTEGER, "title": STRING})
LINK = obj({
    "id": INTEGER, "url": nullable(STRING), "kind": enum(*KINDS),
    "target": obj({"type": enum(*KINDS), "id": INTEGER, "title": STRING, "items": array(ROOM_ITEM)},
                  required=["type", "id", "title"]), "title": STRING,
    "owner": obj({"id": INTEGER, "email": STRING, "name": STRING}), "expires_on": DATE,
    "require_email": BOOLEAN, "passcode": BOOLEAN, "allow_download": BOOLEAN, "notify": BOOLEAN,
    "account": STRING, "opportunity": STRING, "revoked": BOOLEAN, "revoked_at": nullable(DATETIME),
    "state": enum("live", "revoked", "expired", "withdrawn"), "created_at": DATETIME, "visits_count": INTEGER,
    "last_visit_at": nullable(DATETIME),
})
VISIT = obj({
    "id": INTEGER, "email": nullable(STRING), "started_at": DATETIME, "last_seen_at": DATETIME,
    "device": enum(*visits.DEVICES), "seconds": INTEGER, "pages": array(obj({"number": INTEGER, "seconds": INTEGER, "item": INTEGER, "title": STRING},
                       required=["number", "seconds"])),
    "downloaded": BOOLEAN,
})
LINK_WITH_VISITS = {**LINK, "properties": {**LINK["properties"], "visits": array(VISIT)},
                    "required": [*LINK["required"], "visits"]}
SHARE_BODY = obj({"asset_id": ID, "deck_id": ID, "collection_id": ID, "expires_on": DATE, "require_email": BOOLEAN,
                  "passcode": nullable(STRING), "allow_download": BOOLEAN, "notify": BOOLEAN, "account": STRING,
                  "opportunity": STRING}, required=[])


def share_url(token: str) -> str:
    return url_for("buyer.open_link", token=token, _external=True)


PAGE_KEYS = ("item", "title", "number", "seconds")


def _target(link: ShareLink) -> dict:
    if link.kind == ShareKind.ASSET:
        return {"type": "asset", "id": link.asset_id, "title": link.asset.title}
    if link.kind == ShareKind.DECK:
        return {"type": "deck", "id": link.deck_id, "title": link.deck.title}
    return {"type": "collection", "id": link.collection_id, "title": link.collection.title,
            "items": [{"position": item.position, "asset_id": item.asset_id, "title": item.asset.title}
                      for item in link.items]}


def link_json(link: ShareLink, *, url: str | None = None, with_visits: bool = False) -> dict:
    target = _target(link)
    body = {
        "id": link.id,
        "url": url,  # only when made: the token is kept hashed and cannot be shown again
        "kind": link.kind,
        "target": target,
        "title": link.title,
        "owner": {"id": link.owner.id, "email": link.owner.email, "name": link.owner.display_name},
        "expires_on": iso(link.expires_on),
        "require_email": link.require_email,
        "passcode": link.passcode_hash is not None,
        "allow_download": link.allow_download,
        "notify": link.notify,
        "account": link.account,
        "opportunity": link.opportunity,
        "revoked": link.revoked_at is not None,
        "revoked_at": iso(link.revoked_at),
        "state": links.state(link),
        "created_at": iso(link.created_at),
        "visits_count": link.visits_count,
        "last_visit_at": iso(link.last_visit_at),
    }
    if with_visits:
        rows = visits.visits_of(link)
        pages = visits.pages_read(link, [v.id for v in rows])
        body["visits"] = [{"id": v.id, "email": v.email, "started_at": iso(v.started_at),
                           "last_seen_at": iso(v.last_seen_at), "device": v.device, "seconds": v.seconds,
                           "pages": [{key: p[key] for key in PAGE_KEYS if key in p} for p in pages[v.id]],
                           "downloaded": v.downloaded} for v in rows]
    return body


@bp.post("/shares")
@allow(*EVERYONE)
@api_doc(json=SHARE_BODY, responses={201: LINK})
def create_share():
    """Make a link to one item, one of the caller's saved decks, or a collection they may see, as a
    room of its items (201, with its URL shown this once)."""
    options = links.parse_options(json_body(), default_days=current_app.config["SETTINGS"].share_days)
    link, token = links.create_link(current_user, options)
    return link_json(link, url=share_url(token)), 201


@bp.get("/shares")
@allow(*EVERYONE)
@api_doc(query={**PAGING, "all": enum("0", "1")}, responses={200: listing_of(LINK)})
def list_shares():
    """The caller's links, newest first (`?all=1`: everyone's, for staff)."""
    page, per_page = pagination()
    result = links.list_links(current_user, page, per_page, everyone=request.args.get("all") == "1")
    return listing([link_json(link) for link in result.items], result.total, page, per_page)


@bp.get("/shares/<int:link_id>")
@allow(*EVERYONE)
@api_doc(responses={200: LINK_WITH_VISITS})
def get_share(link_id: int):
    """One link with its visits: who, when, device, pages and seconds, downloads."""
    return link_json(links.get_link_for(current_user, link_id), with_visits=True)


@bp.patch("/shares/<int:link_id>")
@allow(*EVERYONE)
@api_doc(json=obj({"expires_on": DATE}), responses={200: LINK_WITH_VISITS})
def update_share(link_id: int):
    """Extend (or shorten) a link: {"expires_on": "YYYY-MM-DD"}."""
    link = links.get_link_for(current_user, link_id)
    links.extend(link, json_body().get("expires_on"), current_app.config["SETTINGS"].share_days)
    return link_json(link, with_visits=True)


@bp.post("/shares/<int:link_id>/revoke")
@allow(*EVERYONE)
@api_doc(json=obj({}, required=[]), responses={200: LINK_WITH_VISITS})
def revoke_share(link_id: int):
    """Revoke a link: buyers get 410 from now on."""
    return link_json(links.revoke(links.get_link_for(current_user, link_id)), with_visits=True)
