"""What the portal hands to the index (plain records built from database rows)
and the Whoosh fields each record becomes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from search.schema import NEVER, SINGLE_FACETS

TEXT_LIMIT = 2_000_000
MLT_SAMPLE = 4_000


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
    group_id: int | None = None  # its lineage group (None: not grouped, a group of its own)
    version_created: datetime | None = None  # when its deck's version was added (None: updated_at)


def stamp(value: datetime) -> int:
    """Milliseconds since the epoch (naive datetimes are UTC)."""
    return int(value.timestamp() * 1000) if value.tzinfo else int(
        (value - datetime(1970, 1, 1)).total_seconds() * 1000)


def _common_fields(doc: AssetDocument | PageDocument) -> dict:
    # Every document gets every facet column ("" when unset): Whoosh's column
    # readers misalign across segments where a column has gaps.
    fields = {name: getattr(doc, name) or "" for name in SINGLE_FACETS}
    return {
        **fields,
        "tags": ",".join(t.lower().replace(",", " ") for t in doc.tags),
        "status": doc.status,
        "expires": doc.expires_on.toordinal() if doc.expires_on else NEVER,
        "rating": int(round((doc.rating_average or 0.0) * 100)),
        "usage": int(doc.usage_count or 0),
        "updated": stamp(doc.updated_at),
    }


def asset_fields(doc: AssetDocument) -> dict:
    text = doc.text[:TEXT_LIMIT]
    body = "\n".join([doc.description or "", " ".join(doc.tags), doc.owner or "", text])
    return {
        "asset_id": str(doc.asset_id),
        "asset_key": doc.asset_id,
        "title": doc.title,
        "body": body,
        "stamp": stamp(doc.updated_at),
        "mlt": " ".join([doc.title, doc.description or "", " ".join(doc.tags), text[:MLT_SAMPLE]]),
        **_common_fields(doc),
    }


def page_fields(doc: PageDocument) -> dict:
    body = "\n".join([(doc.text or "")[:TEXT_LIMIT], doc.notes or "", doc.asset_title or ""])
    return {
        "page_id": str(doc.page_id),
        "asset_id": str(doc.asset_id),
        "page_key": doc.page_id,
        "asset_key": doc.asset_id,
        "number": doc.number,
        "title": doc.title or "",
        "body": body,
        "group": doc.group_id or doc.page_id,
        "version_created": stamp(doc.version_created or doc.updated_at),
        **_common_fields(doc),
    }
