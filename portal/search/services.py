"""Searching assets and slides for a user, logging every search and click.

The index returns ids; the rows, their text and highlights come from the
database (the source of truth)."""

from __future__ import annotations

import contextlib
import itertools
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from portal.errors import Unavailable
from portal.extensions import db
from portal.library.services import get_asset_for
from portal.library.stats import AssetStats, stats_for
from portal.models import Asset, AssetVersion, Page, SearchLog, UsageEvent, UsageKind, User
from portal.search.indexing import get_index, request_rebuild
from portal.wording import page_label, without_titles
from search.highlight import highlight
from search.index import IndexDamaged

FILTER_FIELDS = ("content_type", "product", "stage", "region", "persona", "tag")
SORTS = ("relevance", "rating", "usage", "newest")
MAX_QUERY = 500
# What a result list shows of each asset, loaded in a few queries instead of several per row.
ASSET_LISTING = (selectinload(Asset.owner), selectinload(Asset.tag_rows), selectinload(Asset.versions),
                 selectinload(Asset.current_version).selectinload(AssetVersion.uploaded_by))


def clean_filters(args: Mapping[str, str]) -> dict[str, str]:
    return {name: args[name].strip() for name in FILTER_FIELDS if (args.get(name) or "").strip()}


def normalize(query: str) -> str:
    return " ".join(query.lower().split())[:MAX_QUERY]


@dataclass
class AssetResult:
    asset: Asset
    score: float
    stats: AssetStats
    highlights: list[str] = field(default_factory=list)


@dataclass
class PageResult:
    page: Page
    score: float
    highlights: list[str] = field(default_factory=list)
    others: list[Page] = field(default_factory=list)  # copies of the same slide, collapsed into this one


@dataclass
class SearchOutcome:
    query: str
    items: list
    total: int
    page: int
    per_page: int
    facets: dict[str, dict[str, int]]
    suggestion: str | None
    log_id: int | None

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def _log(user: User, query: str, scope: str, filters: dict, total: int) -> int | None:
    if not query.strip() and not filters:
        return None  # browsing, not searching
    entry = SearchLog(user_id=user.id, query=query[:MAX_QUERY], normalized_query=normalize(query), scope=scope,
                      filters=json.dumps(filters, sort_keys=True), result_count=total)
    db.session.add(entry)
    db.session.commit()
    return entry.id


def _snippets(terms: list[str], texts: Iterable[str], limit: int = 2) -> list[str]:
    snippets = []
    for text in texts:
        if text:
            snippet = highlight(text, terms)
            if snippet and snippet not in snippets:
                snippets.append(snippet)
                if len(snippets) >= limit:
                    break
    return snippets


REBUILDING = "Search is being rebuilt after a problem with its index; try again in a few minutes."


def _count_search(user: User) -> None:
    """One search by this user (429 past the per-user limit: no one user starves the others)."""
    current_app.extensions["collateral_search_limit"].check(user.id)


@contextlib.contextmanager
def _index_read() -> Iterator[None]:
    """A damaged index is rebuilt from the database in the background; meanwhile
    searches answer 503 with a clear message instead of failing."""
    try:
        yield
    except IndexDamaged:
        request_rebuild()
        raise Unavailable(REBUILDING, code="search_rebuilding") from None


def search_assets(user: User, query: str, filters: dict[str, str], sort: str, page: int, per_page: int,
                  include_hidden: bool = False) -> SearchOutcome:
    query = query[:MAX_QUERY]
    sort = sort if sort in SORTS else "relevance"
    _count_search(user)
    with _index_read():
        results = get_index().search_assets(query, filters=filters, sort=sort, page=page, per_page=per_page,
                                            include_hidden=include_hidden and user.is_staff)
    # Logged first: the commit expires loaded rows, which would then be read again one by one.
    log_id = _log(user, query, "assets", filters, results.total)
    ids = [hit.asset_id for hit in results.hits]
    rows = {a.id: a for a in db.session.scalars(select(Asset).where(Asset.id.in_(ids)).options(*ASSET_LISTING))}
    stats = stats_for(ids)
    pages_by_asset: dict[int, list[Page]] = {}
    if results.terms:
        version_ids = [a.current_version_id for a in rows.values() if a.current_version_id]
        for row in db.session.scalars(select(Page).where(Page.version_id.in_(version_ids)).order_by(Page.number)):
            pages_by_asset.setdefault(row.asset_id, []).append(row)
    items = []
    for hit in results.hits:
        asset = rows.get(hit.asset_id)
        if asset is None or (not user.is_staff and asset.is_hidden_from_reps()):
            continue  # the index lags the database for a moment: trust the database
        # The result shows the asset's title: snippets need not say it again. Lazily: the
        # snippets usually come from the first pages, and cleaning every page's text of every
        # hit was most of the results page's time.
        texts = itertools.chain([without_titles(asset.description, asset.title)], (
            without_titles(f"{p.title}\n{without_titles(p.text, p.title)}\n{p.notes}", asset.title)
            for p in pages_by_asset.get(asset.id, [])))
        items.append(AssetResult(asset, hit.score, stats[asset.id], _snippets(results.terms, texts)))
    return SearchOutcome(query, items, results.total, page, per_page, results.facets, results.suggestion, log_id)


