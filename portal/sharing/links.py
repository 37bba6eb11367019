"""A rep's share links: create (one item or one saved deck), list, extend, revoke,
and each link's state. Plain arguments in; no request or session."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select
from werkzeug.exceptions import NotFound
from werkzeug.security import generate_password_hash

from portal.decks.services import get_deck_for
from portal.errors import InvalidInput
from portal.extensions import db
from portal.feedback.inputs import NAME_MAX
from portal.ids import whole_number
from portal.library.services import get_asset_for
from portal.models import ShareKind, ShareLink, User, utcnow
from portal.pagination import Listing, count_rows
from portal.sharing.content import content_of, prepare_deck, withdrawn
from portal.sharing.tokens import new_token, token_hash

MAX_DAYS = 365  # the furthest expiry a link may have
PASSCODE_MIN, PASSCODE_MAX = 4, 100
TARGETS = ("asset_id", "deck_id", "collection_id")


@dataclass
class ShareOptions:
    kind: str
    target_id: int
    expires_on: date
    require_email: bool
    passcode: str | None
    allow_download: bool
    notify: bool
    account: str
    opportunity: str


def _flag(data: Mapping[str, Any], name: str, default: bool, errors: dict[str, str]) -> bool:
    raw = data.get(name, default)
    if raw in (None, ""):
        return default
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and raw.lower() in ("1", "true", "on", "yes", "0", "false", "off", "no"):
        return raw.lower() in ("1", "true", "on", "yes")
    errors[name] = "Must be true or false."
    return default


def parse_expiry(raw: Any, errors: dict[str, str], today: date, default_days: int) -> date:
    if raw in (None, ""):
        return today + timedelta(days=default_days)
    try:
        value = date.fromisoformat(raw) if isinstance(raw, str) and len(raw) == 10 else None
    except ValueError:
        value = None
    if value is None:
        errors["expires_on"] = "A date as YYYY-MM-DD."
    elif value < today:
        errors["expires_on"] = "The expiry date has passed; choose today or later."
    elif value > today + timedelta(days=MAX_DAYS):
        errors["expires_on"] = f"At most {MAX_DAYS} days from today."
    else:
        return value
    return today


def _text(data: Mapping[str, Any], name: str, errors: dict[str, str]) -> str:
    raw = data.get(name)
    if raw is None:
        return ""
    if not isinstance(raw, str):
        errors[name] = "Must be text."
        return ""
    text = " ".join(raw.split())
    if len(text) > NAME_MAX:
        errors[name] = f"At most {NAME_MAX} characters."
    return text


def parse_options(data: Mapping[str, Any], *, default_days: int, today: date | None = None) -> ShareOptions:
    """The API's (and the form's) body; one message per field."""
    today = today or date.today()
    errors: dict[str, str] = {}
    given = [name for name in TARGETS if data.get(name) not in (None, "")]
    kind, target_id = "", 0
    if len(given) != 1:
        errors["target"] = "Send exactly one of asset_id, deck_id, collection_id."
    elif given[0] == "collection_id":
        errors["collection_id"] = "Collections cannot be shared yet; share an item or a deck."
    else:
        try:
            target_id = whole_number(data[given[0]])
            kind = ShareKind.ASSET.value if given[0] == "asset_id" else ShareKind.DECK.value
        except ValueError:
            errors[given[0]] = "A whole number: the id of what to share."
    passcode = data.get("passcode")
    if passcode in (None, ""):
        passcode = None
    elif not isinstance(passcode, str) or not PASSCODE_MIN <= len(passcode) <= PASSCODE_MAX:
        errors["passcode"] = f"From {PASSCODE_MIN} to {PASSCODE_MAX} characters, or null for none."
    options = ShareOptions(
        kind=kind, target_id=target_id,
        expires_on=parse_expiry(data.get("expires_on"), errors, today, default_days),
        require_email=_flag(data, "require_email", False, errors),
        passcode=passcode if isinstance(passcode, str) else None,
        allow_download=_flag(data, "allow_download", False, errors),
        notify=_flag(data, "notify", True, errors),
        account=_text(data, "account", errors),
        opportunity=_text(data, "opportunity", errors),
    )
    if errors:
        raise InvalidInput("The share link needs attention: " + " ".join(errors.values()), errors)
    return options


def create_link(user: User, options: ShareOptions) -> tuple[ShareLink, str]:
    """A new link to something the user may see and share; returns it and its token
    (shown once). Unknown, or not theirs to share: 404."""
    link = ShareLink(owner_id=user.id, kind=options.kind, expires_on=options.expires_on,
                     require_email=options.require_email, allow_download=options.allow_download,
                     notify=options.notify, account=options.account, opportunity=options.opportunity,
                     passcode_hash=generate_password_hash(options.passcode) if options.passcode else None)
    if options.kind == ShareKind.ASSET:
        asset = get_asset_for(user, options.target_id)
        link.asset, link.title = asset, asset.title
    else:
        deck = get_deck_for(user, options.target_id)
        if not deck.slides:
            raise InvalidInput("This deck has no slides yet; add some before sharing it.", {"deck_id": "Empty."})
        link.deck, link.title = deck, deck.title or "Untitled deck"
    content = content_of(link)
    if content.withdrawn:
        raise InvalidInput(f"This cannot be shared: it holds {content.withdrawn} content.",
                           {"target": content.withdrawn})
    token = new_token()
    link.token_hash = token_hash(token)
    db.session.add(link)
    db.session.commit()
    prepare_deck(link)  # the buyer's viewer and download need the deck built: start now
    return link, token


def find_by_token(token: str) -> ShareLink | None:
    return db.session.scalar(select(ShareLink).where(ShareLink.token_hash == token_hash(token)))


def find_row_by_token(token: str):
    """The few columns a beacon needs of the token's link (a row, not a model), or None."""
    return db.session.execute(
        select(ShareLink.id, ShareLink.kind, ShareLink.asset_id, ShareLink.deck_id, ShareLink.revoked_at,
               ShareLink.expires_on).where(ShareLink.token_hash == token_hash(token))).first()


