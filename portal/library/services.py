"""Use cases of the collateral library: upload, versions, metadata, retire and
restore, visibility, downloads. Plain arguments in; no request or session."""

from __future__ import annotations

import mimetypes
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import BinaryIO

from sqlalchemy import Select, and_, func, or_, select
from werkzeug.exceptions import NotFound

from assets.storage import ObjectTooLarge, StoredObject, safe_key
from portal.errors import InvalidInput
from portal.extensions import db
from portal.ids import MAX_ID, whole_number
from portal.library import audit, publishing
from portal.library.publishing import NOW, PublishChoice
from portal.library.publishing import lock_asset as _lock_asset
from portal.models import (
    CONTENT_TYPES,
    Asset,
    AssetStatus,
    AssetTag,
    AssetVersion,
    Deck,
    DeckSlide,
    Page,
    Processing,
    Rating,
    UsageEvent,
    UsageKind,
    User,
    utcnow,
)
from portal.pagination import Listing
from portal.queue import enqueue
from portal.storage import get_storage

METADATA_FIELDS = ("title", "description", "content_type", "product", "stage", "region", "persona", "tags", "expires_on")
TEXT_LIMITS = {"title": 300, "product": 120, "stage": 60, "region": 120, "persona": 120, "description": 10_000}
TAG_PATTERN = re.compile(r"^[\w][\w .&+/-]{0,79}$", re.UNICODE)
SORTS = {
    "newest": Asset.updated_at.desc(),
    "oldest": Asset.updated_at.asc(),
    "title": func.lower(Asset.title).asc(),
}


def parse_metadata(data: Mapping[str, object], *, partial: bool = False) -> dict:
    """Validate asset metadata from a form or JSON body; refuse with one message per field."""
    errors: dict[str, str] = {}
    values: dict = {}
    for name in METADATA_FIELDS:
        if name not in data:
            continue
        raw = data[name]
        if "\x00" in str(raw):  # PostgreSQL text cannot hold it
            errors[name] = "May not contain NUL characters."
            continue
        if name == "tags":
            items = raw if isinstance(raw, list) else str(raw or "").split(",")
            tags = [str(t).strip().lower() for t in items if str(t).strip()]
            bad = [t for t in tags if not TAG_PATTERN.match(t)]
            if bad:
                errors["tags"] = f"Tags may hold letters, digits, spaces and .&+/- (up to 80 characters): {bad[0]!r}"
            values["tags"] = tags
            continue
        if raw is not None and not isinstance(raw, str | int | float):
            errors[name] = "Must be text."
            continue
        text = "" if raw is None else str(raw).strip()
        if name == "expires_on":
            if text == "":
                values[name] = None
            else:
                try:
                    values[name] = date.fromisoformat(text)
                except ValueError:
                    errors[name] = "Use a date like 2026-12-31."
            continue
        if name == "content_type":
            if text not in CONTENT_TYPES:
                errors[name] = f"Choose one of: {', '.join(CONTENT_TYPES)}."
            values[name] = text
            continue
        if len(text) > TEXT_LIMITS[name]:
            errors[name] = f"At most {TEXT_LIMITS[name]} characters."
        values[name] = text if (text or name in ("title", "description")) else None
    if not partial:
        values.setdefault("content_type", "other")
        values.setdefault("description", "")
        values.setdefault("tags", [])
        if not values.get("title"):
            errors.setdefault("title", "A title is required.")
    elif "title" in values and not values["title"]:
        errors["title"] = "A title is required."
    if errors:
        raise InvalidInput("Some fields need attention.", errors)
    return values


# --- visibility ---------------------------------------------------------------

def hidden_from_reps_clause(today: date | None = None):
    """Not for reps: not published, expired, or its current file not processed (yet, or at all)."""
    today = today or date.today()
    processed = select(AssetVersion.id).where(AssetVersion.id == Asset.current_version_id,
                                              AssetVersion.processing == Processing.READY).exists()
    return or_(Asset.status != AssetStatus.PUBLISHED, and_(Asset.expires_on.is_not(None), Asset.expires_on < today),
               ~processed)