def search_pages(user: User, query: str, filters: dict[str, str], page: int, per_page: int,
                 include_hidden: bool = False) -> SearchOutcome:
    query = query[:MAX_QUERY]
    _count_search(user)
    with _index_read():
        results = get_index().search_pages(query, filters=filters, page=page, per_page=per_page,
                                           include_hidden=include_hidden and user.is_staff)
    log_id = _log(user, query, "pages", filters, results.total)
    ids = [hit.page_id for hit in results.hits]
    rows = {p.id: p for p in db.session.scalars(select(Page).where(Page.id.in_(ids)).options(
        joinedload(Page.asset).joinedload(Asset.current_version)))}  # is_hidden_from_reps reads it
    items = []
    for hit in results.hits:
        row = rows.get(hit.page_id)
        if row is None or (not user.is_staff and row.asset.is_hidden_from_reps()):
            continue
        # The tile shows the slide's name and its asset's title; the snippet shows the rest.
        shown = (page_label(row), row.asset.title)
        items.append(PageResult(row, hit.score, _snippets(results.terms, [without_titles(row.text, *shown),
                                                                          without_titles(row.notes, *shown)])))
    items = collapse_copies(items)
    return SearchOutcome(query, items, results.total, page, per_page, results.facets, results.suggestion, log_id)


def collapse_copies(items: list[PageResult]) -> list[PageResult]:
    """Copies of one slide (slide lineage, portal/decks/lineage.py) on this page of hits become one
    result, shown as the newest published copy, at the place of the best-ranked; the others are kept
    in `others`, one click away."""
    groups: dict[int, list[PageResult]] = {}
    for item in items:
        if item.page.group_id is not None:
            groups.setdefault(item.page.group_id, []).append(item)
    collapsed = []
    for item in items:
        members = groups.get(item.page.group_id) if item.page.group_id is not None else None
        if not members:
            collapsed.append(item)
            continue
        if item is not members[0]:
            continue
        def rank(r: PageResult):
            published = r.page.asset.status == "published" and not r.page.asset.is_hidden_from_reps()
            return (published, r.page.version.created_at, r.page.id)
        shown = max(members, key=rank)
        shown.others = [m.page for m in members if m is not shown]
        collapsed.append(shown)
    return collapsed


def more_like_this(user: User, asset: Asset, limit: int = 5) -> list[Asset]:
    try:
        ids = get_index().more_like_this(asset.id, limit=limit, include_hidden=user.is_staff)
    except IndexDamaged:
        request_rebuild()
        return []  # the asset page still shows; only the suggestions are missing
    rows = {a.id: a for a in db.session.scalars(select(Asset).where(Asset.id.in_(ids)))}
    return [rows[i] for i in ids if i in rows and (user.is_staff or not rows[i].is_hidden_from_reps())]


def record_click(user: User, asset_id: int, search_log_id: int | None, page_number: int | None) -> Asset:
    """A click from a result list: counted as a search click-through of that asset."""
    asset = get_asset_for(user, asset_id)
    if search_log_id is not None and db.session.get(SearchLog, search_log_id) is None:
        search_log_id = None
    db.session.add(UsageEvent(asset_id=asset.id, version_id=asset.current_version_id, user_id=user.id,
                              kind=UsageKind.SEARCH_CLICK.value, search_log_id=search_log_id,
                              page_number=page_number))
    db.session.commit()
    return asset
