"""Slide lineage: which slides are the same slide (identical or near-identical)
across all decks, and who to tell when one changes.

At processing (portal/library/processing.py, in the queue) each slide gets its
fingerprints (assets/fingerprints.py: a pHash of its thumbnail, a MinHash of its
text); then the queue's `group_slides` task groups the version's slides: their
bucket keys go into `slide_buckets`, the slides sharing a bucket with them are
the only candidates (one indexed look-up for the whole version, never all
pairs), and those that are the same slide join one group (a group's id is the
smallest page id in it; groups that a new slide bridges are merged). Then the
owners of other decks and reps with saved decks holding an older copy of a
slide this version changed or removed are notified, once: each notice sent is
recorded (SlideChangeNotice), so processing the same version again repeats none.

`backfill` does the same for pages processed before lineage existed (the
`lineage-backfill` command queues it in batches)."""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass

from flask import url_for
from sqlalchemy import delete, func, insert, select, update

from assets.fingerprints import Print, bucket_keys, minhash, phash, same_slide
from portal.extensions import db
from portal.models import (
    Asset,
    AssetStatus,
    AssetVersion,
    Deck,
    DeckSlide,
    Page,
    SlideBucket,
    SlideChangeNotice,
    User,
)
from portal.search.indexing import mark_for_indexing
from portal.storage import get_storage

log = logging.getLogger(__name__)

MAX_BUCKET = 500        # a bucket larger than this (boilerplate, blank slides) says little: skipped
MAX_NOTICES = 500       # notifications one new version may send
BACKFILL_BATCH = 200    # versions per queued backfill job


def slide_text(page: Page) -> str:
    return f"{page.title}\n{page.text}"


def fingerprint(page: Page, png_path: str | None) -> None:
    """Set a slide's fingerprints (in the caller's transaction)."""
    page.minhash = minhash(slide_text(page))
    try:
        page.phash = phash(png_path) if png_path else None
    except (OSError, ValueError) as error:  # an unreadable thumbnail: the text still counts
        log.warning("no perceptual hash for page %s: %s", page.id, error)
        page.phash = None


def _print(row) -> Print:
    return Print(row.phash, row.minhash, f"{row.title}\n{row.text}")


class _Groups:
    """Union-find over page ids, seeded with the groups pages already have."""

    def __init__(self):
        self.parent: dict[int, int] = {}

    def find(self, item: int) -> int:
        root = item
        while self.parent.get(root, root) != root:
            root = self.parent[root]
        while self.parent.get(item, item) != root:
            self.parent[item], item = root, self.parent[item]
        return root

    def union(self, first: int, second: int) -> None:
        a, b = self.find(first), self.find(second)
        if a != b:
            self.parent[max(a, b)] = min(a, b)