def visible_assets(user: User) -> Select:
    query = select(Asset)
    if not user.is_staff:
        query = query.where(~hidden_from_reps_clause())
    return query


def get_asset_for(user: User, asset_id: int) -> Asset:
    """The asset if this user may see it; otherwise 404 (reps never learn that
    a retired or expired item exists)."""
    asset = db.session.get(Asset, asset_id)
    if asset is None or (not user.is_staff and asset.is_hidden_from_reps()):
        raise NotFound()
    return asset


@dataclass
class Withdrawn:
    """Why an item a rep followed a link to is no longer offered, and what replaces it."""

    asset: Asset
    reason: str  # "retired" or "expired"
    replacement: Asset | None


def withdrawn_for(user: User, asset_id: int) -> Withdrawn | None:
    """For someone who may not see this item: whether it was retired or expired (rather
    than never there), with the newest item they may see of the same title or file."""
    asset = db.session.get(Asset, asset_id)
    if asset is None or user.is_staff:
        return None
    if asset.status == AssetStatus.RETIRED:
        reason = "retired"
    elif asset.status == AssetStatus.PUBLISHED and asset.is_expired():
        reason = "expired"
    else:
        return None
    same = [func.lower(Asset.title) == asset.title.strip().lower()]
    if asset.current_version is not None:
        same.append(Asset.current_version_id.in_(
            select(AssetVersion.id).where(AssetVersion.sha256 == asset.current_version.sha256)))
    replacement = db.session.scalars(
        visible_assets(user).where(Asset.id != asset.id, or_(*same)).order_by(Asset.created_at.desc(), Asset.id.desc())
        .limit(1)
    ).first()
    return Withdrawn(asset, reason, replacement)


def cover_key_for(user: User, asset_id: int) -> str:
    """The storage key of the asset's cover image, if this user may see the asset."""
    version = get_asset_for(user, asset_id).current_version
    if version is None or not version.cover_key:
        raise NotFound()
    return version.cover_key


def page_thumbnail_key_for(user: User, page_id: int) -> str:
    """The storage key of a page's thumbnail, if this user may see the page: staff
    see every version's pages; reps those of the current version, and the slides
    already in their own decks (a deck keeps showing a slide it took from a version
    since superseded, until they refresh it)."""
    page = db.session.get(Page, page_id)
    if page is None or not page.thumbnail_key:
        raise NotFound()
    asset = get_asset_for(user, page.asset_id)
    if not user.is_staff and page.version_id != asset.current_version_id and not _in_own_deck(user, page.id):
        raise NotFound()
    return page.thumbnail_key


def _in_own_deck(user: User, page_id: int) -> bool:
    return db.session.scalar(
        select(DeckSlide.page_id).join(Deck).where(DeckSlide.page_id == page_id, Deck.owner_id == user.id).limit(1)
    ) is not None


def get_version_for(user: User, asset: Asset, number: int | None) -> AssetVersion:
    """The current version, or an older one for staff (reps get only the current one)."""
    current = asset.current_version
    if number is None or (current is not None and number == current.number):
        if current is None:
            raise NotFound()
        return current
    if not user.is_staff:
        raise NotFound()
    version = db.session.execute(
        select(AssetVersion).where(AssetVersion.asset_id == asset.id, AssetVersion.number == number)
    ).scalar_one_or_none()
    if version is None:
        raise NotFound()
    return version


# --- upload and versions ----------------------------------------------------

@dataclass
class UploadResult:
    asset: Asset
    duplicate_of: list[Asset]
    repeated: bool = False  # the same form was sent again: this is the item the first one made


class DuplicateFile(InvalidInput):
    """The file is already the current file of another item (409, `duplicate_file`)."""

    def __init__(self, existing: Asset):
        super().__init__(
            f"This file is already the current file of “{existing.title}” (#{existing.id}, {existing.status}). "
            "Publish it as a new version of that item, keep both (allow_duplicate=true), or cancel.",
            status=409, code="duplicate_file", extra={"existing": {"id": existing.id, "title": existing.title}})
        self.existing = existing


