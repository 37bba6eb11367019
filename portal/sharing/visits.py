"""Buyers' visits to a link, the attention they pay page by page (beacons), and
what the rep is told (first open, a revisit after quiet days, withdrawn content).

A visit starts when the buyer opens the link (after the gate); its secret key
lives in a cookie scoped to the link's path (not the portal's session) and in
the page, which sends it with each beacon. Beacons are added to one row per
visit and page (SharePageView), never one row per beacon, and are bounded: pages
within what was shared, seconds capped per entry and per visit, a bounded number
of beacons per visit; anything for an unknown visit is ignored."""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from portal.errors import InvalidInput
from portal.extensions import after_commit, db
from portal.models import ShareKind, ShareLink, SharePageView, ShareVisit, utcnow
from portal.notifications.services import notify
from portal.queue import enqueue
from portal.sharing.content import ROOM_PAGE_STRIDE, BeaconTarget
from portal.sharing.tokens import new_token, token_hash, well_formed

log = logging.getLogger(__name__)

VISIT_HOURS = 12            # a return within this reuses the visit (the same browser)
MAX_ENTRY_SECONDS = 600     # one page in one beacon: more is clipped (a tab left open)
MAX_VISIT_SECONDS = 4 * 3600
MAX_BEACONS_PER_VISIT = 2000
MAX_BEACON_BYTES = 16 * 1024
MAX_BEACON_PAGES = 200      # entries in one beacon

DEVICES = ("mobile", "tablet", "desktop", "bot")
_BOT = re.compile(r"bot|crawl|spider|slurp|preview|fetch|curl|wget|python-requests|headless", re.I)
_TABLET = re.compile(r"ipad|tablet|kindle|silk|playbook|(android(?!.*mobile))", re.I)
_MOBILE = re.compile(r"mobi|iphone|ipod|android.*mobile|windows phone|blackberry|opera mini", re.I)


def device_class(user_agent: str | None) -> str:
    """mobile, tablet, desktop or bot, from the User-Agent (a class, never the string)."""
    agent = (user_agent or "")[:512]
    if not agent or _BOT.search(agent):
        return "bot" if agent else "desktop"
    if _TABLET.search(agent):
        return "tablet"
    if _MOBILE.search(agent):
        return "mobile"
    return "desktop"


def visit_for_key(link: ShareLink, key: str | None) -> ShareVisit | None:
    """The link's visit whose key this is (None for anything else)."""
    if not key or not well_formed(key):
        return None
    visit = db.session.scalar(select(ShareVisit).where(ShareVisit.key_hash == token_hash(key)))
    return visit if visit is not None and visit.link_id == link.id else None


def reusable(visit: ShareVisit | None, now: datetime | None = None) -> bool:
    now = now or utcnow()
    return visit is not None and now - visit.started_at < timedelta(hours=VISIT_HOURS)


def start_visit(link: ShareLink, *, email: str | None, user_agent: str | None, revisit_days: int,
                now: datetime | None = None) -> tuple[ShareVisit, str]:
    """A new visit (and its key, for the cookie); tells the rep when it is the first
    one or comes after `revisit_days` quiet days."""
    now = now or utcnow()
    key = new_token()
    visit = ShareVisit(link_id=link.id, key_hash=token_hash(key), email=email, device=device_class(user_agent),
                       started_at=now, last_seen_at=now)
    db.session.add(visit)
    previous = link.last_visit_at
    db.session.execute(update(ShareLink).where(ShareLink.id == link.id).values(
        visits_count=ShareLink.visits_count + 1, last_visit_at=now))
    who = email or "Someone"
    if link.notify and previous is None:
        _tell(link, f"{who} opened your link to “{link.title}” for the first time.")
    elif link.notify and now - previous >= timedelta(days=revisit_days):
        days = (now - previous).days
        _tell(link, f"{who} came back to your link to “{link.title}” after {days} days.")
    db.session.commit()
    db.session.refresh(link)
    return visit, key


