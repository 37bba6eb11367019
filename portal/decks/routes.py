"""Deck pages: the tray (the deck being built), the editor and "My decks".
Views parse input, call a service, render or redirect."""

from __future__ import annotations

from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user

from portal.access import EVERYONE, allow
from portal.decks import building, renditions, services
from portal.decks.api import build_json, deck_download, deck_preview
from portal.errors import InvalidInput, wants_json
from portal.models import ANALYTICS_ROLES, Deck
from portal.wording import plural

bp = Blueprint("decks", __name__)


def tray_json(deck: Deck | None) -> dict:
    if deck is None:
        return {"id": None, "count": 0, "url": None, "slides": []}
    states = services.slide_states(deck)
    return {
        "id": deck.id,
        "count": len(deck.slides),
        "url": url_for("decks.edit", deck_id=deck.id),
        "size": services.deck_size(deck, states).as_json(),
        "warnings": services.size_warnings(deck, states),
        "slides": [
            {"position": s.slide.position, "page_id": s.page.id, "asset_id": s.asset.id,
             "asset_title": s.asset.title, "number": s.page.number, "title": s.page.title,
             "stale": s.stale, "retired": s.retired}
            for s in states
        ],
    }


@bp.get("/decks")
@allow(*EVERYONE)
def index():
    decks, _ = services.list_decks(current_user, include_tray=False)
    return render_template("decks/index.html", decks=decks, tray=services.tray_for(current_user))


@bp.get("/decks/tray")
@allow(*EVERYONE)
def tray():
    return jsonify(tray_json(services.tray_for(current_user)))


@bp.post("/decks/tray/add")
@allow(*EVERYONE)
def tray_add():
    data = request.get_json(silent=True) if request.is_json else request.form
    raw = data.get("page_id") if hasattr(data, "get") else None
    try:
        page_id = int(str(raw).strip())
    except ValueError:
        raise InvalidInput("Choose a slide to add.", {"page_id": "A slide id is required."}) from None
    again = str(data.get("again", "")).lower() in ("1", "true", "yes") if hasattr(data, "get") else False
    already = services.positions_in_tray(current_user, page_id)
    if already and not again:
        # The tray tells the truth: say where it is, and let the rep add it again on purpose.
        where = ", ".join(str(p) for p in already)
        message = f"This slide is already in the deck in progress (slide {where})."
        if request.is_json or wants_json():
            return jsonify({**tray_json(services.tray_for(current_user)), "added": False, "already_at": already,
                            "message": message + " Add it again?"})
        flash(message + " It was not added again.", "info")
        return redirect(request.referrer or url_for("decks.edit", deck_id=services.tray_for(current_user).id))
    deck = services.add_to_tray(current_user, page_id)
    if request.is_json or wants_json():
        return jsonify({**tray_json(deck), "added": True, "already_at": already})
    flash(f"Added. The deck in progress has {plural(len(deck.slides), 'slide')}.", "success")
    return redirect(request.referrer or url_for("decks.edit", deck_id=deck.id))


def _form_order(deck: Deck) -> list[int]:
    """The order the editor sent; without it, the saved order."""
    if "page_id" in request.form or request.form.get("order") == "sent":
        return services.parse_page_ids(request.form.getlist("page_id"))
    return [s.page_id for s in deck.slides]


def _apply_button(page_ids: list[int]) -> list[int]:
    """Without JavaScript, Up, Down and Remove are submit buttons carrying an index (0-based)."""
    for action in ("up", "down", "remove"):
        value = request.form.get(action, "")
        if not value.isdigit():
            continue
        i = int(value)
        if not 0 <= i < len(page_ids):
            break
        if action == "remove":
            page_ids.pop(i)
        elif action == "up" and i > 0:
            page_ids[i - 1], page_ids[i] = page_ids[i], page_ids[i - 1]
        elif action == "down" and i < len(page_ids) - 1:
            page_ids[i + 1], page_ids[i] = page_ids[i], page_ids[i + 1]
        break
    return page_ids


@bp.get("/decks/<int:deck_id>")
@allow(*EVERYONE)
def edit(deck_id: int):
    deck = services.get_deck_for(current_user, deck_id)
    states = services.slide_states(deck)
    try:
        build = building.current_build(current_user, deck)
    except InvalidInput:  # not downloadable as it is: the page says why
        build = None
    return render_template(
        "decks/edit.html", deck=deck, states=states, is_tray=deck.title == "", build=build,
        size=services.deck_size(deck, states), size_warnings=services.size_warnings(deck, states),
        size_choices=services.size_choices(deck, states), size_value=services.size_value(deck),
        blocked=[s for s in states if s.retired] if not current_user.is_staff else [],
    )