# The default content type from what the file is (by its name's extension); always editable.
CONTENT_TYPE_BY_EXTENSION = {
    "pptx": "deck", "ppt": "deck", "key": "deck", "odp": "deck",
    "pdf": "datasheet", "docx": "datasheet", "doc": "datasheet", "odt": "datasheet",
    "xlsx": "price_sheet", "xls": "price_sheet", "csv": "price_sheet", "ods": "price_sheet",
    **dict.fromkeys(("mp4", "mov", "m4v", "webm", "avi", "mkv", "wmv", "mpeg", "mpg"), "video"),
}


def default_content_type(filename: str) -> str:
    return CONTENT_TYPE_BY_EXTENSION.get(_extension(filename), "other")


def _extension(filename: str) -> str:
    match = re.search(r"\.([A-Za-z0-9]{1,10})$", filename or "")
    return match.group(1).lower() if match else "bin"


def clean_filename(filename: str | None) -> str:
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable()).strip()
    return name[:255] or "file"


def _store_upload(stream: BinaryIO, filename: str, max_bytes: int) -> tuple[str, StoredObject]:
    key = safe_key("assets", uuid.uuid4().hex, f"original.{_extension(filename)}")
    try:
        stored = get_storage().save(key, stream, content_type=guess_mime(filename), max_bytes=max_bytes)
    except ObjectTooLarge:
        raise InvalidInput(
            f"The file is larger than the {max_bytes // (1024 * 1024)} MB upload limit.", status=413
        ) from None
    if stored.size == 0:
        get_storage().delete(key)
        raise InvalidInput("The file is empty (0 bytes); nothing was uploaded.", {"file": "The file is empty."})
    return key, stored


def guess_mime(filename: str) -> str:
    return mimetypes.guess_type(filename)[0] or "application/octet-stream"


def find_duplicates(sha256: str, exclude_asset_id: int | None = None) -> list[Asset]:
    query = (
        select(Asset).join(AssetVersion, Asset.current_version_id == AssetVersion.id)
        .where(AssetVersion.sha256 == sha256)
    )
    if exclude_asset_id is not None:
        query = query.where(Asset.id != exclude_asset_id)
    return list(db.session.scalars(query))


def _new_version(asset: Asset, number: int, filename: str, key: str, stored: StoredObject, user: User) -> AssetVersion:
    version = AssetVersion(
        asset=asset, number=number, filename=filename, storage_key=key, size=stored.size,
        sha256=stored.sha256, mime=guess_mime(filename), processing=Processing.PENDING, uploaded_by_id=user.id,
    )
    db.session.add(version)
    db.session.flush()
    return version


def _owner_from(data: Mapping, default: User | None) -> User | None:
    """The owner named by `owner_email`, if given: the marketer answerable for the item."""
    email = str(data.get("owner_email") or "").strip()
    if not email:
        return default
    from portal.admin.services import find_user

    owner = find_user(email)
    if owner is None or not owner.active:
        raise InvalidInput("Some fields need attention.", {"owner_email": f"No active user {email}."})
    if not owner.can_publish:
        raise InvalidInput("Some fields need attention.", {"owner_email": "The owner must be a marketer or an admin."})
    return owner


UPLOAD_TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


def _by_upload_token(token: str | None) -> Asset | None:
    return db.session.scalar(select(Asset).where(Asset.upload_token == token)) if token else None


