"""What a search returns: one SearchResults shape for both tabs, with the hit
type of each (AssetHit, PageHit), and the index's report against the database."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Generic, TypeVar

Hit = TypeVar("Hit")


@dataclass
class AssetHit:
    asset_id: int
    score: float

    @classmethod
    def from_stored(cls, stored: dict, score: float) -> AssetHit:
        return cls(int(stored["asset_id"]), round(score, 4))


@dataclass
class PageHit:
    page_id: int  # the copy shown: the newest published one of its lineage group that matched
    asset_id: int
    score: float  # the group's: its best-ranked copy's
    others: list[int] = field(default_factory=list)  # page ids of the group's other matching copies

    @classmethod
    def from_stored(cls, stored: dict, score: float, others: list[int] | None = None) -> PageHit:
        return cls(int(stored["page_id"]), int(stored["asset_id"]), round(score, 4), others or [])


@dataclass
class SearchResults(Generic[Hit]):
    hits: list[Hit]  # this page of results, best first
    total: int  # every match, not just this page (slides: every lineage group)
    facets: dict[str, dict[str, int]]  # facet -> value -> count over every match
    suggestion: str | None  # "did you mean", when results are few
    terms: list[str]  # stemmed words and prefixes ("pric*") to highlight


@dataclass
class CheckReport:
    missing: list[int] = field(default_factory=list)
    stale: list[int] = field(default_factory=list)
    extra: list[int] = field(default_factory=list)