def _tell(link: ShareLink, message: str) -> None:
    """In the app at once; by email through the queue (tasks.py, once committed)."""
    notification = notify(link.owner_id, message, f"/shares/{link.id}")
    db.session.flush()
    notification_id = notification.id
    after_commit(db.session, f"share-email-{notification_id}", lambda: enqueue("email_share_notice", notification_id))


def note_withdrawn(link: ShareLink, reason: str, *, by_buyer: bool = True, item: str | None = None) -> None:
    """Tell the rep once that their link's content was withdrawn (found by a buyer, or
    by the hourly sweep, `notify_withdrawn`); for a room, naming the `item` found so."""
    if link.withdrawn_notice_at is not None:
        return
    link.withdrawn_notice_at = utcnow()
    content = f"its item “{item}”" if item else "its content"
    what = f"A buyer opened your link to “{link.title}”, but {content} was {reason}" if by_buyer \
        else f"The {content.removeprefix('its ')} of your link to “{link.title}” was {reason}"
    _tell(link, f"{what} and is no longer served. Share a current item instead.")
    db.session.commit()


def notify_withdrawn(today: date | None = None) -> list[int]:
    """Live links (not revoked, not expired) whose content (a room: any item) was retired or expired since,
    whose rep was not told yet: tell them (the queue runs this every hour). Returns the ids."""
    from portal.sharing.content import withdrawn_item

    today = today or date.today()
    told = []
    for link in db.session.scalars(select(ShareLink).where(
            ShareLink.revoked_at.is_(None), ShareLink.expires_on >= today, ShareLink.withdrawn_notice_at.is_(None))
            .order_by(ShareLink.id)):
        found = withdrawn_item(link, today)
        if found:
            note_withdrawn(link, found[0], by_buyer=False, item=found[1])
            told.append(link.id)
    return told


def note_download(visit: ShareVisit) -> None:
    if not visit.downloaded:
        visit.downloaded = True
        db.session.commit()


# --- beacons ----------------------------------------------------------------------------

@dataclass
class Beacon:
    key: str | None  # the visit (else the visit cookie's)
    pages: list[tuple[int, float]]  # (number, seconds), as sent
    item: int | None = None  # in a room, the item's position the pages are of


def parse_beacon(body: bytes) -> Beacon:
    """A beacon's JSON: {"pages": [{"number": N, "seconds": S}, ...]}, in a room
    "item": POSITION, and, from clients without the visit cookie, "visit": KEY;
    malformed ones are refused with 400 (never a 500)."""
    if len(body) > MAX_BEACON_BYTES:
        raise InvalidInput("The beacon is too large.", status=413)
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        raise InvalidInput("A beacon is a JSON object.", status=400) from None
    if not isinstance(data, dict) or not isinstance(data.get("visit", ""), str) \
            or not isinstance(data.get("pages"), list):
        raise InvalidInput("A beacon is {\"visit\", \"pages\": [{\"number\", \"seconds\"}]}.", status=400)
    item = data.get("item")
    if item is not None and (isinstance(item, bool) or not isinstance(item, int)):
        raise InvalidInput("\"item\" is the whole-number position of an item in the room.", status=400)
    if len(data["pages"]) > MAX_BEACON_PAGES:
        raise InvalidInput(f"At most {MAX_BEACON_PAGES} pages in one beacon.", status=413)
    pages = []
    for entry in data["pages"]:
        number = entry.get("number") if isinstance(entry, dict) else None
        seconds = entry.get("seconds") if isinstance(entry, dict) else None
        if isinstance(number, bool) or not isinstance(number, int) or isinstance(seconds, bool) \
                or not isinstance(seconds, int | float) or seconds != seconds:
            raise InvalidInput("Each page is {\"number\": whole number, \"seconds\": number}.", status=400)
        pages.append((number, float(seconds)))
    return Beacon(data.get("visit") or None, pages, item)


def _upsert(dialect: str):
    return pg_insert if dialect == "postgresql" else sqlite_insert


