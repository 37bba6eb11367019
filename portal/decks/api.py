"""Decks API (shared/api.md): the caller's own decks; others' decks are 404."""

from __future__ import annotations

import shutil

from flask import Blueprint, send_file
from flask_login import current_user

from portal.access import EVERYONE, allow
from portal.api import json_body, listing, pagination
from portal.decks import services
from portal.library.serializers import iso, page_thumbnail_url
from portal.models import Deck

bp = Blueprint("decks", __name__)  # mounted under /api/v1 by create_app


def deck_json(deck: Deck) -> dict:
    return {
        "id": deck.id,
        "title": deck.title,
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
            for s in services.slide_states(deck)
        ],
        "created_at": iso(deck.created_at),
        "updated_at": iso(deck.updated_at),
    }


def send_deck(deck: Deck):
    """Build the .pptx and send it; the temporary files go once the response is closed."""
    workdir, path = services.assemble(current_user, deck)
    try:
        response = send_file(path, mimetype=services.PPTX_MIME, as_attachment=True,
                             download_name=services.download_name(deck), max_age=0)
    except BaseException:
        shutil.rmtree(workdir, ignore_errors=True)
        raise
    response.call_on_close(lambda: shutil.rmtree(workdir, ignore_errors=True))
    return response


@bp.get("/decks")
@allow(*EVERYONE)
def list_decks():
    """The caller's decks, most recently changed first (the unnamed one is the deck being built)."""
    page, per_page = pagination()
    items, total = services.list_decks(current_user, page=page, per_page=per_page)
    return listing([deck_json(d) for d in items], total, page, per_page)


@bp.post("/decks")
@allow(*EVERYONE)
def create_deck():
    """Create a deck: {"title", "page_ids": [...]} with slide ids from /assets/{id}/pages or /search/pages."""
    title, page_ids = services.parse_deck(json_body())
    return deck_json(services.create_deck(current_user, title, page_ids)), 201


@bp.get("/decks/<int:deck_id>")
@allow(*EVERYONE)
def get_deck(deck_id: int):
    """One of the caller's decks with its slides in order, each marked stale or retired."""
    return deck_json(services.get_deck_for(current_user, deck_id))


@bp.put("/decks/<int:deck_id>")
@allow(*EVERYONE)
def put_deck(deck_id: int):
    """Replace a deck's title and slides: {"title", "page_ids": [...]} in the new order."""
    deck = services.get_deck_for(current_user, deck_id)
    title, page_ids = services.parse_deck(json_body())
    return deck_json(services.update_deck(current_user, deck, title, page_ids))


@bp.delete("/decks/<int:deck_id>")
@allow(*EVERYONE)
def delete_deck(deck_id: int):
    """Delete one of the caller's decks."""
    services.delete_deck(services.get_deck_for(current_user, deck_id))
    return "", 204


@bp.get("/decks/<int:deck_id>/download")
@allow(*EVERYONE)
def download_deck(deck_id: int):
    """The deck as one .pptx holding its slides in order; records a deck inclusion per slide."""
    return send_deck(services.get_deck_for(current_user, deck_id))
