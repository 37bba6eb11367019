"""Retirement that argues its case: candidates with their reasons, retiring many
at once, and the expiry job (retire what expired, warn owners before).

Reads the all-time usage totals (the rollups plus the uses recorded since,
portal/analytics/live.py), never all raw events, and only the columns of the
published items it needs (not whole Asset objects: at 2,000 items loading them,
with owners and versions, was most of the time)."""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from portal.analytics.live import usage_totals
from portal.config import Settings
from portal.errors import InvalidInput
from portal.extensions import db
from portal.ids import whole_number
from portal.library.services import retire_assets
from portal.models import (
    Asset,
    AssetVersion,
    Rating,
    RetirementEvent,
    UsageKind,
    User,
    utcnow,
)
from portal.notifications.services import email, notify
from portal.wording import plural

log = logging.getLogger(__name__)

DEFAULT_UNUSED_DAYS = 90
LOW_RATING = 2.5  # an average at or under this is low
LOW_USE = 5  # at most this many uses, ever, is low
REASON_CODES = ("unused", "expired", "low_rated_low_use", "superseded", "duplicate", "unverified")
REASON_LABELS = {"unused": "Unused", "expired": "Expired", "low_rated_low_use": "Low rated, little used",
                 "superseded": "Superseded", "duplicate": "Duplicate", "unverified": "Not verified"}


@dataclass
class Reason:
    code: str
    text: str
    other_asset_id: int | None = None  # the newer item or the duplicate kept


@dataclass(frozen=True)
class CandidateOwner:
    email: str
    name: str

    @property
    def display_name(self) -> str:
        return self.name or self.email


@dataclass(frozen=True)
class CandidateAsset:
    """What the candidates list shows and reasons with, of one published item."""

    id: int
    title: str
    created_at: datetime
    expires_on: date | None
    sha256: str | None  # of the current file
    owner: CandidateOwner | None
    review_by: date | None = None  # verify by then (portal/governance/verification.py)
    last_verified_on: date | None = None  # verified, else published, else created


@dataclass
class Candidate:
    asset: CandidateAsset
    age_days: int
    last_used_on: date | None
    uses: int
    rating_average: float | None
    rating_count: int
    reasons: list[Reason] = field(default_factory=list)

    @property
    def codes(self) -> list[str]:
        return [reason.code for reason in self.reasons]


def _title_key(title: str) -> str:
    return re.sub(r"\s+", " ", title).strip().casefold()


def _newest(assets: list[CandidateAsset]) -> CandidateAsset:
    return max(assets, key=lambda a: (a.created_at, a.id))


def _most_history(assets: list[CandidateAsset], history: Mapping[int, tuple[int, ...]]) -> CandidateAsset:
    """Of identical items, the one to keep: the most history (uses, ratings, deck inclusions),
    then the original (the oldest), never simply the newest copy."""
    return max(assets, key=lambda a: (*history.get(a.id, ()), -a.created_at.timestamp(), -a.id))


def parse_unused_days(args: Mapping[str, str]) -> int:
    """The `unused_days` argument of the retirement page and API (range checked by retirement_candidates)."""
    try:
        return int(args.get("unused_days") or DEFAULT_UNUSED_DAYS)
    except ValueError:
        raise InvalidInput("unused_days must be a whole number of days.", {"unused_days": "Not a number."},
                           status=400) from None


def retirement_candidates(unused_days: int = DEFAULT_UNUSED_DAYS, today: date | None = None,
                          reason: str | None = None) -> list[Candidate]:
    """Published items worth retiring, each with why; most reasons first, then
    the longest unused. `reason` keeps only candidates with that reason code."""
    if not 1 <= unused_days <= 3650:
        raise InvalidInput("unused_days is between 1 and 3650.", {"unused_days": "Out of range."}, status=400)
    if reason is not None and reason not in REASON_CODES:
        raise InvalidInput(f"reason is one of {', '.join(REASON_CODES)}.", {"reason": "Unknown reason."}, status=400)
    today = today or date.today()
    assets = [
        CandidateAsset(asset_id, title, created_at, expires_on, sha256,
                       CandidateOwner(email, name or "") if email is not None else None, review_by,
                       (verified_at or published_at or created_at).date())
        for asset_id, title, created_at, expires_on, sha256, email, name, review_by, verified_at, published_at
        in db.session.execute(
            select(Asset.id, Asset.title, Asset.created_at, Asset.expires_on, AssetVersion.sha256, User.email,
                   User.name, Asset.review_by, Asset.verified_at, Asset.published_at)
            .outerjoin(AssetVersion, AssetVersion.id == Asset.current_version_id)
            .outerjoin(User, User.id == Asset.owner_id)
            .where(Asset.status == "published"))
    ]
    all_totals = usage_totals()
    totals = {asset_id: (used.events, used.last_used_on) for asset_id, used in all_totals.items()}
    ratings = {asset_id: (round(float(average), 2), count) for asset_id, average, count in db.session.execute(
        select(Rating.asset_id, func.avg(Rating.stars), func.count()).group_by(Rating.asset_id))}
    history = {asset.id: (all_totals[asset.id].events if asset.id in all_totals else 0,
                          ratings.get(asset.id, (None, 0))[1],
                          all_totals[asset.id].per_kind().get(UsageKind.DECK_INCLUSION.value, 0) if asset.id in all_totals else 0)
               for asset in assets}
    same_title: dict[str, list[CandidateAsset]] = defaultdict(list)
    same_file: dict[str, list[CandidateAsset]] = defaultdict(list)
    for asset in assets:
        same_title[_title_key(asset.title)].append(asset)
        if asset.sha256 is not None:
            same_file[asset.sha256].append(asset)

    candidates = []
    for asset in assets:
        uses, last_used_on = totals.get(asset.id, (0, None))
        average, count = ratings.get(asset.id, (None, 0))
        candidate = Candidate(asset, (today - asset.created_at.date()).days, last_used_on, uses, average, count)
        reasons = candidate.reasons
        if last_used_on is None and candidate.age_days >= unused_days:
            reasons.append(Reason("unused", f"Never used in its {plural(candidate.age_days, 'day')}"))
        elif last_used_on is not None and (today - last_used_on).days >= unused_days:
            reasons.append(Reason("unused", f"Not used in {plural((today - last_used_on).days, 'day')} "
                                            f"(last on {last_used_on.isoformat()})"))
        if asset.expires_on is not None and asset.expires_on < today:
            reasons.append(Reason("expired", f"Expired on {asset.expires_on.isoformat()}"))
        if average is not None and average <= LOW_RATING and uses <= LOW_USE:
            reasons.append(Reason("low_rated_low_use", f"Rated {average:.1f} by {count}, "
                                                       f"used {uses} time{'' if uses == 1 else 's'}"))
        newer = _newest(same_title[_title_key(asset.title)])
        if newer is not asset:
            reasons.append(Reason("superseded", f"Superseded by the newer “{newer.title}” (#{newer.id})", newer.id))
        twins = same_file.get(asset.sha256, []) if asset.sha256 is not None else []
        kept = _most_history(twins, history) if len(twins) > 1 else asset
        if kept is not asset:
            reasons.append(Reason("duplicate", f"Same file as “{kept.title}” (#{kept.id}), which has more history",
                                  kept.id))
        if asset.review_by is not None and asset.review_by < today:
            reasons.append(Reason("unverified", f"Not verified since {asset.last_verified_on.isoformat()} "
                                                f"(review was due {asset.review_by.isoformat()})"))
        if reasons and (reason is None or reason in candidate.codes):
            candidates.append(candidate)
    candidates.sort(key=lambda c: (-len(c.reasons), c.last_used_on or date.min, c.asset.id))
    return candidates


