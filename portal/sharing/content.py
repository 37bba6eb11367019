"""What a share link shows a buyer, and whether it still may.

A link shows one item's current version in the PDF viewer (its PDF, or the PDF
rendition of a deck, document or spreadsheet; the page pictures while there is
none), or one of the rep's saved decks: the PDF of its current build in the same
viewer (portal/decks/renditions.py), its slides as pictures while that is being
made or if it could not be (each slide a page of some item). A retired or expired item
is never served through any link, nor a deck holding a slide of one: the buyer is
told the content was withdrawn and the rep gets one notice (visits.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from portal.decks import renditions
from portal.extensions import db
from portal.models import (
    Asset,
    AssetStatus,
    AssetVersion,
    DeckSlide,
    Page,
    Processing,
    ShareKind,
    ShareLink,
)
from portal.viewer.previews import preview_key, viewer_pages


@dataclass(frozen=True)
class SharedPage:
    number: int  # 1.. in the shared document
    page: Page   # the library page it shows


@dataclass
class SharedContent:
    title: str
    pages: list[SharedPage]
    withdrawn: str | None = None  # why it is no longer served
    preparing: bool = False        # an item still being processed; a deck's PDF still being made
    pdf_key: str | None = None     # an item's PDF for the viewer (None: the page pictures are shown)
    pdf_pages: int = 0             # pages of that PDF (a workbook's has more pages than sheets)

    @property
    def page_count(self) -> int:
        """Pages a buyer can read: beacons name pages 1..this."""
        return max(len(self.pages), self.pdf_pages)

    def page(self, number: int) -> SharedPage | None:
        return self.pages[number - 1] if 1 <= number <= len(self.pages) else None


def _withdrawn_status(status: str, expires_on: date | None, today: date) -> str | None:
    if status != AssetStatus.PUBLISHED:
        return "retired"
    if expires_on is not None and expires_on < today:
        return "expired"
    return None


def _withdrawn_reason(asset, today: date) -> str | None:
    return _withdrawn_status(asset.status, asset.expires_on, today)


def withdrawn(link: ShareLink, today: date | None = None) -> str | None:
    """Why what the link shows may no longer be served (retired, expired), or None."""
    today = today or date.today()
    if link.kind == ShareKind.ASSET:
        return _withdrawn_reason(link.asset, today)
    for slide in link.deck.slides:
        reason = _withdrawn_reason(slide.page.asset, today)
        if reason:
            return reason
    return None


def content_of(link: ShareLink, today: date | None = None) -> SharedContent:
    today = today or date.today()
    if link.kind == ShareKind.ASSET:
        asset = link.asset
        reason = _withdrawn_reason(asset, today)
        version = asset.current_version
        if reason:
            return SharedContent(asset.title, [], withdrawn=reason)
        if version is None or version.processing != Processing.READY:
            return SharedContent(asset.title, [], preparing=version is not None
                                 and version.processing == Processing.PENDING)
        return SharedContent(asset.title, [SharedPage(p.number, p) for p in version.pages],
                             pdf_key=preview_key(version), pdf_pages=viewer_pages(version))
    deck = link.deck
    pages = []
    for slide in deck.slides:
        reason = _withdrawn_reason(slide.page.asset, today)
        if reason:
            return SharedContent(link.title, [], withdrawn=reason)
        pages.append(SharedPage(slide.position, slide.page))
    return _deck_content(deck.title or link.title, pages, renditions.current(deck.owner, deck))


def _deck_content(title: str, pages: list[SharedPage], rendition: renditions.Rendition) -> SharedContent:
    """A deck in the viewer once the PDF of its current build is made; its slide pictures
    meanwhile (`preparing`: the page says so and checks again), or when it could not be made."""
    if rendition.ready:
        return SharedContent(title, pages, pdf_key=rendition.pdf_key, pdf_pages=rendition.pages)
    return SharedContent(title, pages, preparing=rendition.state == renditions.PENDING)


def prepare_deck(link: ShareLink) -> None:
    """Have a deck link's current build and its PDF made (the queue does it), as a download would."""
    if link.kind == ShareKind.DECK and link.deck.slides:
        renditions.prepare(link.deck.owner, link.deck)


@dataclass
class BeaconTarget:
    """What a beacon is checked against, read in one query (no page rows): how many
    pages a buyer can read, whether the content was withdrawn, and which item's
    page each page of the shared document is (for analytics)."""

    page_count: int
    withdrawn: str | None
    library_pages: dict[int, tuple[int, int]]  # number -> (asset id, page number); empty: an item, 1:1
    asset_id: int | None = None

    def library_page(self, number: int) -> tuple[int | None, int]:
        return self.library_pages.get(number) or (self.asset_id, number)


def beacon_target(link: ShareLink, today: date | None = None) -> BeaconTarget:
    today = today or date.today()
    if link.kind == ShareKind.ASSET:
        row = db.session.execute(
            select(Asset.status, Asset.expires_on, AssetVersion.kind, AssetVersion.processing,
                   AssetVersion.page_count, AssetVersion.preview_pages)
            .join(AssetVersion, AssetVersion.id == Asset.current_version_id, isouter=True)
            .where(Asset.id == link.asset_id)).one()
        reason = _withdrawn_status(row.status, row.expires_on, today)
        pages = 0
        if row.processing == Processing.READY:
            pages = max(row.page_count or 0, (row.preview_pages or 0) if row.kind != "pdf" else 0)
        return BeaconTarget(pages, reason, {}, link.asset_id)
    rows = db.session.execute(
        select(DeckSlide.position, Page.asset_id, Page.number, Asset.status, Asset.expires_on)
        .join(Page, Page.id == DeckSlide.page_id).join(Asset, Asset.id == Page.asset_id)
        .where(DeckSlide.deck_id == link.deck_id)).all()
    reason = next((r for r in (_withdrawn_status(row.status, row.expires_on, today) for row in rows) if r), None)
    return BeaconTarget(len(rows), reason, {row.position: (row.asset_id, row.number) for row in rows})


WITHDRAWN_MESSAGES = {
    "retired": "The sender has withdrawn this content: it is no longer available.",
    "expired": "This content has expired and is no longer available.",
}
