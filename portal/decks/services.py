"""Use cases of meeting decks: the tray (the deck being built), saved decks,
stale and retired slides, and whether a deck may be downloaded (the .pptx is
assembled off the request: building.py). Plain arguments in; no request or
session."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sqlalchemy import func, select
from werkzeug.exceptions import NotFound

from assets.slide_fit import CHOICES, size_label
from portal.errors import InvalidInput
from portal.extensions import db
from portal.ids import whole_number
from portal.models import (
    Asset,
    AssetVersion,
    Deck,
    DeckSlide,
    Page,
    UsageEvent,
    UsageKind,
    User,
    utcnow,
)
from portal.storage import get_storage

MIN_SLIDE_EMU, MAX_SLIDE_EMU = 914400, 51206400  # 1 to 56 inches, PowerPoint's limits

MAX_SLIDES = 300
TITLE_LIMIT = 300
PPTX_MIME = "application/vnd.openxmlformats-officedocument.presentationml.presentation"


# --- input ---------------------------------------------------------------------

def parse_title(raw: object, *, required: bool) -> str:
    if raw is not None and not isinstance(raw, str):
        raise InvalidInput("Some fields need attention.", {"title": "The title must be text."})
    title = (raw or "").strip()
    if required and not title:
        raise InvalidInput("Some fields need attention.", {"title": "Give the deck a name."})
    if len(title) > TITLE_LIMIT:
        raise InvalidInput("Some fields need attention.", {"title": f"At most {TITLE_LIMIT} characters."})
    return title


def parse_page_ids(raw: object) -> list[int]:
    """A list of slide (page) ids, from JSON numbers or form strings."""
    if raw is None:
        return []
    if not isinstance(raw, list | tuple):
        raise InvalidInput("Some fields need attention.", {"page_ids": "Send page_ids as a list of slide ids."})
    ids: list[int] = []
    bad: list[str] = []
    for item in raw:
        try:
            ids.append(whole_number(item))
        except ValueError:
            bad.append(repr(item) if not isinstance(item, bool | int) else str(item))
    if bad:
        raise InvalidInput("Some fields need attention.",
                           {"page_ids": f"Slide ids are whole numbers; these are not: {', '.join(bad[:10])}."})
    if len(ids) > MAX_SLIDES:
        raise InvalidInput("Some fields need attention.",
                           {"page_ids": f"A deck holds at most {MAX_SLIDES} slides; this one has {len(ids)}."})
    return ids


def parse_size(raw: object) -> tuple[int, int] | None:
    """A deck's chosen slide size: None or "" (the first slide's), "16:9", "4:3",
    "WIDTHxHEIGHT" in EMU (a source deck's size, from the editor's list), or
    {"width_emu", "height_emu"}; 422 with the reason otherwise."""
    if raw is None or raw == "" or raw == "first":
        return None
    if isinstance(raw, str) and raw in CHOICES:
        return CHOICES[raw]
    width = height = None
    if isinstance(raw, str) and "x" in raw:
        width, _, height = raw.partition("x")
    elif isinstance(raw, Mapping):
        width, height = raw.get("width_emu"), raw.get("height_emu")
    try:
        size = (whole_number(width), whole_number(height))
    except (ValueError, TypeError):
        size = None
    if size is None or not all(MIN_SLIDE_EMU <= v <= MAX_SLIDE_EMU for v in size):
        raise InvalidInput("Some fields need attention.", {
            "size": "Choose the slide size: null (the first slide's), \"16:9\", \"4:3\", or "
                    f"{{\"width_emu\", \"height_emu\"}} between {MIN_SLIDE_EMU} and {MAX_SLIDE_EMU} EMU (1 to 56 inches)."})
    return size


KEEP_SIZE = object()


def parse_deck(data: Mapping[str, object]) -> tuple[str, list[int]]:
    """The API's body: {"title", "page_ids"}; the title is required."""
    errors: dict[str, str] = {}
    title = page_ids = None
    try:
        title = parse_title(data.get("title"), required=True)
    except InvalidInput as error:
        errors.update(error.fields)
    try:
        page_ids = parse_page_ids(data.get("page_ids"))
    except InvalidInput as error:
        errors.update(error.fields)
    if errors:
        raise InvalidInput("Some fields need attention: " + " ".join(errors.values()), errors)
    return title, page_ids


