"""Buyer attention from share links (portal/sharing), for marketing and enablement:
per item and per page ("the pricing slide gets 40 s on average"), shares per team,
the share-to-open rate, shares whose opportunity was won or lost, and the buyer
opens that count as uses in the content score and the rating-against-usage quadrant.

A share's outcome is that of its opportunity: a reported use (portal/feedback) of
the same opportunity (case and spacing aside) with the outcome won or lost; the
latest such report decides."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import and_, distinct, func, literal, or_, select, union

from portal.analytics.ranges import DateRange
from portal.extensions import db
from portal.models import (
    Asset,
    DeckSlide,
    Outcome,
    Page,
    ReportedUse,
    ShareLink,
    ShareLinkItem,
    SharePageView,
    ShareVisit,
    User,
)


def _visit_in(window: DateRange):
    return and_(ShareVisit.started_at >= window.start, ShareVisit.started_at < window.end)


def _opened_assets(window: DateRange, asset_id: int | None = None):
    """(asset_id, visit_id) of every visit in the range to a link showing the item:
    an item link, or a deck link (or a room) whose visit read one of its pages."""
    items = (select(ShareLink.asset_id.label("asset_id"), ShareVisit.id.label("visit_id"))
             .join(ShareLink, ShareLink.id == ShareVisit.link_id)
             .where(ShareLink.asset_id.is_not(None), _visit_in(window)))
    slides = (select(SharePageView.asset_id.label("asset_id"), SharePageView.visit_id.label("visit_id"))
              .join(ShareVisit, ShareVisit.id == SharePageView.visit_id)
              .join(ShareLink, ShareLink.id == ShareVisit.link_id)
              .where(ShareLink.asset_id.is_(None), SharePageView.asset_id.is_not(None), _visit_in(window)))
    if asset_id is not None:
        items = items.where(ShareLink.asset_id == asset_id)
        slides = slides.where(SharePageView.asset_id == asset_id)
    return union(items, slides).subquery()


def buyer_opens(window: DateRange, asset_id: int | None = None) -> dict[int, int]:
    """{asset id: buyers' visits in the range that showed it}."""
    opened = _opened_assets(window, asset_id)
    return {a: int(n) for a, n in db.session.execute(
        select(opened.c.asset_id, func.count(distinct(opened.c.visit_id))).group_by(opened.c.asset_id))}


@dataclass
class PageAttention:
    number: int
    visits: int        # visits that read it
    seconds: int       # all those visits' seconds on it
    reach: float       # share of the item's visits that read it (0..1)

    @property
    def average_seconds(self) -> float:
        return round(self.seconds / self.visits, 1) if self.visits else 0.0


@dataclass
class ItemAttention:
    asset_id: int
    title: str
    shares: int = 0
    opened: int = 0      # of those, links opened at least once
    visits: int = 0
    seconds: int = 0
    pages: list[PageAttention] = field(default_factory=list)

    @property
    def open_rate(self) -> float | None:
        return round(self.opened / self.shares, 3) if self.shares else None


def page_attention(asset_id: int, window: DateRange) -> list[PageAttention]:
    """Buyers' time on each page of the item in the range (item links and deck slides alike)."""
    visits = buyer_opens(window, asset_id).get(asset_id, 0)
    rows = db.session.execute(
        select(SharePageView.page_number, func.count(distinct(SharePageView.visit_id)), func.sum(SharePageView.seconds))
        .join(ShareVisit, ShareVisit.id == SharePageView.visit_id)
        .where(SharePageView.asset_id == asset_id, SharePageView.page_number.is_not(None), _visit_in(window))
        .group_by(SharePageView.page_number).order_by(SharePageView.page_number)).all()
    return [PageAttention(int(number), int(n), int(seconds or 0), round(n / visits, 3) if visits else 0.0)
            for number, n, seconds in rows]


def item_attention(window: DateRange, limit: int = 200) -> list[ItemAttention]:
    """Items shared or opened in the range, most buyer time first."""
    items: dict[int, ItemAttention] = {}

    def item(asset_id: int) -> ItemAttention:
        return items.setdefault(asset_id, ItemAttention(asset_id, ""))

    made = and_(ShareLink.created_at >= window.start, ShareLink.created_at < window.end)
    for asset_id, shares, opened in db.session.execute(
            select(ShareLink.asset_id, func.count(), func.count().filter(ShareLink.visits_count > 0))
            .where(ShareLink.asset_id.is_not(None), made).group_by(ShareLink.asset_id)):
        item(asset_id).shares, item(asset_id).opened = int(shares), int(opened)
    for asset_id, shares, opened in db.session.execute(  # rooms holding the item
            select(ShareLinkItem.asset_id, func.count(), func.count().filter(ShareLink.visits_count > 0))
            .join(ShareLink, ShareLink.id == ShareLinkItem.link_id).where(made).group_by(ShareLinkItem.asset_id)):
        item(asset_id).shares += int(shares)
        item(asset_id).opened += int(opened)
    for asset_id, visits in buyer_opens(window).items():
        item(asset_id).visits = visits
    for asset_id, seconds in db.session.execute(
            select(SharePageView.asset_id, func.sum(SharePageView.seconds))
            .join(ShareVisit, ShareVisit.id == SharePageView.visit_id)
            .where(SharePageView.asset_id.is_not(None), _visit_in(window)).group_by(SharePageView.asset_id)):
        item(asset_id).seconds = int(seconds or 0)
    ordered = sorted(items.values(), key=lambda i: (-i.seconds, -i.visits, i.asset_id))[:limit]
    titles = dict(db.session.execute(select(Asset.id, Asset.title).where(Asset.id.in_([i.asset_id for i in ordered])))
                  .tuples().all())
    for entry in ordered:
        entry.title = titles.get(entry.asset_id, f"#{entry.asset_id}")
    return ordered


@dataclass
class TeamShares:
    team: str
    shares: int
    opened: int

    @property
    def open_rate(self) -> float | None:
        return round(self.opened / self.shares, 3) if self.shares else None


@dataclass
class SharingOverview:
    shares: int
    opened: int
    visits: int
    teams: list[TeamShares]
    outcomes: dict[str, int]  # won / lost: shares whose opportunity ended so

    @property
    def open_rate(self) -> float | None:
        return round(self.opened / self.shares, 3) if self.shares else None


def _normalized(column):
    return func.lower(func.trim(column))


def _showing(asset_id: int):
    """Links that show the item: its own, decks holding one of its slides, rooms holding it."""
    decks = select(DeckSlide.deck_id).join(Page, Page.id == DeckSlide.page_id).where(Page.asset_id == asset_id)
    rooms = select(ShareLinkItem.link_id).where(ShareLinkItem.asset_id == asset_id)
    return or_(ShareLink.asset_id == asset_id, ShareLink.deck_id.in_(decks), ShareLink.id.in_(rooms))


def share_outcomes(window: DateRange, asset_id: int | None = None) -> dict[str, int]:
    """Shares made in the range (of one item, when given) whose opportunity was won or
    lost (the latest report decides)."""
    latest = (select(_normalized(ReportedUse.opportunity).label("opportunity"),
                     func.max(ReportedUse.updated_at).label("at"))
              .where(ReportedUse.outcome.in_((Outcome.WON.value, Outcome.LOST.value)), ReportedUse.opportunity != "")
              .group_by(_normalized(ReportedUse.opportunity)).subquery())
    decided = (select(latest.c.opportunity, func.max(ReportedUse.outcome).label("outcome"))
               .join(ReportedUse, and_(_normalized(ReportedUse.opportunity) == latest.c.opportunity,
                                       ReportedUse.updated_at == latest.c.at))
               .where(ReportedUse.outcome.in_((Outcome.WON.value, Outcome.LOST.value)))
               .group_by(latest.c.opportunity).subquery())
    counts = dict.fromkeys((Outcome.WON.value, Outcome.LOST.value), 0)
    for outcome, n in db.session.execute(
            select(decided.c.outcome, func.count()).select_from(ShareLink)
            .join(decided, decided.c.opportunity == _normalized(ShareLink.opportunity))
            .where(ShareLink.opportunity != "", ShareLink.created_at >= window.start,
                   ShareLink.created_at < window.end, *([_showing(asset_id)] if asset_id else []))
            .group_by(decided.c.outcome)):
        counts[outcome] = int(n)
    return counts


def sharing_overview(window: DateRange, asset_id: int | None = None) -> SharingOverview:
    """Shares made in the range (of links showing one item, when given), per team."""
    made = and_(ShareLink.created_at >= window.start, ShareLink.created_at < window.end,
                *([_showing(asset_id)] if asset_id else []))
    team = func.coalesce(User.team, literal("(no team)"))
    teams = [TeamShares(name, int(shares), int(opened)) for name, shares, opened in db.session.execute(
        select(team, func.count(), func.count().filter(ShareLink.visits_count > 0))
        .join(User, User.id == ShareLink.owner_id).where(made).group_by(team).order_by(func.count().desc(), team))]
    if asset_id:
        visits = buyer_opens(window, asset_id).get(asset_id, 0)
    else:
        visits = db.session.scalar(select(func.count()).select_from(ShareVisit).where(_visit_in(window))) or 0
    return SharingOverview(sum(t.shares for t in teams), sum(t.opened for t in teams), int(visits), teams,
                           share_outcomes(window, asset_id))


def attention_table(window: DateRange):
    """The CSV: one row per item and page (page empty: the item's totals)."""
    header = ["asset_id", "title", "page", "shares", "opened", "open_rate", "buyer_visits", "buyer_seconds",
              "visits_reading_page", "average_seconds_on_page", "reach"]
    rows = []
    for item in item_attention(window, limit=10_000):
        rows.append([item.asset_id, item.title, "", item.shares, item.opened, item.open_rate, item.visits,
                     item.seconds, "", "", ""])
        for page in page_attention(item.asset_id, window):
            rows.append([item.asset_id, item.title, page.number, "", "", "", "", "", page.visits,
                         page.average_seconds, page.reach])
    return header, rows


def with_pages(items: list[ItemAttention], window: DateRange) -> list[ItemAttention]:
    for item in items:
        item.pages = page_attention(item.asset_id, window)
    return items