def create_asset(owner: User, stream: BinaryIO, filename: str, metadata: Mapping, max_bytes: int, *,
                 publish: PublishChoice = NOW, allow_duplicate: bool = False, uploader: User | None = None,
                 upload_token: str | None = None) -> UploadResult:
    """A new item from an uploaded file. `publish` decides its first state (publishing.start);
    a file identical to another item's current file is refused (DuplicateFile) unless
    `allow_duplicate`; a form sent twice with one `upload_token` makes one item."""
    uploader = uploader or owner
    filename = clean_filename(filename)
    if not str(metadata.get("content_type") or "").strip():
        metadata = {**metadata, "content_type": default_content_type(filename)}
    values = parse_metadata(metadata)
    owner = _owner_from(metadata, owner)
    if upload_token is not None and not UPLOAD_TOKEN.match(upload_token):
        raise InvalidInput("The form's upload token is malformed; reload the page.", {"upload_token": "Malformed."})
    if (earlier := _by_upload_token(upload_token)) is not None:
        return UploadResult(earlier, [], repeated=True)
    key, stored = _store_upload(stream, filename, max_bytes)
    duplicates = find_duplicates(stored.sha256)
    if duplicates and not allow_duplicate:
        get_storage().delete(key)
        raise DuplicateFile(duplicates[0])
    tags = values.pop("tags")
    asset = Asset(owner_id=owner.id, upload_token=upload_token, **values)
    asset.set_tags(tags)
    publishing.start(asset, uploader, publish)
    db.session.add(asset)
    try:
        db.session.flush()
        asset.current_version = _new_version(asset, 1, filename, key, stored, uploader)
        audit.record(asset.id, uploader, "created", "status", None, asset.status)
        db.session.commit()
    except Exception as error:
        db.session.rollback()
        get_storage().delete(key)
        if upload_token is not None and (earlier := _by_upload_token(upload_token)) is not None:
            return UploadResult(earlier, [], repeated=True)  # the same form, sent twice at once
        raise error
    after_file_change(asset.current_version_id)
    return UploadResult(asset, duplicates)


def add_version(asset: Asset, user: User, stream: BinaryIO, filename: str, max_bytes: int, *,
                publish: PublishChoice = NOW) -> UploadResult:
    """A new version; versions of one asset are numbered one at a time under the row lock.
    Where it goes (current at once, or waiting until processed, published, approved):
    publishing.place_version."""
    filename = clean_filename(filename)
    key, stored = _store_upload(stream, filename, max_bytes)
    try:
        asset = _lock_asset(asset)
        duplicates = find_duplicates(stored.sha256, exclude_asset_id=asset.id)
        number = (db.session.scalar(
            select(func.max(AssetVersion.number)).where(AssetVersion.asset_id == asset.id)
        ) or 0) + 1
        version = _new_version(asset, number, filename, key, stored, user)
        publishing.place_version(asset, version, user, publish)
        asset.updated_at = utcnow()
        db.session.commit()
    except BaseException:
        # Nothing points at the stored file: remove it, so a failed upload leaves nothing.
        db.session.rollback()
        get_storage().delete(key)
        raise
    after_file_change(version.id)
    return UploadResult(asset, duplicates)


def after_file_change(version_id: int) -> None:
    """A new file needs processing (text, pages, thumbnails); its commit indexes it."""
    enqueue("process_version", version_id)


def metadata_snapshot(asset: Asset) -> dict:
    """The audited fields of an item, as they are now."""
    snapshot = {name: getattr(asset, name) for name in METADATA_FIELDS if name != "tags"}
    snapshot.update(tags=sorted(asset.tags), owner=asset.owner.email if asset.owner else None, review_by=asset.review_by)
    return snapshot


def update_metadata(asset: Asset, data: Mapping, user: User | None = None) -> Asset:
    values = parse_metadata(data, partial=True)
    before = metadata_snapshot(asset)
    asset.owner = _owner_from(data, asset.owner)
    if "tags" in values:
        asset.set_tags(values.pop("tags"))
    for name, value in values.items():
        setattr(asset, name, value)
    asset.updated_at = utcnow()
    after = metadata_snapshot(asset)
    audit.record_changes(asset.id, user, before, {k: v for k, v in after.items() if v != before.get(k)})
    db.session.commit()
    return asset


# --- retire and restore -----------------------------------------------------

def retire_assets(assets: list[Asset], user: User | None, reason: str) -> int:
    """Retire these assets with a reason; history is kept and it can be undone."""
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("Say why these items are retired.", {"reason": "A reason is required."})
    changed = []
    for asset in assets:
        if asset.status == AssetStatus.RETIRED:
            continue
        try:
            publishing.retire(asset, user, reason)
        except publishing.TransitionRefused:
            continue  # retired meanwhile by someone else
        db.session.commit()  # each item on its own: audited per item
        changed.append(asset.id)
    return len(changed)