def group_pages(page_ids: Iterable[int]) -> int:
    """Put these (fingerprinted) slides in their groups; returns how many joined an existing group.
    Commits."""
    page_ids = sorted(set(page_ids))
    if not page_ids:
        return 0
    columns = (Page.id, Page.asset_id, Page.phash, Page.minhash, Page.title, Page.text, Page.group_id)
    new = {row.id: row for row in db.session.execute(select(*columns).where(Page.id.in_(page_ids)))}
    keys_of = {pid: bucket_keys(row.phash, row.minhash) for pid, row in new.items()}
    all_keys = {k for keys in keys_of.values() for k in keys}
    db.session.execute(delete(SlideBucket).where(SlideBucket.page_id.in_(list(new))))
    members: dict[int, list[int]] = {}
    for chunk in _chunks(sorted(all_keys), 2000):
        for key, page_id in db.session.execute(
                select(SlideBucket.key, SlideBucket.page_id).where(SlideBucket.key.in_(chunk))):
            members.setdefault(key, []).append(page_id)
    rows = [{"key": k, "page_id": pid} for pid, keys in keys_of.items() for k in set(keys)]
    if rows:
        db.session.execute(insert(SlideBucket), rows)
    candidates: dict[int, set[int]] = {pid: set() for pid in new}
    for pid, keys in keys_of.items():
        for key in keys:
            bucket = members.get(key, [])
            if len(bucket) <= MAX_BUCKET:
                candidates[pid].update(bucket)
    # The new slides are candidates of each other when they share a key.
    by_key: dict[int, list[int]] = {}
    for pid, keys in keys_of.items():
        for key in set(keys):
            by_key.setdefault(key, []).append(pid)
    for pids in by_key.values():
        if len(pids) <= MAX_BUCKET:
            for pid in pids:
                candidates[pid].update(p for p in pids if p != pid)
    old_ids = {c for cs in candidates.values() for c in cs} - set(new)
    old = {}
    for chunk in _chunks(sorted(old_ids), 2000):
        old.update({row.id: row for row in db.session.execute(select(*columns).where(Page.id.in_(chunk)))})
    groups = _Groups()
    for row in old.values():
        if row.group_id is not None:
            groups.union(row.id, row.group_id)
    joined = 0
    prints = {pid: _print(row) for pid, row in {**old, **new}.items()}
    for pid in page_ids:
        matched = False
        for other in candidates[pid]:
            if other in prints and same_slide(prints[pid], prints[other]):
                groups.union(pid, other)
                matched = matched or other in old
        joined += matched
    # Each group's id is its smallest member; groups a new slide bridged are merged into one.
    # One executemany (pipelined by psycopg), not a statement per slide: a 100-slide deck was
    # 100 round trips.
    changed = [{"id": pid, "group_id": groups.find(pid)} for pid in page_ids
               if new[pid].group_id != groups.find(pid)]
    if changed:
        db.session.execute(update(Page), changed)
    old_groups = {row.group_id for row in old.values() if row.group_id is not None}
    merged = {group: groups.find(group) for group in old_groups if groups.find(group) != group}
    # Slide search shows each group once: the index learns the new groups through the outbox,
    # one entry per asset whose indexed slides moved (a slide without a group is its own).
    regrouped = {new[pid].asset_id for pid in page_ids if (new[pid].group_id or pid) != groups.find(pid)}
    mark_for_indexing(db.session, regrouped | _assets_showing(list(merged)))
    for group, root in merged.items():
        db.session.execute(update(Page).where(Page.group_id == group).values(group_id=root))
    db.session.commit()
    return joined


def _assets_showing(group_ids: list[int]) -> set[int]:
    """Assets whose current version holds a slide of these groups (the slides the index has)."""
    found: set[int] = set()
    for chunk in _chunks(sorted(group_ids), 2000):
        found.update(db.session.scalars(
            select(Page.asset_id).join(Asset, Asset.id == Page.asset_id)
            .where(Page.group_id.in_(chunk), Asset.current_version_id == Page.version_id).distinct()))
    return found


def _chunks(items: list, size: int):
    for start in range(0, len(items), size):
        yield items[start:start + size]


# --- what pages and the API show ------------------------------------------------------------------

@dataclass
class Copy:
    page: Page
    asset: Asset
    version: AssetVersion
    newest: bool


def _copies_of_groups(groups: set[int], user: User | None) -> dict[int, list[Copy]]:
    """Per group: one copy per deck, from its current version, newest first; the newest
    published copy marked. Reps see only what they may see (published, not expired)."""
    found: dict[int, list[Copy]] = {}
    group_list = sorted(groups)
    for start in range(0, len(group_list), 500):
        rows = db.session.execute(
            select(Page, Asset, AssetVersion).join(AssetVersion, Page.version_id == AssetVersion.id)
            .join(Asset, Page.asset_id == Asset.id)
            .where(Page.group_id.in_(group_list[start:start + 500]), Asset.current_version_id == Page.version_id)
            .order_by(AssetVersion.created_at.desc(), Page.id.desc()).limit(5000)
        ).all()
        for p, asset, version in rows:
            found.setdefault(p.group_id, []).append(Copy(p, asset, version, False))
    for group, members in found.items():
        if user is not None and not user.is_staff:
            members = found[group] = [c for c in members if not c.asset.is_hidden_from_reps()]
        published = [c for c in members if c.asset.status == AssetStatus.PUBLISHED and not c.asset.is_hidden_from_reps()]
        if published:
            published[0].newest = True
    return found


