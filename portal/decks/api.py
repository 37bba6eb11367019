"""Decks API (shared/api.md): the caller's own decks; others' decks are 404.

Downloads are assembled by the queue (building.py); `deck_download` is shared
with the deck pages: it serves the stored file of the deck's current revision,
waiting a bounded time for a build in progress."""

from __future__ import annotations

from flask import Blueprint, current_app, url_for
from flask_login import current_user
from werkzeug.exceptions import NotFound

from portal.access import EVERYONE, allow
from portal.api import json_body, listing, pagination
from portal.api.spec import (
    BOOLEAN,
    DATETIME,
    ID,
    INTEGER,
    PAGING,
    STRING,
    api_doc,
    array,
    binary,
    enum,
    listing_of,
    nullable,
    obj,
)
from portal.decks import building, renditions, services
from portal.extensions import db
from portal.files import send_stored
from portal.library.serializers import iso, page_thumbnail_url
from portal.models import BuildStatus, Deck, DeckBuild, Page

bp = Blueprint("decks", __name__)  # mounted under /api/v1 by create_app


DECK = obj({
    "id": INTEGER, "title": nullable(STRING), "created_at": DATETIME, "updated_at": DATETIME,
    "pages": array(obj({
        "position": INTEGER, "page_id": INTEGER, "asset_id": INTEGER, "asset_title": STRING, "number": INTEGER,
        "title": nullable(STRING), "thumbnail_url": nullable(STRING), "version": INTEGER, "stale": BOOLEAN,
        "retired": BOOLEAN,
    })),
    "size": obj({"width_emu": nullable(INTEGER), "height_emu": nullable(INTEGER), "label": STRING,
                 "chosen": BOOLEAN}),
    "warnings": array(STRING),
})
# size: null (the first slide's), "16:9", "4:3" or {"width_emu", "height_emu"} (services.parse_size).
SLIDE_EMU = {"type": "integer", "minimum": services.MIN_SLIDE_EMU, "maximum": services.MAX_SLIDE_EMU}
SIZE_BODY = nullable({"oneOf": [enum("16:9", "4:3"),
                                obj({"width_emu": SLIDE_EMU, "height_emu": SLIDE_EMU}, additional=False)]})
DECK_BODY = obj({"title": STRING, "page_ids": array(ID), "size": SIZE_BODY}, required=["title"])
LINEAGE = obj({
    "group_id": nullable(INTEGER),
    "copies": array(obj({"page_id": INTEGER, "asset_id": INTEGER, "asset_title": STRING, "number": INTEGER,
                         "status": STRING, "newest": BOOLEAN})),
})
BUILD = obj({
    "deck_id": INTEGER, "revision": nullable(STRING),
    "status": enum("none", "pending", "building", "ready", "failed"),
    "progress": obj({"done": nullable(INTEGER), "total": nullable(INTEGER)}), "error": nullable(STRING),
    "size": nullable(INTEGER), "download_url": STRING,
    # The PDF made of it for the viewer (GET /decks/{id}/preview), when one was asked for.
    "rendition": obj({"status": enum("none", "pending", "ready", "failed"), "pages": nullable(INTEGER),
                      "error": nullable(STRING)}),
})
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"


def deck_json(deck: Deck) -> dict:
    states = services.slide_states(deck)
    return {
        "id": deck.id,
        "title": deck.title,
        # The deck's slide size (chosen, or the first slide's) and the slides of another size
        # that will be fitted to it (assets/slide_fit.py).
        "size": services.deck_size(deck, states).as_json(),
        "warnings": services.size_warnings(deck, states),
        "pages": [
            {
                "position": s.slide.position,
                "page_id": s.page.id,
                "asset_id": s.asset.id,
                "asset_title": s.asset.title,
                "number": s.page.number,
                "title": s.page.title,
                "thumbnail_url": page_thumbnail_url(s.page),
                "version": s.page.version.number,
                "stale": s.stale,
                "retired": s.retired,
            }
            for s in states
        ],
        "created_at": iso(deck.created_at),
        "updated_at": iso(deck.updated_at),
    }


RETRY_AFTER_SECONDS = 2


def build_json(deck: Deck, build: DeckBuild | None, download_url: str) -> dict:
    """Where the assembly of the deck as it is now stands (what pages and integrations poll)."""
    if build is None:
        return {"deck_id": deck.id, "revision": None, "status": "none", "progress": {"done": 0, "total": 0},
                "error": None, "size": None, "download_url": download_url, "rendition": renditions.NONE.as_json()}
    return {
        "deck_id": deck.id,
        "revision": build.revision,
        "status": build.status,
        "progress": {"done": build.progress_done, "total": build.progress_total},
        "error": build.error if build.status == BuildStatus.FAILED else None,
        "size": build.size,
        "download_url": download_url,
        "rendition": renditions.rendition_of(build).as_json(),
    }


def deck_download(deck: Deck) -> tuple[object | None, DeckBuild]:
    """(response, build): the stored .pptx of the deck's current revision when it is
    ready (waiting up to DECK_WAIT_SECONDS while it is assembled), else (None, build)
    still in progress. A failed build answers its reason (422)."""
    build = building.request_build(current_user, deck)
    build = building.wait_for(build, current_app.config["SETTINGS"].deck_wait_seconds)
    if build.status == BuildStatus.FAILED:
        raise building.refusal(build)
    if build.status != BuildStatus.READY:
        return None, build
    services.record_download(current_user, deck, services.slide_states(deck))
    return send_stored(build.storage_key, filename=services.download_name(deck), mime=services.PPTX_MIME), build