@bp.post("/decks/<int:deck_id>")
@allow(*EVERYONE)
def save(deck_id: int):
    deck = services.get_deck_for(current_user, deck_id)
    try:
        title = services.parse_title(request.form.get("title", deck.title), required=False)
        page_ids = _apply_button(_form_order(deck))
        size = services.parse_size(request.form["size"]) if "size" in request.form else services.KEEP_SIZE
        services.update_deck(current_user, deck, title, page_ids, size)
    except InvalidInput as error:
        flash(" ".join([error.message, *error.fields.values()]), "error")
        return redirect(url_for("decks.edit", deck_id=deck.id))
    if any(request.form.get(a) for a in ("up", "down", "remove")):
        flash("Saved.", "success")
    elif title:
        flash(f"Saved “{title}”. It is in My decks; new slides you add start a new deck.", "success")
    else:
        flash("Saved. Give the deck a name to keep it in My decks.", "success")
    return redirect(url_for("decks.edit", deck_id=deck.id))


@bp.post("/decks/<int:deck_id>/duplicate")
@allow(*EVERYONE)
def duplicate(deck_id: int):
    copy = services.duplicate_deck(current_user, services.get_deck_for(current_user, deck_id))
    flash(f"Made a copy: “{copy.title}”.", "success")
    return redirect(url_for("decks.edit", deck_id=copy.id))


@bp.post("/decks/<int:deck_id>/delete")
@allow(*EVERYONE)
def delete(deck_id: int):
    deck = services.get_deck_for(current_user, deck_id)
    name = deck.title or "The deck in progress"
    services.delete_deck(deck)
    flash(f"Deleted “{name}”.", "success")
    return redirect(url_for("decks.index"))


@bp.post("/decks/<int:deck_id>/slides/<int:position>/refresh")
@allow(*EVERYONE)
def refresh(deck_id: int, position: int):
    deck = services.get_deck_for(current_user, deck_id)
    try:
        old, new = services.refresh_slide(current_user, deck, position)
    except InvalidInput as error:
        flash(error.message, "error")
    else:
        flash(f"Slide {position} now comes from version {new.version.number} of “{new.asset.title}” "
              f"(slide {new.number}).", "success")
    return redirect(url_for("decks.edit", deck_id=deck.id))


@bp.get("/decks/<int:deck_id>/download")
@allow(*EVERYONE)
def download(deck_id: int):
    deck = services.get_deck_for(current_user, deck_id)
    response, build = deck_download(deck)
    if response is not None:
        return response
    flash(f"Your deck is being assembled ({build.progress_done} of {plural(build.progress_total, 'slide')}). "
          "It will be ready to download from this page in a moment.", "info")
    return redirect(url_for("decks.edit", deck_id=deck.id))


@bp.get("/decks/<int:deck_id>/build")
@allow(*EVERYONE)
def build_status(deck_id: int):
    """JSON for the deck page, which polls while the deck is assembled."""
    deck = services.get_deck_for(current_user, deck_id)
    return jsonify(build_json(deck, building.current_build(current_user, deck),
                              url_for("decks.download", deck_id=deck.id)))


@bp.post("/decks/<int:deck_id>/build")
@allow(*EVERYONE)
def start_build(deck_id: int):
    deck = services.get_deck_for(current_user, deck_id)
    build = building.start_build(current_user, deck)
    return jsonify(build_json(deck, build, url_for("decks.download", deck_id=deck.id)))


@bp.get("/decks/<int:deck_id>/view")
@allow(*EVERYONE)
def view(deck_id: int):
    """The deck as it is now in the viewer (its build's PDF); its slide pictures while that is made."""
    deck = services.get_deck_for(current_user, deck_id)
    rendition = renditions.prepare(current_user, deck)
    viewer = None
    if rendition.ready:
        viewer = {"src": url_for("decks.preview", deck_id=deck.id), "beacon_url": None,
                  "start_page": request.args.get("page", 1, type=int), "terms": "",
                  "download_url": url_for("decks.download", deck_id=deck.id), "title": deck.title or "Deck in progress"}
    states = [s for s in services.slide_states(deck) if current_user.is_staff or not s.retired]
    return render_template("decks/view.html", deck=deck, rendition=rendition, viewer=viewer, states=states)


@bp.get("/decks/<int:deck_id>/preview.pdf")
@allow(*EVERYONE)
def preview(deck_id: int):
    """The PDF of the deck as it is now, shown in the viewer (202 while it is made)."""
    return deck_preview(services.get_deck_for(current_user, deck_id))


@bp.get("/analytics/assets/<int:asset_id>/slides.csv")
@allow(*ANALYTICS_ROLES)
def slide_evidence_csv(asset_id: int):
    """Slide-level evidence of an item (portal/decks/evidence.py) as CSV."""
    from portal.analytics.tables import csv_response
    from portal.decks import evidence
    from portal.library.services import get_asset_for

    item = get_asset_for(current_user, asset_id)
    return csv_response(f"asset-{item.id}-slides.csv", evidence.evidence_table(evidence.slide_evidence(item)))