def _pages_for(user: User, page_ids: list[int], already_in_deck: Iterable[int] = ()) -> list[Page]:
    """The pages, in order, if every one may go into a deck; 422 naming those that may not.

    Reps take slides of the current version of items they may see; staff may take
    slides of older versions too. Slides already in the deck stay allowed even if
    their item has since been retired or got a new version, so a rep can still
    reorder or trim such a deck (and refresh a stale slide)."""
    if not page_ids:
        return []
    found = {p.id: p for p in db.session.scalars(select(Page).where(Page.id.in_(set(page_ids))))}
    kept = set(already_in_deck)
    unknown = [i for i in dict.fromkeys(page_ids) if i not in found]
    new_for_rep = [i for i in dict.fromkeys(page_ids) if i in found and i not in kept and not user.is_staff]
    hidden = [i for i in new_for_rep if found[i].asset.is_hidden_from_reps()]
    superseded = [i for i in new_for_rep
                  if i not in hidden and found[i].version_id != found[i].asset.current_version_id]
    not_slides = [i for i in dict.fromkeys(page_ids) if i in found and found[i].version.kind != "pptx"]
    problems = []
    if unknown or hidden:
        problems.append("No such slides (or no longer available): "
                        + ", ".join(str(i) for i in [*unknown, *hidden]) + ".")
    if superseded:
        problems.append("These slides come from an older version of their item; take them from the current "
                        "version instead: "
                        + "; ".join(f"{found[i].asset.title}, version {found[i].version.number}, slide "
                                    f"{found[i].number} (id {i})" for i in superseded)
                        + ".")
    if not_slides:
        problems.append("Only slides of PowerPoint decks can go into a deck; these are pages of other files: "
                        + "; ".join(f"{found[i].asset.title}, page {found[i].number} (id {i})" for i in not_slides)
                        + ".")
    if problems:
        raise InvalidInput(" ".join(problems), {"page_ids": " ".join(problems)})
    return [found[i] for i in page_ids]


# --- decks -----------------------------------------------------------------------

def get_deck_for(user: User, deck_id: int) -> Deck:
    """The deck if this user owns it; otherwise 404 (decks are private)."""
    deck = db.session.get(Deck, deck_id)
    if deck is None or deck.owner_id != user.id:
        raise NotFound()
    return deck


def list_decks(user: User, *, include_tray: bool = True, page: int = 1, per_page: int = 100) -> tuple[list[Deck], int]:
    query = select(Deck).where(Deck.owner_id == user.id)
    if not include_tray:
        query = query.where(Deck.title != "")
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    items = list(db.session.scalars(
        query.order_by(Deck.updated_at.desc(), Deck.id.desc()).offset((page - 1) * per_page).limit(per_page)
    ))
    return items, total


def _set_slides(deck: Deck, pages: list[Page]) -> None:
    # Replace rows rather than renumber in place: positions are rewritten as 1..n.
    deck.slides.clear()
    db.session.flush()
    deck.slides.extend(DeckSlide(position=n, page_id=p.id) for n, p in enumerate(pages, start=1))


def set_size(deck: Deck, size: tuple[int, int] | None) -> None:
    deck.size_width_emu, deck.size_height_emu = size if size else (None, None)


def create_deck(user: User, title: str, page_ids: list[int], size: tuple[int, int] | None = None) -> Deck:
    pages = _pages_for(user, page_ids)
    deck = Deck(owner_id=user.id, title=title)
    set_size(deck, size)
    db.session.add(deck)
    _set_slides(deck, pages)
    db.session.commit()
    return deck


def update_deck(user: User, deck: Deck, title: str, page_ids: list[int], size: object = KEEP_SIZE) -> Deck:
    """Replace title and slides; the chosen size too when one is given (None: the first slide's)."""
    pages = _pages_for(user, page_ids, already_in_deck=[s.page_id for s in deck.slides])
    if size is not KEEP_SIZE:
        set_size(deck, size)
    deck.title = title
    _set_slides(deck, pages)
    deck.updated_at = utcnow()
    db.session.commit()
    return deck


def delete_deck(deck: Deck) -> None:
    keys = [key for b in deck.builds for key in (b.storage_key, b.pdf_key) if key]
    db.session.delete(deck)
    db.session.commit()
    for key in keys:  # the assembled files and their PDFs (building.py, renditions.py) go with the deck
        get_storage().delete(key)


def duplicate_deck(user: User, deck: Deck) -> Deck:
    title = f"Copy of {deck.title}" if deck.title else "Copy of untitled deck"
    copy = Deck(owner_id=user.id, title=title[:TITLE_LIMIT], size_width_emu=deck.size_width_emu,
                size_height_emu=deck.size_height_emu)
    db.session.add(copy)
    copy.slides.extend(DeckSlide(position=s.position, page_id=s.page_id) for s in deck.slides)
    db.session.commit()
    return copy


