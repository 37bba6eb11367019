"""Per content type (an admin setting): whether publishing needs a reviewer's
approval, and for how many days a verification holds (the review-by period)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select

from portal.errors import InvalidInput
from portal.extensions import db
from portal.models import CONTENT_TYPES, ContentTypePolicy

DEFAULT_REVIEW_DAYS = 180
DEFAULT_REVIEW_DAYS_BY_TYPE = {"price_sheet": 90}  # prices go stale first
MAX_REVIEW_DAYS = 3650


@dataclass(frozen=True)
class Policy:
    content_type: str
    requires_approval: bool
    review_days: int


def default_policy(content_type: str) -> Policy:
    return Policy(content_type, False, DEFAULT_REVIEW_DAYS_BY_TYPE.get(content_type, DEFAULT_REVIEW_DAYS))


def policy_for(content_type: str) -> Policy:
    row = db.session.get(ContentTypePolicy, content_type)
    if row is None:
        return default_policy(content_type)
    return Policy(content_type, row.requires_approval, row.review_days)


def all_policies() -> list[Policy]:
    rows = {row.content_type: row for row in db.session.scalars(select(ContentTypePolicy))}
    return [Policy(t, rows[t].requires_approval, rows[t].review_days) if t in rows else default_policy(t)
            for t in CONTENT_TYPES]


def requires_approval(content_type: str) -> bool:
    return policy_for(content_type).requires_approval


def review_by_from(content_type: str, today: date | None = None) -> date:
    """The review-by date of an item published or verified today."""
    return (today or date.today()) + timedelta(days=policy_for(content_type).review_days)


def save_policies(values: dict[str, tuple[bool, int | str]]) -> list[Policy]:
    """Set the policy of each content type given: {content_type: (requires_approval, review_days)}."""
    errors = {}
    for content_type, (approval, days) in values.items():
        if content_type not in CONTENT_TYPES:
            errors[content_type] = "Unknown content type."
            continue
        try:
            days = int(days)
        except (TypeError, ValueError):
            errors[f"{content_type}_review_days"] = "A whole number of days."
            continue
        if not 1 <= days <= MAX_REVIEW_DAYS:
            errors[f"{content_type}_review_days"] = f"Between 1 and {MAX_REVIEW_DAYS} days."
            continue
        row = db.session.get(ContentTypePolicy, content_type)
        if row is None:
            row = ContentTypePolicy(content_type=content_type)
            db.session.add(row)
        row.requires_approval, row.review_days = bool(approval), days
    if errors:
        db.session.rollback()
        raise InvalidInput("Some settings need attention.", errors)
    db.session.commit()
    return all_policies()