def copies(page: Page, user: User | None = None) -> list[Copy]:
    """The slide's group: one copy per deck (see _copies_of_groups); the slide itself always."""
    if page.group_id is None:
        return []
    found = _copies_of_groups({page.group_id}, user).get(page.group_id, [])
    if all(c.page.id != page.id for c in found) and page.version_id == page.asset.current_version_id:
        found.append(Copy(page, page.asset, page.version, False))
    return found


def _others(page: Page, members: list[Copy]) -> list[Copy]:
    seen: set[int] = set()
    result = []
    for c in members:
        if c.asset.id != page.asset_id and c.asset.id not in seen:
            seen.add(c.asset.id)
            result.append(c)
    return result


def other_decks(page: Page, user: User | None = None) -> list[Copy]:
    """Copies of this slide in other decks (other items), one per deck."""
    return _others(page, copies(page, user))


def lineage_json(page: Page, user: User) -> dict:
    return {
        "group_id": page.group_id,
        "copies": [{"page_id": c.page.id, "asset_id": c.asset.id, "asset_title": c.asset.title,
                    "number": c.page.number, "status": c.asset.status, "newest": c.newest}
                   for c in copies(page, user)],
    }


def asset_section(asset: Asset, user: User) -> list[tuple[Page, list[Copy]]] | None:
    """For the asset page: its slides that also appear in other decks, with those copies
    (one query for all the slides' groups)."""
    version = asset.current_version
    if version is None or version.kind != "pptx":
        return None
    pages = [p for p in version.pages[:1000] if p.group_id is not None]
    by_group = _copies_of_groups({p.group_id for p in pages}, user)
    found = [(page, others) for page in pages if (others := _others(page, by_group.get(page.group_id, [])))]
    return found or None


# --- telling people when a slide changes --------------------------------------------------------

def notify_changes(version: AssetVersion) -> int:
    """A new version changed or removed slides: tell the owners of other decks holding an
    older copy, and reps whose saved decks hold one. Returns how many were told."""
    from portal.notifications.services import notify

    asset = version.asset
    previous = db.session.scalars(
        select(AssetVersion).where(AssetVersion.asset_id == asset.id, AssetVersion.number < version.number)
        .order_by(AssetVersion.number.desc()).limit(1)).first()
    if previous is None or previous.kind != "pptx" or version.kind != "pptx":
        return 0
    new_groups = {p.group_id for p in version.pages if p.group_id is not None}
    by_number = {p.number: p for p in version.pages}
    sent = 0
    told: set[tuple[int, str]] = set()  # (recipient, holder:group): one notice per holder and group
    already = set(db.session.execute(
        select(SlideChangeNotice.slide_number, SlideChangeNotice.holder, SlideChangeNotice.user_id)
        .where(SlideChangeNotice.version_id == version.id)).tuples())

    def first_time(user_id: int, holder: str, group_id: int, slide_number: int) -> bool:
        """Whether to tell this recipient about this holder now; records it when so."""
        key = (user_id, f"{holder}:{group_id}")
        if key in told or sent >= MAX_NOTICES:
            return False
        told.add(key)
        if (slide_number, holder, user_id) in already:
            return False
        db.session.add(SlideChangeNotice(version_id=version.id, slide_number=slide_number, holder=holder,
                                         user_id=user_id))
        return True
    for old in previous.pages:
        if old.group_id is None or old.group_id in new_groups:
            continue  # unchanged (or never fingerprinted)
        replacement = by_number.get(old.number)
        what = (f"replaced by slide {replacement.number} “{replacement.title or 'untitled'}”"
                if replacement is not None else "removed")
        name = old.title or f"slide {old.number}"
        change = (f"“{name}” (slide {old.number} of “{asset.title}”) changed in version {version.number}: "
                  f"{what}.")
        holders = db.session.execute(
            select(Page, Asset).join(Asset, Page.asset_id == Asset.id)
            .where(Page.group_id == old.group_id, Asset.id != asset.id,
                   Asset.current_version_id == Page.version_id)).all()
        for page, other in holders:
            if not first_time(other.owner_id, f"asset:{other.id}", old.group_id, old.number):
                continue
            notify(other.owner_id, f"{change} Your deck “{other.title}” holds an older copy as slide "
                                   f"{page.number}.", _link("library.asset", asset_id=asset.id))
            sent += 1
        decks = db.session.execute(
            select(Deck, DeckSlide.position).join(DeckSlide, DeckSlide.deck_id == Deck.id)
            .join(Page, Page.id == DeckSlide.page_id)
            .where(Page.group_id == old.group_id, Deck.title != "").order_by(Deck.id, DeckSlide.position)).all()
        positions: dict[int, tuple[Deck, list[int]]] = {}
        for deck, position in decks:
            positions.setdefault(deck.id, (deck, []))[1].append(position)
        for deck, where in positions.values():
            if not first_time(deck.owner_id, f"deck:{deck.id}", old.group_id, old.number):
                continue
            slides = f"slide {where[0]}" if len(where) == 1 else "slides " + ", ".join(map(str, where))
            notify(deck.owner_id, f"{change} Your saved deck “{deck.title}” holds an older copy as {slides}.",
                   _link("decks.edit", deck_id=deck.id))
            sent += 1
    db.session.commit()
    return sent