# --- the tray: the deck being built -------------------------------------------------

def tray_for(user: User) -> Deck | None:
    """The user's draft: their most recently updated deck without a name."""
    return db.session.scalars(
        select(Deck).where(Deck.owner_id == user.id, Deck.title == "")
        .order_by(Deck.updated_at.desc(), Deck.id.desc()).limit(1)
    ).first()


def tray_count(user: User) -> int:
    tray = tray_for(user)
    return len(tray.slides) if tray else 0


def add_to_tray(user: User, page_id: int) -> Deck:
    """Add a slide to the deck in progress (again, if it is already there: the caller
    asks first with `positions_in_tray` when it should say so)."""
    page = _pages_for(user, [page_id])[0]
    tray = tray_for(user)
    if tray is None:
        tray = Deck(owner_id=user.id, title="")
        db.session.add(tray)
    if len(tray.slides) >= MAX_SLIDES:
        raise InvalidInput(f"A deck holds at most {MAX_SLIDES} slides; this one is full.",
                           {"page_id": "The deck is full."})
    tray.slides.append(DeckSlide(position=len(tray.slides) + 1, page_id=page.id))
    tray.updated_at = utcnow()
    db.session.commit()
    return tray


def positions_in_tray(user: User, page_id: int) -> list[int]:
    """Where this slide (or another copy of it: the same slide of the same file) already sits."""
    tray = tray_for(user)
    if tray is None:
        return []
    return [s.position for s in tray.slides if s.page_id == page_id]


def nav_badges(user: User) -> dict[str, int]:
    return {"deck_tray": tray_count(user)}


# --- stale and retired slides ------------------------------------------------------

@dataclass
class SlideState:
    slide: DeckSlide
    page: Page
    asset: Asset
    stale: bool  # the item has a newer version than the one this slide came from
    retired: bool  # the item is retired or expired: reps cannot download it

    @property
    def label(self) -> str:
        return f"slide {self.slide.position} ({self.asset.title}, slide {self.page.number})"


def slide_states(deck: Deck) -> list[SlideState]:
    states = []
    for slide in deck.slides:
        page = slide.page
        asset = page.asset
        states.append(SlideState(slide, page, asset, stale=asset.current_version_id != page.version_id,
                                 retired=asset.is_hidden_from_reps()))
    return states


def _matching_page(page: Page, version: AssetVersion) -> Page | None:
    """The current version's page for an old one: the same number, or the same
    title if the slides were moved."""
    by_number = {p.number: p for p in version.pages}
    same_number = by_number.get(page.number)
    title = page.title.strip()
    if not title or (same_number is not None and same_number.title.strip() == title):
        return same_number
    same_title = [p for p in version.pages if p.title.strip() == title]
    if same_title:
        return min(same_title, key=lambda p: abs(p.number - page.number))
    return same_number


def refresh_slide(user: User, deck: Deck, position: int) -> tuple[Page, Page]:
    """Swap a stale slide for its counterpart in the current version; returns (old, new)."""
    slide = next((s for s in deck.slides if s.position == position), None)
    if slide is None:
        raise NotFound()
    old = slide.page
    asset = old.asset
    if not user.is_staff and asset.is_hidden_from_reps():
        raise InvalidInput(f"“{asset.title}” has been retired; remove this slide from the deck.")
    current = asset.current_version
    if current is None or current.id == old.version_id:
        raise InvalidInput("This slide already comes from the current version.")
    if current.kind != "pptx":
        raise InvalidInput(f"The current version of “{asset.title}” is not a PowerPoint deck; "
                           "keep this slide or remove it.")
    new = _matching_page(old, current)
    if new is None:
        raise InvalidInput(f"The current version of “{asset.title}” has no slide matching slide {old.number}; "
                           "keep this slide or remove it.")
    slide.page_id = new.id
    slide.page = new
    deck.updated_at = utcnow()
    db.session.commit()
    return old, new


# --- download ------------------------------------------------------------------------

def download_name(deck: Deck) -> str:
    stem = re.sub(r"[^\w .()&+-]+", "", deck.title or "").strip(" .")
    stem = re.sub(r"\s+", " ", stem)[:120] or "deck"
    return f"{stem}.pptx"