def restore_asset(asset: Asset, user: User, reason: str = "") -> Asset:
    asset = publishing.restore(asset, user, reason)
    db.session.commit()
    return asset


# --- usage and listing -------------------------------------------------------

# One person reading one item is one view: the asset page and the viewer it opens (and a reload
# or a second tab) fall inside the same window, as Highspot and Seismic count them.
VIEW_WINDOW = timedelta(minutes=30)


def record_usage(user: User | None, asset: Asset, kind: UsageKind, version: AssetVersion | None = None,
                 **details: int | None) -> None:
    if kind is UsageKind.VIEW and user is not None and _viewed_lately(user, asset):
        return
    version = version or asset.current_version
    db.session.add(UsageEvent(asset_id=asset.id, version_id=version.id if version else None,
                              user_id=user.id if user else None, kind=kind.value, **details))
    db.session.commit()


def _viewed_lately(user: User, asset: Asset) -> bool:
    """One lookup on ix_usage_events_asset_time: this asset's events since the window opened."""
    since = utcnow() - VIEW_WINDOW
    return db.session.scalar(select(select(UsageEvent.id).where(
        UsageEvent.asset_id == asset.id, UsageEvent.occurred_at >= since,
        UsageEvent.user_id == user.id, UsageEvent.kind == UsageKind.VIEW.value).exists())) or False


LIST_FILTERS = ("content_type", "product", "stage", "region", "persona")
STATUS_FILTERS = {
    **{status.value: (lambda status=status: Asset.status == status) for status in AssetStatus},
    "expired": lambda: Asset.expires_on < date.today(),
    "needs_review": lambda: and_(Asset.status == AssetStatus.PUBLISHED, Asset.review_by < date.today()),
}


def list_assets(user: User, filters: Mapping[str, str], sort: str = "newest", page: int = 1,
                per_page: int = 20) -> Listing:
    query = visible_assets(user)
    for name in LIST_FILTERS:
        value = (filters.get(name) or "").strip()
        if value:
            query = query.where(getattr(Asset, name) == value)
    tag = (filters.get("tag") or "").strip().lower()
    if tag:
        query = query.where(Asset.tag_rows.any(AssetTag.tag == tag))
    owner_id = (filters.get("owner_id") or "").strip()
    if owner_id:
        try:
            owner = whole_number(owner_id)
        except ValueError:
            raise InvalidInput(f"owner_id must be a whole number up to {MAX_ID}.",
                               {"owner_id": "Not an id."}, 400) from None
        query = query.where(Asset.owner_id == owner)
    status = (filters.get("status") or "").strip()
    if status and status not in STATUS_FILTERS:
        raise InvalidInput(f"status is one of {', '.join(STATUS_FILTERS)}.", {"status": "Unknown status."}, 400)
    if status and user.is_staff:  # reps only ever see published, unexpired items
        query = query.where(STATUS_FILTERS[status]())
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    if sort == "rating":
        average = (
            select(func.avg(Rating.stars)).where(Rating.asset_id == Asset.id).correlate(Asset).scalar_subquery()
        )
        query = query.order_by(func.coalesce(average, 0).desc(), Asset.id.desc())
    elif sort == "usage":
        usage = (
            select(func.count()).select_from(UsageEvent).where(UsageEvent.asset_id == Asset.id)
            .correlate(Asset).scalar_subquery()
        )
        query = query.order_by(usage.desc(), Asset.id.desc())
    else:
        query = query.order_by(SORTS.get(sort, SORTS["newest"]), Asset.id.desc())
    page = max(1, page)
    items = list(db.session.scalars(query.offset((page - 1) * per_page).limit(per_page)))
    return Listing(items, total, page, per_page)


def facet_values(user: User) -> dict[str, list[str]]:
    """Distinct values for the library's filter menus."""
    values = {}
    base = visible_assets(user).subquery()
    for name in ("product", "stage", "region", "persona"):
        column = getattr(base.c, name)
        values[name] = [v for v in db.session.scalars(select(column).distinct().where(column.is_not(None)).order_by(column))]
    return values
