"""What the portal hands to the index: plain records built from database rows."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime


@dataclass
class AssetDocument:
    asset_id: int
    title: str
    description: str
    tags: list[str]
    content_type: str
    product: str | None
    stage: str | None
    region: str | None
    persona: str | None
    owner: str  # owner's name and email
    text: str  # all extracted text of the current version
    status: str  # "published" | "retired"
    expires_on: date | None
    rating_average: float | None
    rating_count: int
    usage_count: int
    updated_at: datetime


@dataclass
class PageDocument:
    page_id: int
    asset_id: int
    number: int
    title: str
    text: str
    notes: str
    asset_title: str
    content_type: str
    product: str | None
    stage: str | None
    region: str | None
    persona: str | None
    tags: list[str] = field(default_factory=list)
    status: str = "published"
    expires_on: date | None = None
    rating_average: float | None = None
    usage_count: int = 0
    updated_at: datetime = field(default_factory=datetime.now)
