"""Page-level attention: the seconds readers spend on each page in the viewer.

The viewer (static/viewer.js) sends beacons `{"pages": [{"number", "seconds"}, ...]}`;
`record` checks them against the version the viewer shows and adds them to one row per
user, page and day (`PageAttention`), never one row per beacon. `per_page` is what the
asset's analytics page shows."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from sqlalchemy import case, func, select
from sqlalchemy.dialects import postgresql, sqlite

from portal.errors import InvalidInput
from portal.extensions import db
from portal.models import Asset, Page, PageAttention, User, utcnow
from portal.viewer.previews import viewer_pages

MAX_PAGES_PER_BEACON = 200
MAX_SECONDS_PER_PAGE = 1800.0    # one beacon reports at most half an hour on a page
MAX_SECONDS_PER_DAY = 86_400.0   # what one user's row for one page and day can add up to


def parse_beacon(body: object, page_count: int) -> dict[int, float]:
    """{page number: seconds} of a beacon, or InvalidInput (422) naming what is wrong."""
    if page_count <= 0:
        raise InvalidInput("This item has no pages to record attention on.", status=422)
    pages = body.get("pages") if isinstance(body, Mapping) else None
    if not isinstance(pages, list) or not pages:
        raise InvalidInput('Send {"pages": [{"number": N, "seconds": S}, ...]} with at least one page.',
                           {"pages": "A non-empty list is required."}, 422)
    if len(pages) > MAX_PAGES_PER_BEACON:
        raise InvalidInput(f"At most {MAX_PAGES_PER_BEACON} pages in one beacon.",
                           {"pages": "Too many pages."}, 422)
    seconds_by_page: dict[int, float] = {}
    for index, entry in enumerate(pages):
        number = entry.get("number") if isinstance(entry, Mapping) else None
        seconds = entry.get("seconds") if isinstance(entry, Mapping) else None
        if not isinstance(number, int) or isinstance(number, bool) or not 1 <= number <= page_count:
            raise InvalidInput(f"Page {index + 1} of the beacon: number must be a page of this item "
                               f"(1 to {page_count}).", {"pages": "Page number out of range."}, 422)
        if not isinstance(seconds, int | float) or isinstance(seconds, bool) or not math.isfinite(seconds) \
                or not 0 < seconds <= MAX_SECONDS_PER_PAGE:
            raise InvalidInput(f"Page {number}: seconds must be more than 0 and at most "
                               f"{MAX_SECONDS_PER_PAGE:g}.", {"pages": "Duration out of range."}, 422)
        seconds_by_page[number] = min(MAX_SECONDS_PER_PAGE, seconds_by_page.get(number, 0.0) + float(seconds))
    return seconds_by_page


def record(user: User, asset: Asset, body: object, today: date | None = None) -> int:
    """Add a beacon's seconds to the user's rows of today; returns how many pages it held."""
    version = asset.current_version
    seconds_by_page = parse_beacon(body, viewer_pages(version))
    day = today or utcnow().date()
    now = utcnow()
    rows = [{"day": day, "version_id": version.id, "number": number, "user_id": user.id,
             "asset_id": asset.id, "seconds": seconds, "updated_at": now}
            for number, seconds in sorted(seconds_by_page.items())]
    dialect = postgresql if db.engine.dialect.name == "postgresql" else sqlite
    insert = dialect.insert(PageAttention).values(rows)
    total = PageAttention.seconds + insert.excluded.seconds
    db.session.execute(insert.on_conflict_do_update(
        index_elements=["day", "version_id", "number", "user_id"],
        set_={"seconds": case((total > MAX_SECONDS_PER_DAY, MAX_SECONDS_PER_DAY), else_=total),
              "updated_at": insert.excluded.updated_at}))
    db.session.commit()
    return len(rows)


@dataclass
class PageAttentionRow:
    number: int
    title: str
    seconds: float
    readers: int

    @property
    def average(self) -> float:
        return self.seconds / self.readers if self.readers else 0.0


def duration(seconds: float) -> str:
    """12 s, 3 min 05 s, 2 h 01 min: how long people read, for tables."""
    whole = int(round(seconds))
    if whole < 60:
        return f"{whole} s"
    if whole < 3600:
        return f"{whole // 60} min {whole % 60:02d} s"
    return f"{whole // 3600} h {whole % 3600 // 60:02d} min"


def per_page(asset: Asset, since: date | None = None, until: date | None = None) -> list[PageAttentionRow]:
    """Seconds and readers per page of the current version (every page, read or not)."""
    version = asset.current_version
    if version is None:
        return []
    query = select(PageAttention.number, func.sum(PageAttention.seconds),
                   func.count(func.distinct(PageAttention.user_id))) \
        .where(PageAttention.version_id == version.id).group_by(PageAttention.number)
    if since:
        query = query.where(PageAttention.day >= since)
    if until:
        query = query.where(PageAttention.day <= until)
    totals = {number: (float(seconds or 0), int(readers)) for number, seconds, readers in db.session.execute(query)}
    titles = {}
    if version.kind in ("pdf", "pptx"):  # elsewhere the rendition's pages are not the extracted ones
        titles = dict(db.session.execute(select(Page.number, Page.title).where(Page.version_id == version.id)).all())
    count = max(viewer_pages(version), max(totals, default=0))
    return [PageAttentionRow(n, titles.get(n) or "", *totals.get(n, (0.0, 0))) for n in range(1, count + 1)]
