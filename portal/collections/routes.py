"""Pages for keeping things: the home page, favourites, collections and kits.
Views parse input, call a service, render or redirect. Every form works without
JavaScript; collections.js makes the favourite button toggle in place."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user

from portal.access import EVERYONE, allow
from portal.collections import favorites, home, services
from portal.errors import InvalidInput, wants_json
from portal.ids import whole_number
from portal.library.stats import stats_for
from portal.pagination import page_number

bp = Blueprint("collections", __name__)


def _back(default: str) -> str:
    """Where a form came from (same site only), else `default`."""
    target = request.referrer
    if target and urlsplit(target).netloc == urlsplit(request.host_url).netloc:
        return target
    return default


def _form_id(name: str) -> int:
    try:
        return whole_number(request.form.get(name, ""))
    except ValueError:
        raise InvalidInput("Choose an item.", {name: "An id is required."}) from None


def _form_audience() -> services.Audience:
    return services.Audience(
        everyone=request.form.get("everyone") == "1",
        teams=services.parse_names(request.form.getlist("team"), "teams"),
        regions=services.parse_names(request.form.getlist("region"), "regions"),
    )


@bp.get("/home")
@allow(*EVERYONE)
def home_page():
    page = home.home_for(current_user)
    return render_template("collections/home.html", home=page, stats=stats_for([a.id for a in page.assets()]))


@bp.get("/favorites")
@allow(*EVERYONE)
def favorites_page():
    result = favorites.list_favorites(current_user, page_number(request.args), 48)
    states = services.item_states(current_user, result.items)
    return render_template("collections/favorites.html", result=result, states=states,
                           stats=stats_for([s.asset.id for s in states]))


@bp.post("/favorites/<int:asset_id>")
@allow(*EVERYONE)
def toggle_favorite(asset_id: int):
    """The favourite button: favorite=1 keeps the item, favorite=0 lets it go."""
    keep = request.form.get("favorite", "1") != "0"
    if keep:
        favorites.add_favorite(current_user, asset_id)
    else:
        favorites.remove_favorite(current_user, asset_id)
    if wants_json():
        return jsonify({"asset_id": asset_id, "favorite": keep})
    flash("Added to your favourites." if keep else "Removed from your favourites.", "success")
    return redirect(_back(url_for("collections.favorites_page")))


@bp.get("/collections")
@allow(*EVERYONE)
def index():
    own = services.own_collections(current_user)
    kits = services.kits_for(current_user, services.MAX_COLLECTIONS)
    return render_template("collections/index.html", own=own, kits=kits,
                           counts=services.item_counts(c.id for c in [*own, *kits]),
                           audiences=services.audiences() if current_user.is_staff else None,
                           favorite_count=len(favorites.favorite_ids(current_user)),
                           limits={"collections": services.MAX_COLLECTIONS, "items": services.MAX_ITEMS})


@bp.post("/collections")
@allow(*EVERYONE)
def create():
    audience = _form_audience()
    data = services.CollectionInput(services.parse_title(request.form.get("title")),
                                    services.parse_description(request.form.get("description")), [], audience)
    collection = services.create_collection(current_user, data)
    flash(f"Created “{collection.title}”." + (" It is shared as a kit." if audience.is_shared else ""), "success")
    return redirect(url_for("collections.show", collection_id=collection.id))


@bp.post("/collections/items")
@allow(*EVERYONE)
def add_to_collection():
    """"Add to collection" from an asset page or search results: an existing collection,
    or a new one named in new_title."""
    asset_id = _form_id("asset_id")
    choice = request.form.get("collection_id", "new")
    if choice in ("", "new"):
        title = services.parse_title(request.form.get("new_title"))
        collection = services.create_collection(current_user, services.CollectionInput(title))
    else:
        collection = services.get_editable_for(current_user, _form_id("collection_id"))
    added = services.add_item(current_user, collection, asset_id)
    flash(f"Added to “{collection.title}”." if added else f"Already in “{collection.title}”.", "success")
    return redirect(_back(url_for("collections.show", collection_id=collection.id)))


@bp.get("/collections/<int:collection_id>")
@allow(*EVERYONE)
def show(collection_id: int):
    collection = services.get_collection_for(current_user, collection_id)
    states = services.item_states(current_user, [item.asset for item in collection.items])
    editable = services.can_edit(current_user, collection)
    return render_template("collections/show.html", collection=collection, states=states, editable=editable,
                           audience=services.audience_of(collection), stats=stats_for([s.asset.id for s in states]),
                           audiences=services.audiences() if editable and current_user.is_staff else None)


@bp.post("/collections/<int:collection_id>")
@allow(*EVERYONE)
def save(collection_id: int):
    collection = services.get_editable_for(current_user, collection_id)
    data = services.CollectionInput(services.parse_title(request.form.get("title")),
                                    services.parse_description(request.form.get("description")),
                                    audience=_form_audience() if request.form.get("sharing") == "1" else None)
    services.update_collection(current_user, collection, data)
    flash("Saved.", "success")
    return redirect(url_for("collections.show", collection_id=collection.id))


@bp.post("/collections/<int:collection_id>/delete")
@allow(*EVERYONE)
def delete(collection_id: int):
    collection = services.get_editable_for(current_user, collection_id)
    title = collection.title
    services.delete_collection(collection)
    flash(f"Deleted “{title}”.", "success")
    return redirect(url_for("collections.index"))


@bp.post("/collections/<int:collection_id>/items/<int:asset_id>/move")
@allow(*EVERYONE)
def move(collection_id: int, asset_id: int):
    collection = services.get_editable_for(current_user, collection_id)
    services.move_item(collection, asset_id, -1 if request.form.get("direction") == "up" else 1)
    return redirect(url_for("collections.show", collection_id=collection.id) + f"#item-{asset_id}")


@bp.post("/collections/<int:collection_id>/items/<int:asset_id>/remove")
@allow(*EVERYONE)
def remove(collection_id: int, asset_id: int):
    collection = services.get_editable_for(current_user, collection_id)
    services.remove_item(collection, asset_id)
    flash("Removed from the collection.", "success")
    return redirect(url_for("collections.show", collection_id=collection.id))
