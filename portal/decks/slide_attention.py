"""Attention per slide for the slide evidence (evidence.py): how long reps read a
slide in the viewer (PageAttention) and how long buyers spent on it through share
links (SharePageView), with the buyer visits that skipped it.

A share page view names the library slide it showed by item and slide number
(not by version), so buyer figures are keyed (asset id, number); the viewer's are
keyed (version id, number). Every figure is aggregated in SQL, a chunk of slides per
statement, so an item with 1,000 slides and millions of page views costs a handful
of grouped queries.

"Skipped": a visit that recorded time on the link it opened (so the buyer read
something) but none on this slide, among visits of links that show the slide: links
to its item (every slide of the current version is shown) and links to decks that
hold it now. A deck changed after a visit can leave a visit counted as reaching a
slide the deck no longer shows; skipped never goes below zero."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import distinct, func, select, tuple_

from portal.extensions import db
from portal.models import (
    DeckSlide,
    Page,
    PageAttention,
    ShareKind,
    ShareLink,
    SharePageView,
    ShareVisit,
)
from portal.viewer.attention import duration
from portal.wording import plural

CHUNK = 500  # slides per IN list: well under every driver's bound parameter limit


@dataclass
class SlideAttention:
    reader_seconds: float = 0.0
    readers: int = 0           # reps who read it in the viewer (summed over copies for a group)
    buyer_seconds: int = 0
    buyer_views: int = 0       # page-view events the share beacons counted
    buyer_visits: int = 0      # buyer visits that spent time on it
    shown_visits: int = 0      # buyer visits (that read anything) of links showing it

    def __iadd__(self, other: SlideAttention) -> SlideAttention:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        return self

    @property
    def buyer_average(self) -> float | None:
        return self.buyer_seconds / self.buyer_visits if self.buyer_visits else None

    @property
    def skipped(self) -> int:
        return max(0, self.shown_visits - self.buyer_visits)

    @property
    def counted_visits(self) -> int:
        """Visits that could have read the slide: never fewer than those that did."""
        return max(self.shown_visits, self.buyer_visits)

    @property
    def buyer_sentence(self) -> str:
        if not self.counted_visits:
            return "No buyer has opened a link showing this slide yet."
        spent = (f"Buyers spend {duration(self.buyer_average)} on average on this slide."
                 if self.buyer_average is not None else "No buyer has spent time on this slide.")
        if not self.skipped:
            return f"{spent} None of {plural(self.counted_visits, 'buyer visit')} skipped it."
        return f"{spent} Skipped by {self.skipped} of {plural(self.counted_visits, 'buyer visit')}."

    @property
    def reader_sentence(self) -> str:
        if not self.readers:
            return "No rep has read it in the viewer yet."
        return f"Reps read it {duration(self.reader_seconds)} in all ({plural(self.readers, 'rep')})."


def _chunks(keys: Iterable[tuple[int, int]]) -> Iterable[list[tuple[int, int]]]:
    ordered = sorted(set(keys))
    for start in range(0, len(ordered), CHUNK):
        yield ordered[start:start + CHUNK]


def viewer_attention(version_slides: Iterable[tuple[int, int]]) -> dict[tuple[int, int], SlideAttention]:
    """{(version id, number): reps' seconds and distinct readers}, all time."""
    found: dict[tuple[int, int], SlideAttention] = {}
    for chunk in _chunks(version_slides):
        for version_id, number, seconds, readers in db.session.execute(
                select(PageAttention.version_id, PageAttention.number, func.sum(PageAttention.seconds),
                       func.count(distinct(PageAttention.user_id)))
                .where(PageAttention.version_id.in_({v for v, _ in chunk}),
                       tuple_(PageAttention.version_id, PageAttention.number).in_(chunk))
                .group_by(PageAttention.version_id, PageAttention.number)):
            found[(version_id, number)] = SlideAttention(reader_seconds=float(seconds or 0), readers=int(readers))
    return found


def buyer_attention(item_slides: Iterable[tuple[int, int]]) -> dict[tuple[int, int], SlideAttention]:
    """{(asset id, number): buyers' seconds, views, visits that reached it and visits of links
    showing it}, all time."""
    found: dict[tuple[int, int], SlideAttention] = defaultdict(SlideAttention)
    read_something = ShareVisit.seconds > 0
    for chunk in _chunks(item_slides):
        assets = {a for a, _ in chunk}
        for asset_id, number, seconds, views, visits in db.session.execute(
                select(SharePageView.asset_id, SharePageView.page_number, func.sum(SharePageView.seconds),
                       func.sum(SharePageView.views), func.count(distinct(SharePageView.visit_id)))
                .where(SharePageView.asset_id.in_(assets),
                       tuple_(SharePageView.asset_id, SharePageView.page_number).in_(chunk),
                       SharePageView.seconds > 0)
                .group_by(SharePageView.asset_id, SharePageView.page_number)):
            slide = found[(asset_id, number)]
            slide.buyer_seconds, slide.buyer_views, slide.buyer_visits = int(seconds or 0), int(views or 0), int(visits)
        item_visits = dict(db.session.execute(
            select(ShareLink.asset_id, func.count(ShareVisit.id))
            .join(ShareVisit, ShareVisit.link_id == ShareLink.id)
            .where(ShareLink.kind == ShareKind.ASSET.value, ShareLink.asset_id.in_(assets), read_something)
            .group_by(ShareLink.asset_id)).tuples().all())
        for asset_id, number in chunk:
            found[(asset_id, number)].shown_visits += int(item_visits.get(asset_id, 0))
        for asset_id, number, visits in db.session.execute(
                select(Page.asset_id, Page.number, func.count(distinct(ShareVisit.id)))
                .join(DeckSlide, DeckSlide.page_id == Page.id)
                .join(ShareLink, ShareLink.deck_id == DeckSlide.deck_id)
                .join(ShareVisit, ShareVisit.link_id == ShareLink.id)
                .where(Page.asset_id.in_(assets), tuple_(Page.asset_id, Page.number).in_(chunk),
                       ShareLink.kind == ShareKind.DECK.value, read_something)
                .group_by(Page.asset_id, Page.number)):
            found[(asset_id, number)].shown_visits += int(visits)
    return dict(found)