def downloadable_states(user: User, deck: Deck) -> list[SlideState]:
    """The deck's slides if it can be downloaded by this user; otherwise 422 with the reason
    (no slides; for reps, slides of retired or expired items; pages that are not slides)."""
    states = slide_states(deck)
    if not states:
        raise InvalidInput("This deck has no slides yet; add some before downloading it.")
    if not user.is_staff:
        retired = [s for s in states if s.retired]
        if retired:
            raise InvalidInput(
                "These slides come from retired or expired items and cannot be downloaded: "
                + "; ".join(s.label for s in retired) + ". Remove them and try again.",
                {"slides": ", ".join(str(s.slide.position) for s in retired)},
            )
    not_slides = [s for s in states if s.page.version.kind != "pptx"]
    if not_slides:
        raise InvalidInput("These are not slides of a PowerPoint deck: " + "; ".join(s.label for s in not_slides) + ".")
    return states


def record_download(user: User, deck: Deck, states: list[SlideState]) -> None:
    """One deck-inclusion usage event per slide of a downloaded deck."""
    db.session.add_all(
        UsageEvent(asset_id=s.asset.id, version_id=s.page.version_id, user_id=user.id,
                   kind=UsageKind.DECK_INCLUSION.value, page_number=s.page.number, deck_id=deck.id)
        for s in states
    )
    db.session.commit()


# --- slide sizes: the deck's, and slides of another size that will be fitted ----------------

@dataclass
class DeckSize:
    width_emu: int | None
    height_emu: int | None
    chosen: bool  # chosen by the rep (else the first slide's)

    @property
    def label(self) -> str:
        if self.width_emu is None or self.height_emu is None:
            return "the first slide's size"
        return size_label(self.width_emu, self.height_emu)

    def as_json(self) -> dict:
        return {"width_emu": self.width_emu, "height_emu": self.height_emu, "label": self.label,
                "chosen": self.chosen}


def _version_size(version: AssetVersion) -> tuple[int, int] | None:
    if version.slide_width_emu and version.slide_height_emu:
        return version.slide_width_emu, version.slide_height_emu
    return None


def deck_size(deck: Deck, states: list[SlideState] | None = None) -> DeckSize:
    if deck.size_width_emu and deck.size_height_emu:
        return DeckSize(deck.size_width_emu, deck.size_height_emu, True)
    states = slide_states(deck) if states is None else states
    first = _version_size(states[0].page.version) if states else None
    return DeckSize(first[0] if first else None, first[1] if first else None, False)


def size_warnings(deck: Deck, states: list[SlideState] | None = None) -> list[str]:
    """One sentence per source deck whose slides have another size than the deck's."""
    states = slide_states(deck) if states is None else states
    size = deck_size(deck, states)
    if size.width_emu is None:
        return []
    target = (size.width_emu, size.height_emu)
    by_version: dict[int, list[SlideState]] = {}
    for state in states:
        own = _version_size(state.page.version)
        if own is not None and (abs(own[0] - target[0]) > 2 or abs(own[1] - target[1]) > 2):
            by_version.setdefault(state.page.version_id, []).append(state)
    warnings = []
    for group in by_version.values():
        own = _version_size(group[0].page.version)
        scale = min(target[0] / own[0], target[1] / own[1])
        positions = ", ".join(str(s.slide.position) for s in group)
        noun = "Slide" if len(group) == 1 else "Slides"
        warnings.append(f"{noun} {positions} (“{group[0].asset.title}”) {'is' if len(group) == 1 else 'are'} "
                        f"{size_label(*own)}; {'it' if len(group) == 1 else 'they'} will be fitted to "
                        f"{size.label}: scaled to {scale:.0%}, centred, nothing cut off.")
    return warnings


def size_choices(deck: Deck, states: list[SlideState] | None = None) -> list[tuple[str, str]]:
    """(value, label) for the editor's size list: the first slide's, 16:9, 4:3 and the sizes of the decks used."""
    states = slide_states(deck) if states is None else states
    choices = [("", "From the first slide"), ("16:9", "16:9"), ("4:3", "4:3")]
    seen = set(CHOICES.values())
    for state in states:
        own = _version_size(state.page.version)
        if own is not None and own not in seen:
            seen.add(own)
            choices.append((f"{own[0]}x{own[1]}", f"{size_label(*own)}, like “{state.asset.title}”"))
    if deck.size_width_emu and (deck.size_width_emu, deck.size_height_emu) not in seen:
        own = (deck.size_width_emu, deck.size_height_emu)
        choices.append((f"{own[0]}x{own[1]}", size_label(*own)))
    return choices


def size_value(deck: Deck) -> str:
    """The editor's selected value for the deck's chosen size."""
    if not deck.size_width_emu:
        return ""
    own = (deck.size_width_emu, deck.size_height_emu)
    return next((name for name, value in CHOICES.items() if value == own), f"{own[0]}x{own[1]}")