def deck_preview(deck: Deck):
    """The PDF of the deck as it is now (inline), asked for if it is not: 202 with the build's
    status while it is made; 404 with the reason when it cannot be made."""
    rendition = renditions.prepare(current_user, deck)
    if rendition.ready:
        name = services.download_name(deck).removesuffix(".pptx") + ".pdf"
        return send_stored(rendition.pdf_key, filename=name, mime="application/pdf", as_attachment=False)
    if rendition.state == renditions.PENDING:
        build = building.current_build(current_user, deck)
        return build_json(deck, build, _download_url(deck)), 202, {"Retry-After": str(RETRY_AFTER_SECONDS)}
    raise NotFound(rendition.error or "There is no readable copy of this deck.")


@bp.get("/decks")
@allow(*EVERYONE)
@api_doc(query=PAGING, responses={200: listing_of(DECK)})
def list_decks():
    """The caller's decks, most recently changed first (the unnamed one is the deck being built)."""
    page, per_page = pagination()
    items, total = services.list_decks(current_user, page=page, per_page=per_page)
    return listing([deck_json(d) for d in items], total, page, per_page)


@bp.post("/decks")
@allow(*EVERYONE)
@api_doc(json=DECK_BODY, responses={201: DECK})
def create_deck():
    """Create a deck: {"title", "page_ids": [...], "size"?} with slide ids from /assets/{id}/pages or
    /search/pages; size: null (the first slide's), "16:9", "4:3" or {"width_emu", "height_emu"}."""
    body = json_body()
    title, page_ids = services.parse_deck(body)
    size = services.parse_size(body.get("size"))
    return deck_json(services.create_deck(current_user, title, page_ids, size)), 201


@bp.get("/decks/<int:deck_id>")
@allow(*EVERYONE)
@api_doc(responses={200: DECK})
def get_deck(deck_id: int):
    """One of the caller's decks with its slides in order, each marked stale or retired."""
    return deck_json(services.get_deck_for(current_user, deck_id))


@bp.put("/decks/<int:deck_id>")
@allow(*EVERYONE)
@api_doc(json=DECK_BODY, responses={200: DECK})
def put_deck(deck_id: int):
    """Replace a deck's title and slides: {"title", "page_ids": [...]} in the new order; "size" when
    given (null: the first slide's), else the size stays."""
    deck = services.get_deck_for(current_user, deck_id)
    body = json_body()
    title, page_ids = services.parse_deck(body)
    size = services.parse_size(body["size"]) if "size" in body else services.KEEP_SIZE
    return deck_json(services.update_deck(current_user, deck, title, page_ids, size))


@bp.delete("/decks/<int:deck_id>")
@allow(*EVERYONE)
@api_doc(responses={204: None})
def delete_deck(deck_id: int):
    """Delete one of the caller's decks."""
    services.delete_deck(services.get_deck_for(current_user, deck_id))
    return "", 204


def _download_url(deck: Deck) -> str:
    return url_for("api.decks.download_deck", deck_id=deck.id, _external=True)


@bp.get("/decks/<int:deck_id>/download")
@allow(*EVERYONE)
@api_doc(responses={200: binary(PPTX), 202: BUILD})
def download_deck(deck_id: int):
    """The deck as one .pptx holding its slides in order; records a deck inclusion per slide.
    Still being assembled after a short wait: 202 with the build's status and Retry-After."""
    deck = services.get_deck_for(current_user, deck_id)
    response, build = deck_download(deck)
    if response is not None:
        return response
    return build_json(deck, build, _download_url(deck)), 202, {"Retry-After": str(RETRY_AFTER_SECONDS)}


@bp.get("/decks/<int:deck_id>/build")
@allow(*EVERYONE)
@api_doc(responses={200: BUILD})
def get_build(deck_id: int):
    """Where the assembly of the deck as it is now stands: none, pending, building, ready or failed."""
    deck = services.get_deck_for(current_user, deck_id)
    return build_json(deck, building.current_build(current_user, deck), _download_url(deck))


@bp.post("/decks/<int:deck_id>/build")
@allow(*EVERYONE)
@api_doc(responses={200: BUILD, 202: BUILD})
def start_build(deck_id: int):
    """Start assembling the deck as it is now (202), or find it ready (200); poll GET .../build."""
    deck = services.get_deck_for(current_user, deck_id)
    build = building.start_build(current_user, deck)
    status = 200 if build.status == BuildStatus.READY else 202
    headers = {} if status == 200 else {"Retry-After": str(RETRY_AFTER_SECONDS)}
    return build_json(deck, build, _download_url(deck)), status, headers


@bp.get("/decks/<int:deck_id>/preview")
@allow(*EVERYONE)
@api_doc(responses={200: binary("application/pdf"), 202: BUILD})
def preview_deck(deck_id: int):
    """The deck as it is now as PDF, for a viewer; asks for it to be made when it is not: 202 with the
    build's status (see its "rendition") and Retry-After; 404 when it cannot be made (the status says why)."""
    return deck_preview(services.get_deck_for(current_user, deck_id))


@bp.get("/pages/<int:page_id>/lineage")
@allow(*EVERYONE)
@api_doc(responses={200: LINEAGE})
def page_lineage(page_id: int):
    """The slide's copies across decks (identical and near-identical slides, grouped at processing):
    {group_id, copies: [{page_id, asset_id, asset_title, number, status, newest}]}."""
    from portal.decks import lineage
    from portal.library.services import get_asset_for

    page = db.session.get(Page, page_id)
    if page is None:
        raise NotFound()
    get_asset_for(current_user, page.asset_id)  # 404 for what this user may not see
    return lineage.lineage_json(page, current_user)
