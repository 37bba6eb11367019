"""What a share link shows a buyer, and whether it still may.

A link shows one item's current version in the PDF viewer (its PDF, or the PDF
rendition of a deck, document or spreadsheet; the page pictures while there is
none), or one of the rep's saved decks, slide by slide as pictures (each slide a
page of some item). A retired or expired item
is never served through any link, nor a deck holding a slide of one: the buyer is
told the content was withdrawn and the rep gets one notice (visits.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from portal.models import AssetStatus, Page, Processing, ShareKind, ShareLink
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
    preparing: bool = False        # an item still being processed
    pdf_key: str | None = None     # an item's PDF for the viewer (None: the page pictures are shown)
    pdf_pages: int = 0             # pages of that PDF (a workbook's has more pages than sheets)

    @property
    def page_count(self) -> int:
        """Pages a buyer can read: beacons name pages 1..this."""
        return max(len(self.pages), self.pdf_pages)

    def page(self, number: int) -> SharedPage | None:
        return self.pages[number - 1] if 1 <= number <= len(self.pages) else None


def _withdrawn_reason(asset, today: date) -> str | None:
    if asset.status != AssetStatus.PUBLISHED:
        return "retired"
    if asset.is_expired(today):
        return "expired"
    return None


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
            return SharedContent(deck.title, [], withdrawn=reason)
        pages.append(SharedPage(slide.position, slide.page))
    return SharedContent(deck.title, pages)


WITHDRAWN_MESSAGES = {
    "retired": "The sender has withdrawn this content: it is no longer available.",
    "expired": "This content has expired and is no longer available.",
}