def record_beacon(link: ShareLink, target: BeaconTarget, beacon: Beacon, cookie_key: str | None = None,
                  now: datetime | None = None) -> int:
    """Add a beacon's seconds to its visit's pages; returns the page views kept.
    Pages outside what was shared and non-positive durations are dropped, each
    entry is capped at MAX_ENTRY_SECONDS and the visit at MAX_VISIT_SECONDS;
    an unknown visit, or one past MAX_BEACONS_PER_VISIT, keeps nothing; in a room,
    pages of an unknown or withdrawn item are dropped."""
    now = now or utcnow()
    target = target.for_item(beacon.item)
    key = beacon.key or cookie_key
    if not key or not well_formed(key):
        return 0
    if db.session.get_bind().dialect.name == "postgresql":
        # Attention is telemetry: a crash of the database may lose the last instant of
        # beacons (never half of one), and each beacon does not wait for the disk.
        db.session.execute(text("SET LOCAL synchronous_commit = off"))
    # The visit's row, locked: concurrent beacons of one visit add up under the bound.
    # (Core statements: a beacon is the busiest request there is.)
    visits_table, connection = ShareVisit.__table__, db.session.connection()
    visit = connection.execute(
        select(visits_table.c.id, visits_table.c.seconds, visits_table.c.beacons)
        .where(visits_table.c.key_hash == token_hash(key), visits_table.c.link_id == link.id)
        .with_for_update()).first()
    if visit is None or visit.beacons >= MAX_BEACONS_PER_VISIT:
        db.session.rollback()
        return 0
    budget = MAX_VISIT_SECONDS - visit.seconds
    totals: dict[int, list[int]] = {}  # number -> [seconds, views]
    for number, seconds in beacon.pages:
        if not 1 <= number <= target.page_count or seconds <= 0:
            continue
        kept = min(int(round(min(seconds, MAX_ENTRY_SECONDS))), budget)
        budget -= kept
        row = totals.setdefault(number, [0, 0])
        row[0] += kept
        row[1] += 1
    if totals:
        insert = _upsert(connection.dialect.name)
        rows = [{"visit_id": visit.id, "number": target.first_number + number,
                 "asset_id": target.library_page(number)[0], "page_number": target.library_page(number)[1],
                 "seconds": seconds, "views": views}
                for number, (seconds, views) in sorted(totals.items())]
        table = SharePageView.__table__
        statement = insert(table).values(rows)
        statement = statement.on_conflict_do_update(
            index_elements=[table.c.visit_id, table.c.number],
            set_={"seconds": table.c.seconds + statement.excluded.seconds,
                  "views": table.c.views + statement.excluded.views})
        connection.execute(statement)
    connection.execute(update(visits_table).where(visits_table.c.id == visit.id).values(
        seconds=MAX_VISIT_SECONDS - budget, beacons=visits_table.c.beacons + 1, last_seen_at=now))
    db.session.commit()
    return sum(views for _, views in totals.values())


def visit_pages(visit_ids: list[int]) -> dict[int, list[dict]]:
    """{visit id: [{number, seconds, views}]} in page order."""
    found: dict[int, list[dict]] = {v: [] for v in visit_ids}
    if not visit_ids:
        return found
    for row in db.session.scalars(select(SharePageView).where(SharePageView.visit_id.in_(visit_ids))
                                  .order_by(SharePageView.visit_id, SharePageView.number)):
        found[row.visit_id].append({"number": row.number, "seconds": row.seconds, "views": row.views})
    return found


def pages_read(link: ShareLink, visit_ids: list[int]) -> dict[int, list[dict]]:
    """What each visit read, as the rep is shown it: {visit id: [{number, seconds, views}]};
    in a room also each page's item (position and title), `number` being its page in
    that item."""
    found = visit_pages(visit_ids)
    if link.kind != ShareKind.COLLECTION:
        return found
    titles = {item.position: item.asset.title for item in link.items}
    for pages in found.values():
        for page in pages:
            page["item"], page["number"] = divmod(page["number"], ROOM_PAGE_STRIDE)
            page["title"] = titles.get(page["item"], f"Item {page['item']}")
    return found


def visits_of(link: ShareLink, limit: int = 200) -> list[ShareVisit]:
    return list(db.session.scalars(select(ShareVisit).where(ShareVisit.link_id == link.id)
                                   .order_by(ShareVisit.started_at.desc(), ShareVisit.id.desc()).limit(limit)))
