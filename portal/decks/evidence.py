"""Slide-level evidence for the per-asset analytics page: for each slide of the
current version (and for its group of copies across decks, lineage.py), how
often it went into downloaded decks, and the outcomes of the opportunities it
was used for, with a Wilson interval on the win rate and a plain warning when
the sample is small.

"Used for an opportunity": a rep downloaded a deck holding the slide and
reported a use of the slide's item (with an opportunity and its outcome) on or
after that day; each opportunity (account and opportunity name, per rep) counts
once per slide.

Attention (slide_attention.py): reps' reading time in the viewer and buyers' time on
share links, per slide and summed over the copies of its group."""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import func, select, tuple_

from portal.decks.slide_attention import SlideAttention, buyer_attention, viewer_attention
from portal.extensions import db
from portal.models import Asset, Page, ReportedUse, UsageEvent, UsageKind

SMALL_SAMPLE = 10   # fewer decided (won or lost) opportunities than this: say the rate says little
MAX_SLIDES = 1000  # a deck's most; every query below is grouped and chunked
Z = 1.96            # 95%


def wilson(won: int, decided: int) -> tuple[float, float] | None:
    """The 95% Wilson score interval of a win rate; None with no decided opportunity."""
    if decided <= 0:
        return None
    p = won / decided
    denominator = 1 + Z * Z / decided
    centre = (p + Z * Z / (2 * decided)) / denominator
    half = Z * math.sqrt(p * (1 - p) / decided + Z * Z / (4 * decided * decided)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass
class Outcomes:
    won: int = 0
    lost: int = 0
    open: int = 0

    @property
    def decided(self) -> int:
        return self.won + self.lost

    @property
    def rate(self) -> float | None:
        return self.won / self.decided if self.decided else None

    @property
    def interval(self) -> tuple[float, float] | None:
        return wilson(self.won, self.decided)

    @property
    def small_sample(self) -> bool:
        return self.decided < SMALL_SAMPLE

    @property
    def warning(self) -> str:
        if self.decided == 0:
            return "No won or lost deal yet: nothing to say about this slide's win rate."
        if self.small_sample:
            return (f"Only {self.decided} won or lost {'deal' if self.decided == 1 else 'deals'}: "
                    "too few to tell whether this slide helps; read the interval, not the rate.")
        return ""


@dataclass
class SlideEvidence:
    page: Page
    inclusions: int
    group_inclusions: int
    copies: int  # other decks holding a copy of this slide
    slide: Outcomes = field(default_factory=Outcomes)
    group: Outcomes = field(default_factory=Outcomes)
    attention: SlideAttention = field(default_factory=SlideAttention)
    group_attention: SlideAttention = field(default_factory=SlideAttention)


def _counts(pairs: set[tuple[int, int]], asset_of: dict[tuple[int, int], int]) -> tuple[dict, dict]:
    """Per (version, slide number): deck inclusions, and per (version, number) the first day each
    user included it."""
    inclusions: dict[tuple[int, int], int] = defaultdict(int)
    first_use: dict[tuple[int, int], dict[int, object]] = defaultdict(dict)
    pair_list = sorted(pairs)
    for start in range(0, len(pair_list), 500):
        chunk = pair_list[start:start + 500]
        for version_id, number, user_id, n, first in db.session.execute(
                select(UsageEvent.version_id, UsageEvent.page_number, UsageEvent.user_id, func.count(),
                       func.min(UsageEvent.occurred_at))
                .where(UsageEvent.kind == UsageKind.DECK_INCLUSION.value,
                       UsageEvent.asset_id.in_({asset_of[p] for p in chunk}),
                       tuple_(UsageEvent.version_id, UsageEvent.page_number).in_(chunk))
                .group_by(UsageEvent.version_id, UsageEvent.page_number, UsageEvent.user_id)):
            inclusions[(version_id, number)] += n
            if user_id is not None:
                first_use[(version_id, number)][user_id] = first
    return inclusions, first_use


def _outcomes(keys: list[tuple[int, int]], first_use: dict, asset_of: dict, uses_by: dict) -> Outcomes:
    seen: dict[tuple, str] = {}
    for key in keys:
        for user_id, first in first_use.get(key, {}).items():
            for use in uses_by.get((asset_of[key], user_id), []):
                if use.outcome and use.occurred_on >= first.date():
                    seen[(user_id, use.account.strip().lower(), use.opportunity.strip().lower() or use.id)] = \
                        use.outcome
    result = Outcomes()
    for outcome in seen.values():
        if outcome in ("won", "lost", "open"):
            setattr(result, outcome, getattr(result, outcome) + 1)
    return result


def slide_evidence(asset: Asset) -> list[SlideEvidence]:
    version = asset.current_version
    if version is None or version.kind != "pptx":
        return []
    pages = version.pages[:MAX_SLIDES]
    groups = {p.group_id for p in pages if p.group_id is not None}
    members: dict[int, list[Page]] = defaultdict(list)
    if groups:
        for member in db.session.scalars(select(Page).where(Page.group_id.in_(groups))):
            members[member.group_id].append(member)
    keys_of = {p.id: [(m.version_id, m.number) for m in (members[p.group_id] if p.group_id else [p])] for p in pages}
    asset_of = {(m.version_id, m.number): m.asset_id for ms in members.values() for m in ms}
    asset_of.update({(p.version_id, p.number): p.asset_id for p in pages})
    pairs = set(asset_of)
    inclusions, first_use = _counts(pairs, asset_of)
    users = {u for uses in first_use.values() for u in uses}
    uses_by: dict[tuple[int, int], list[ReportedUse]] = defaultdict(list)
    if users:
        for use in db.session.scalars(select(ReportedUse).where(
                ReportedUse.asset_id.in_(set(asset_of.values())), ReportedUse.user_id.in_(users),
                ReportedUse.outcome.is_not(None))):
            uses_by[(use.asset_id, use.user_id)].append(use)
    viewer = viewer_attention(pairs)
    buyers = buyer_attention({(asset_of[key], key[1]) for key in pairs})
    found = []
    for page in pages:
        own = (page.version_id, page.number)
        group_keys = keys_of[page.id]
        copies = len({m.asset_id for m in members.get(page.group_id, []) if m.asset_id != page.asset_id})
        found.append(SlideEvidence(
            page=page, inclusions=inclusions.get(own, 0),
            group_inclusions=sum(inclusions.get(k, 0) for k in set(group_keys)), copies=copies,
            slide=_outcomes([own], first_use, asset_of, uses_by),
            group=_outcomes(sorted(set(group_keys)), first_use, asset_of, uses_by),
            attention=_attention([own], [(page.asset_id, page.number)], viewer, buyers),
            group_attention=_attention(set(group_keys), {(asset_of[k], k[1]) for k in group_keys}, viewer, buyers)))
    return found


def _attention(version_keys, item_keys, viewer: dict, buyers: dict) -> SlideAttention:
    """The viewer's figures are keyed by version and the buyers' by item: each source
    fills only its own fields, so adding both gives the slide's (or group's) whole."""
    total = SlideAttention()
    for key in version_keys:
        total += viewer.get(key, SlideAttention())
    for key in item_keys:
        total += buyers.get(key, SlideAttention())
    return total


def _percent(value: float | None) -> str:
    return "" if value is None else f"{value:.0%}"


ATTENTION_COLUMNS = ["reader_seconds", "readers", "buyer_seconds", "buyer_views", "buyer_visits",
                     "buyer_average_seconds", "buyer_visits_shown", "buyer_visits_skipped"]


def _attention_cells(seen: SlideAttention) -> list:
    average = seen.buyer_average
    return [round(seen.reader_seconds, 1), seen.readers, seen.buyer_seconds, seen.buyer_views, seen.buyer_visits,
            "" if average is None else round(average, 1), seen.counted_visits, seen.skipped]


def evidence_table(rows: list[SlideEvidence]) -> tuple[list[str], list[list]]:
    header = ["slide", "title", "deck_inclusions", "group_deck_inclusions", "other_decks", "won", "lost", "open",
              "win_rate", "win_rate_low_95", "win_rate_high_95", "group_won", "group_lost", "group_open",
              "group_win_rate", "group_low_95", "group_high_95", "note", *ATTENTION_COLUMNS,
              *(f"group_{name}" for name in ATTENTION_COLUMNS)]
    body = []
    for r in rows:
        low, high = r.slide.interval or (None, None)
        group_low, group_high = r.group.interval or (None, None)
        body.append([r.page.number, r.page.title, r.inclusions, r.group_inclusions, r.copies,
                     r.slide.won, r.slide.lost, r.slide.open, _percent(r.slide.rate), _percent(low), _percent(high),
                     r.group.won, r.group.lost, r.group.open, _percent(r.group.rate), _percent(group_low),
                     _percent(group_high), r.slide.warning, *_attention_cells(r.attention),
                     *_attention_cells(r.group_attention)])
    return header, body


def chart_data(rows: list[SlideEvidence]) -> dict:
    return {"labels": [f"{r.page.number}. {r.page.title or 'Slide'}"[:40] for r in rows],
            "won": [r.slide.won for r in rows], "lost": [r.slide.lost for r in rows],
            "open": [r.slide.open for r in rows], "inclusions": [r.inclusions for r in rows],
            "buyer_average_seconds": [round(r.attention.buyer_average or 0, 1) for r in rows],
            "skipped": [r.attention.skipped for r in rows]}