# --- the rep's links ---------------------------------------------------------------------

def get_link_for(user: User, link_id: int) -> ShareLink:
    """The link if it is the user's own, or any link for staff (who may also revoke or
    extend it: enablement stops a link that shows the wrong thing); otherwise 404."""
    link = db.session.get(ShareLink, link_id)
    if link is None or (link.owner_id != user.id and not user.is_staff):
        raise NotFound()
    return link


def list_links(user: User, page: int = 1, per_page: int = 50, *, everyone: bool = False) -> Listing:
    query = select(ShareLink)
    if not (everyone and user.is_staff):
        query = query.where(ShareLink.owner_id == user.id)
    items = list(db.session.scalars(
        query.order_by(ShareLink.created_at.desc(), ShareLink.id.desc()).offset((page - 1) * per_page).limit(per_page)
    ))
    return Listing(items, count_rows(query), page, per_page)


def extend(link: ShareLink, raw_expiry: Any, default_days: int) -> ShareLink:
    errors: dict[str, str] = {}
    if raw_expiry in (None, ""):
        errors["expires_on"] = "Send the new expiry date (YYYY-MM-DD)."
    expires_on = parse_expiry(raw_expiry, errors, date.today(), default_days)
    if link.revoked_at is not None:
        errors["revoked"] = "This link was revoked; make a new one."
    if errors:
        raise InvalidInput("The link's expiry needs attention: " + " ".join(errors.values()), errors)
    link.expires_on = expires_on
    db.session.commit()
    return link


def revoke(link: ShareLink) -> ShareLink:
    if link.revoked_at is None:
        link.revoked_at = utcnow()
        db.session.commit()
    return link


def state(link: ShareLink, today: date | None = None, *, check_content: bool = True) -> str:
    """revoked, expired, withdrawn (what it shows was retired or expired), or live."""
    today = today or date.today()
    if link.revoked_at is not None:
        return "revoked"
    if link.expires_on < today:
        return "expired"
    if check_content and withdrawn(link, today):
        return "withdrawn"
    return "live"


STATE_LABELS = {"live": "Live", "revoked": "Revoked", "expired": "Expired",
                "withdrawn": "Content withdrawn"}


def asset_page_section(asset) -> dict:
    """The asset page's "Share with a buyer" box: how many links show this item."""
    count = db.session.scalar(select(func.count()).select_from(ShareLink)
                              .where(ShareLink.asset_id == asset.id)) or 0
    return {"asset_id": asset.id, "links": count, "shareable": not asset.is_hidden_from_reps()}