def retire_selected(user: User, asset_ids: Iterable, reason: str) -> int:
    """Retire the chosen items with one reason (audited per item, reversible)."""
    try:
        ids = sorted({whole_number(asset_id) for asset_id in asset_ids})
    except (TypeError, ValueError):
        raise InvalidInput("asset_ids must be a list of item ids.", {"asset_ids": "Not ids."}, status=400) from None
    if not ids:
        raise InvalidInput("Select at least one item to retire.", {"asset_ids": "Nothing selected."})
    assets = list(db.session.scalars(select(Asset).where(Asset.id.in_(ids))))
    unknown = sorted(set(ids) - {asset.id for asset in assets})
    if unknown:
        raise InvalidInput(f"Unknown item ids: {', '.join(map(str, unknown))}. Nothing was retired.",
                           {"asset_ids": "Unknown ids."}, status=404)
    return retire_assets(assets, user, reason)


def recent_retirements(limit: int | None = 50, asset_id: int | None = None) -> list[RetirementEvent]:
    """The audit trail: who retired or restored what, when and why; newest first."""
    query = (select(RetirementEvent).options(joinedload(RetirementEvent.user), joinedload(RetirementEvent.asset))
             .order_by(RetirementEvent.created_at.desc(), RetirementEvent.id.desc()).limit(limit))
    if asset_id is not None:
        query = query.where(RetirementEvent.asset_id == asset_id)
    return list(db.session.scalars(query))


# --- the expiry job --------------------------------------------------------------------

@dataclass
class ExpiryReport:
    retired: list[int] = field(default_factory=list)
    warned: list[int] = field(default_factory=list)
    emails_sent: int = 0


def run_expiry(settings: Settings, today: date | None = None) -> ExpiryReport:
    """Retire published items past their expiry date; warn each owner once,
    `expiry_warning_days` before, in the app and (when SMTP is set) by email."""
    today = today or utcnow().date()
    report = ExpiryReport()
    expired = list(db.session.scalars(
        select(Asset).where(Asset.status == "published", Asset.expires_on < today).order_by(Asset.id)))
    by_date: dict[date, list[Asset]] = defaultdict(list)
    for asset in expired:
        by_date[asset.expires_on].append(asset)
    for expires_on, assets in sorted(by_date.items()):
        retire_assets(assets, None, f"Expired on {expires_on.isoformat()} (retired by the expiry job)")
        report.retired.extend(asset.id for asset in assets)

    horizon = today + timedelta(days=settings.expiry_warning_days)
    due = list(db.session.scalars(
        select(Asset).options(joinedload(Asset.owner))
        .where(Asset.status == "published", Asset.expires_on >= today, Asset.expires_on <= horizon,
               (Asset.expiry_warned_for.is_(None)) | (Asset.expiry_warned_for != Asset.expires_on))
        .order_by(Asset.expires_on, Asset.id)))
    for asset in due:
        days = (asset.expires_on - today).days
        when = "today" if days == 0 else f"in {days} day{'' if days == 1 else 's'}"
        message = (f"“{asset.title}” expires on {asset.expires_on.isoformat()} ({when}) and will then be retired. "
                   "Publish a new version or change its expiry date to keep it.")
        asset.expiry_warned_for = asset.expires_on
        report.warned.append(asset.id)
        if asset.owner is None:
            continue
        notify(asset.owner.id, message, link=f"/assets/{asset.id}")
        db.session.commit()
        if settings.smtp_host and email(settings, asset.owner.email, f"Expiring soon: {asset.title}", message):
            report.emails_sent += 1
    db.session.commit()
    return report