def _link(endpoint: str, **values) -> str | None:
    try:
        return url_for(endpoint, **values)
    except RuntimeError:  # no request or server name: the message says where
        return None


# --- the queued work -------------------------------------------------------------------------------

def after_processing(version_id: int) -> None:
    """The queue's `group_slides` task: group a processed deck's slides, then tell people."""
    version = db.session.get(AssetVersion, version_id)
    if version is None or version.kind != "pptx":
        return
    group_pages([p.id for p in version.pages])
    db.session.expire_all()
    notify_changes(db.session.get(AssetVersion, version_id))


def backfill(version_ids: list[int]) -> int:
    """Fingerprint and group slides processed before lineage existed (their thumbnails are
    fetched from storage); returns how many slides were done."""
    storage = get_storage()
    done = []
    with tempfile.TemporaryDirectory(prefix="collateral-lineage-") as work:
        for version in db.session.scalars(select(AssetVersion).where(AssetVersion.id.in_(version_ids))):
            if version.kind != "pptx":
                continue
            if version.slide_width_emu is None:  # measured at processing since migration 0015
                _measure_size(version, storage, work)
            for page in version.pages:
                if page.minhash is not None or page.phash is not None:
                    continue
                png = None
                if page.thumbnail_key:
                    png = os.path.join(work, f"{page.id}.png")
                    try:
                        storage.download_to(page.thumbnail_key, png)
                    except Exception as error:  # noqa: BLE001 - a missing thumbnail leaves the text
                        log.warning("thumbnail of page %s not fetched: %s", page.id, error)
                        png = None
                fingerprint(page, png)
                done.append(page.id)
            db.session.commit()
    group_pages(done)
    return len(done)


def _measure_size(version: AssetVersion, storage, work: str) -> None:
    from assets.deck_builder import DeckAssemblyError, slide_size

    path = os.path.join(work, f"source-{version.id}.pptx")
    try:
        storage.download_to(version.storage_key, path)
        version.slide_width_emu, version.slide_height_emu = slide_size(path)
    except (DeckAssemblyError, OSError, ValueError, TypeError) as error:
        log.warning("slide size of version %s not measured: %s", version.id, error)
    except Exception as error:  # noqa: BLE001 - storage errors: the next backfill tries again
        log.warning("version %s not fetched: %s", version.id, error)
    finally:
        if os.path.exists(path):
            os.unlink(path)


def backfill_batches() -> list[list[int]]:
    """Versions of decks with slides not yet fingerprinted or no slide size, in batches for the queue."""
    ids = list(db.session.scalars(
        select(AssetVersion.id).outerjoin(Page, Page.version_id == AssetVersion.id)
        .where(AssetVersion.kind == "pptx",
               (Page.minhash.is_(None) & Page.phash.is_(None)) | AssetVersion.slide_width_emu.is_(None))
        .group_by(AssetVersion.id).order_by(AssetVersion.id)))
    return list(_chunks(ids, BACKFILL_BATCH))


def group_count() -> int:
    return db.session.scalar(select(func.count(func.distinct(Page.group_id)))) or 0
